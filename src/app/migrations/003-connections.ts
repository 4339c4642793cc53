import { sql, type Kysely } from 'kysely';

/**
 * Conversations inboxes and email connections. The partial unique index on (account_id, address_key)
 * over live connections is the database's backing of rules 1-3: one live connection per address per
 * account, whatever its type, so two racing connects can never both win.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('inboxes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('access', 'text', (c) => c.notNull().defaultTo('everyone'))
    .addColumn('settings', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('deleted_at', 'bigint')
    .execute();
  await db.schema.createIndex('inboxes_account_idx').on('inboxes').columns(['account_id', 'deleted_at']).execute();

  await db.schema
    .createTable('connections')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('address_key', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('inbox_id', 'text', (c) => c.references('inboxes.id'))
    .addColumn('transport', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('stage', 'text')
    .addColumn('stage_started_at', 'bigint')
    .addColumn('progress_done', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('progress_total', 'integer')
    .addColumn('failure_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error_code', 'text')
    .addColumn('last_error_message', 'text')
    .addColumn('last_error_at', 'bigint')
    .addColumn('imap_host', 'text')
    .addColumn('imap_port', 'integer')
    .addColumn('imap_tls', 'text')
    .addColumn('imap_username', 'text')
    .addColumn('smtp_host', 'text')
    .addColumn('smtp_port', 'integer')
    .addColumn('smtp_tls', 'text')
    .addColumn('smtp_username', 'text')
    .addColumn('credentials', 'text')
    .addColumn('sent_folder', 'text')
    .addColumn('folders', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('sync_window_days', 'integer')
    .addColumn('is_default_from', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('use_for_meetings', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('forwarding_address', 'text', (c) => c.unique())
    .addColumn('sender_name_mode', 'text')
    .addColumn('sender_name_custom', 'text')
    .addColumn('signature', 'text')
    .addColumn('send_limit_day', 'integer')
    .addColumn('send_limit_minute', 'integer')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('disconnected_at', 'bigint')
    .addColumn('disconnected_by', 'text')
    .execute();
  await db.schema
    .createIndex('connections_live_address_uq')
    .on('connections')
    .columns(['account_id', 'address_key'])
    .unique()
    .where(sql.ref('disconnected_at'), 'is', null)
    .execute();
  await db.schema
    .createIndex('connections_meetings_uq')
    .on('connections')
    .columns(['user_id'])
    .unique()
    .where(sql.ref('use_for_meetings'), '=', 1)
    .where(sql.ref('disconnected_at'), 'is', null)
    .execute();
  await db.schema
    .createIndex('connections_default_from_uq')
    .on('connections')
    .columns(['user_id'])
    .unique()
    .where(sql.ref('is_default_from'), '=', 1)
    .where(sql.ref('disconnected_at'), 'is', null)
    .execute();
  await db.schema.createIndex('connections_account_idx').on('connections').columns(['account_id', 'type', 'state']).execute();
  await db.schema.createIndex('connections_inbox_idx').on('connections').columns(['inbox_id']).execute();
}
