import type { Kysely } from 'kysely';

/**
 * Personal email tools: per-user email preferences (log/track defaults, default font, signature, never-log
 * list), the account's logging rule, each user's BCC logging address, the emails users send from the CRM
 * (with their logging and tracking choices), their tracked links and tracking hits, and the associations
 * of logged personal conversations with contacts (replies inherit the first email's contacts and company).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('email_preferences')
    .addColumn('user_id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('log_emails', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('track_opens', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('track_clicks', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('font', 'text') // JSON {family, sizePx, color} or null (client default)
    .addColumn('signature', 'text') // HTML or null
    .addColumn('never_log', 'text', (c) => c.notNull().defaultTo('[]')) // JSON [{kind, value}]
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('account_email_settings')
    .addColumn('account_id', 'text', (c) => c.primaryKey())
    .addColumn('log_rule', 'text', (c) => c.notNull().defaultTo('replies_only')) // replies_only | all_known_contacts
    .addColumn('create_contacts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('never_log', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('logging_addresses')
    .addColumn('address', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('personal_emails')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('connection_id', 'text', (c) => c.notNull())
    .addColumn('outbox_id', 'text', (c) => c.notNull().unique())
    .addColumn('conversation_id', 'text')
    .addColumn('contact_id', 'text', (c) => c.notNull()) // the record it was written from
    .addColumn('company_id', 'text')
    .addColumn('subject', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('logged', 'integer', (c) => c.notNull())
    .addColumn('log_contact_ids', 'text', (c) => c.notNull().defaultTo('[]')) // JSON: contacts the email is logged to
    .addColumn('track_opens', 'integer', (c) => c.notNull())
    .addColumn('track_clicks', 'integer', (c) => c.notNull())
    .addColumn('link_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('replaced_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('personal_emails_user_idx').on('personal_emails').columns(['user_id', 'created_at']).execute();
  await db.schema.createIndex('personal_emails_conversation_idx').on('personal_emails').columns(['conversation_id']).execute();

  await db.schema
    .createTable('tracking_links')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('personal_email_id', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('tracking_links_email_idx').on('tracking_links').columns(['personal_email_id', 'position']).execute();

  await db.schema
    .createTable('tracking_hits')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('personal_email_id', 'text', (c) => c.notNull())
    .addColumn('link_id', 'text')
    .addColumn('kind', 'text', (c) => c.notNull()) // open | click
    .addColumn('occurred_at', 'bigint', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull()) // GET | HEAD | implied
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('flagged', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('flag_reasons', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('implied_by', 'text') // 'click' | 'reply' for opens inferred from them
    .addColumn('processed_at', 'bigint')
    .execute();
  // link_id last: the click-burst check (distinct links clicked in the last seconds) reads only the index.
  await db.schema.createIndex('tracking_hits_email_idx').on('tracking_hits').columns(['personal_email_id', 'kind', 'occurred_at', 'link_id']).execute();
  // Unprocessed hits, in id (time) order: new hits append at the end of the index instead of landing at random.
  await db.schema.createIndex('tracking_hits_pending_idx').on('tracking_hits').columns(['processed_at', 'id']).execute();

  await db.schema
    .createTable('logged_conversations')
    .addColumn('conversation_id', 'text', (c) => c.notNull())
    .addColumn('contact_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('company_id', 'text')
    .addColumn('personal_email_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('logged_conversations_pk', ['conversation_id', 'contact_id'])
    .execute();
  await db.schema.createIndex('logged_conversations_contact_idx').on('logged_conversations').columns(['contact_id']).execute();
}
