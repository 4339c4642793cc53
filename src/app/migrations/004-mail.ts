import { sql, type Kysely } from 'kysely';

/**
 * Mail: messages (one row per message per connection; raw bytes in the content-addressed blob store),
 * where each message sits on the server (folder, UIDVALIDITY, UID), sync checkpoints per folder,
 * conversations (team inbox threads and personal threads), the outbox, and inbound SMTP receipts.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('conversations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull()) // 'team' | 'personal'
    .addColumn('inbox_id', 'text')
    .addColumn('connection_id', 'text', (c) => c.notNull())
    .addColumn('owner_user_id', 'text')
    .addColumn('subject', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('base_subject', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('open'))
    .addColumn('snoozed_until', 'bigint')
    .addColumn('assignee_id', 'text')
    .addColumn('contact_id', 'text')
    .addColumn('participants', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('message_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_message_at', 'bigint', (c) => c.notNull())
    .addColumn('last_inbound_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('deleted_at', 'bigint')
    .execute();
  await db.schema.createIndex('conversations_inbox_list_idx').on('conversations').columns(['inbox_id', 'status', 'last_message_at', 'id']).execute();
  await db.schema.createIndex('conversations_assignee_idx').on('conversations').columns(['inbox_id', 'assignee_id', 'status', 'last_message_at']).execute();
  await db.schema.createIndex('conversations_connection_idx').on('conversations').columns(['connection_id', 'base_subject', 'last_message_at']).execute();

  await db.schema
    .createTable('messages')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('connection_id', 'text', (c) => c.notNull())
    .addColumn('conversation_id', 'text')
    .addColumn('dedupe_key', 'text', (c) => c.notNull())
    .addColumn('direction', 'text', (c) => c.notNull()) // 'inbound' | 'outbound'
    .addColumn('source', 'text', (c) => c.notNull()) // 'imap' | 'smtp' | 'import' | 'outbox'
    .addColumn('raw_sha256', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('message_id', 'text')
    .addColumn('in_reply_to', 'text')
    .addColumn('references', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('subject', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('from_address', 'text')
    .addColumn('from_name', 'text')
    .addColumn('to', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('cc', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('reply_to', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('sent_at', 'bigint')
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addColumn('text_body', 'text')
    .addColumn('html_sha256', 'text')
    .addColumn('snippet', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('attachments', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('classification', 'text', (c) => c.notNull().defaultTo('normal'))
    .addColumn('classification_detail', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('malformed', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('outbox_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('messages_dedupe_uq').on('messages').columns(['connection_id', 'dedupe_key']).unique().execute();
  await db.schema.createIndex('messages_conversation_idx').on('messages').columns(['conversation_id', 'received_at']).execute();
  // Threading lookups: parents by Message-ID, and stored replies naming a new message (reply before parent).
  await db.schema.createIndex('messages_connection_msgid_idx').on('messages').columns(['connection_id', 'message_id']).execute();
  await db.schema.createIndex('messages_connection_in_reply_to_idx').on('messages').columns(['connection_id', 'in_reply_to']).execute();
  await db.schema.createIndex('messages_outbox_idx').on('messages').columns(['outbox_id']).execute();

  await db.schema
    .createTable('message_locations')
    .addColumn('connection_id', 'text', (c) => c.notNull())
    .addColumn('folder', 'text', (c) => c.notNull())
    .addColumn('uidvalidity', 'bigint', (c) => c.notNull())
    .addColumn('uid', 'bigint', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('expunged_at', 'bigint')
    .addPrimaryKeyConstraint('message_locations_pk', ['connection_id', 'folder', 'uidvalidity', 'uid'])
    .execute();
  await db.schema.createIndex('message_locations_message_idx').on('message_locations').column('message_id').execute();

  await db.schema
    .createTable('folder_states')
    .addColumn('connection_id', 'text', (c) => c.notNull())
    .addColumn('folder', 'text', (c) => c.notNull())
    .addColumn('uidvalidity', 'bigint', (c) => c.notNull())
    .addColumn('highest_uid', 'bigint', (c) => c.notNull().defaultTo(0)) // newest UID stored (incremental from here)
    .addColumn('lowest_uid', 'bigint') // oldest UID reached by the newest-first initial sync
    .addColumn('window_floor_uid', 'bigint') // initial sync stops at this UID (start of the window)
    .addColumn('initial_done', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('highest_modseq', 'text')
    .addColumn('message_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_synced_at', 'bigint')
    .addPrimaryKeyConstraint('folder_states_pk', ['connection_id', 'folder'])
    .execute();

  await db.schema
    .createTable('skipped_messages')
    .addColumn('connection_id', 'text', (c) => c.notNull())
    .addColumn('folder', 'text', (c) => c.notNull())
    .addColumn('uidvalidity', 'bigint', (c) => c.notNull())
    .addColumn('uid', 'bigint', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('skipped_messages_pk', ['connection_id', 'folder', 'uidvalidity', 'uid'])
    .execute();

  await db.schema
    .createTable('outbox')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('connection_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('conversation_id', 'text')
    .addColumn('message_id', 'text', (c) => c.notNull().unique()) // our Message-ID header, stable across retries
    .addColumn('envelope', 'text', (c) => c.notNull()) // {from, to[]}
    .addColumn('raw_sha256', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull()) // scheduled | queued | sending | sent | failed | cancelled | uncertain
    .addColumn('send_at', 'bigint', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('attempt_started_at', 'bigint')
    .addColumn('sent_at', 'bigint')
    .addColumn('smtp_response', 'text')
    .addColumn('last_error', 'text')
    .addColumn('appended_to_sent', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('meta', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('outbox_connection_sent_idx').on('outbox').columns(['connection_id', 'sent_at']).execute();
  await db.schema.createIndex('outbox_state_idx').on('outbox').columns(['state', 'send_at']).execute();

  await sql`select 1`.execute(db);
}
