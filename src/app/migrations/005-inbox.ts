import { sql, type Kysely } from 'kysely';
import { createMessageSearch, dialectOf, indexMessage } from '../../features/inbox/search.js';
import { searchDocument } from '../../features/inbox/domain/filters.js';
import { readJson, shapes } from '../../platform/database/json.js';

/**
 * Conversations inbox: members of restricted inboxes (users and teams), routing rules per team address
 * (with the round-robin pointer), allow/deny lists, the conversation activity (comments, assignments
 * with their reasons, status changes, moves), message search (see store/inbox-search.ts), and the
 * indexes behind the list filters.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('inbox_members')
    .addColumn('inbox_id', 'text', (c) => c.notNull().references('inboxes.id'))
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('member_type', 'text', (c) => c.notNull()) // 'user' | 'team'
    .addColumn('member_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('inbox_members_pk', ['inbox_id', 'member_type', 'member_id'])
    .execute();
  await db.schema.createIndex('inbox_members_member_idx').on('inbox_members').columns(['account_id', 'member_type', 'member_id']).execute();

  await db.schema
    .createTable('routing_rules')
    .addColumn('connection_id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('inbox_id', 'text', (c) => c.notNull())
    .addColumn('rule', 'text', (c) => c.notNull().defaultTo('{"kind":"none"}'))
    .addColumn('rr_last_user_id', 'text')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_by', 'text')
    .execute();
  await db.schema.createIndex('routing_rules_inbox_idx').on('routing_rules').columns(['inbox_id']).execute();

  // Open conversations a routing rule could not give to anyone (nobody eligible, the assignee left):
  // retried every minute by the inbox.route_backlog job until someone is eligible.
  await db.schema
    .createTable('routing_backlog')
    .addColumn('conversation_id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('inbox_id', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('since', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('routing_backlog_inbox_idx').on('routing_backlog').columns(['inbox_id', 'since']).execute();

  await db.schema
    .createTable('inbox_sender_lists')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('inbox_id', 'text', (c) => c.notNull())
    .addColumn('list', 'text', (c) => c.notNull()) // 'allow' | 'deny'
    .addColumn('pattern', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addUniqueConstraint('inbox_sender_lists_uq', ['inbox_id', 'list', 'pattern'])
    .execute();

  await db.schema
    .createTable('conversation_activity')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('conversation_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull()) // comment | assignment | status | move | spam
    .addColumn('actor_user_id', 'text')
    .addColumn('data', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('conversation_activity_conv_idx').on('conversation_activity').columns(['conversation_id', 'created_at']).execute();

  // List filters: every status but spam ("all"), by contact, by team address; unassigning a user's conversations.
  await db.schema.createIndex('conversations_inbox_recent_idx').on('conversations').columns(['inbox_id', 'last_message_at', 'id']).execute();
  await db.schema.createIndex('conversations_contact_idx').on('conversations').columns(['inbox_id', 'contact_id', 'last_message_at']).execute();
  await db.schema.createIndex('conversations_channel_idx').on('conversations').columns(['inbox_id', 'connection_id', 'last_message_at']).execute();
  await db.schema.createIndex('conversations_assignee_user_idx').on('conversations').columns(['assignee_id', 'status']).execute();
  // Waking snoozed conversations whose time has come (done when an inbox is read): only snoozed rows.
  await db.schema.createIndex('conversations_snoozed_idx').on('conversations').columns(['inbox_id', 'snoozed_until']).where(sql.ref('status'), '=', 'snoozed').execute();

  await createMessageSearch(db);
  // Messages stored before this migration (none in a new installation) get their search documents.
  const dialect = dialectOf(db);
  let after = '';
  for (;;) {
    const rows = (await db
      .selectFrom('messages')
      .select(['id', 'account_id', 'subject', 'from_address', 'from_name', 'to', 'cc', 'text_body'])
      .where('id', '>', after)
      .orderBy('id')
      .limit(500)
      .execute()) as Array<{ id: string; account_id: string; subject: string; from_address: string | null; from_name: string | null; to: string; cc: string; text_body: string | null }>;
    if (!rows.length) break;
    for (const r of rows) {
      const parse = (s: string) => readJson('messages.to', s, shapes.mailboxes, []);
      const doc = searchDocument({ subject: r.subject, from: r.from_address ? { name: r.from_name ?? '', address: r.from_address } : null, to: parse(r.to), cc: parse(r.cc), text: r.text_body });
      await indexMessage(db, dialect, { messageId: r.id, accountId: r.account_id, doc });
    }
    after = rows[rows.length - 1]!.id;
  }
}
