import { sql, type Kysely } from 'kysely';
import { PostgresAdapter } from 'kysely';

/**
 * An email sent from a contact's record outlives the contact: deleting the contact (an erasure) keeps the
 * email for its author and clears `personal_emails.contact_id`, which becomes nullable. PostgreSQL drops
 * the constraint; SQLite cannot, so the table is rebuilt with the same columns, defaults and indexes
 * (nothing references it by a foreign key). Also an index on `contact_id` (the contact deletion and the
 * contact's email list look it up).
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`alter table personal_emails alter column contact_id drop not null`.execute(db);
  } else {
    await db.schema
      .createTable('personal_emails_011')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('connection_id', 'text', (c) => c.notNull())
      .addColumn('outbox_id', 'text', (c) => c.notNull().unique())
      .addColumn('conversation_id', 'text')
      .addColumn('contact_id', 'text') // the record it was written from; null once that contact is deleted
      .addColumn('company_id', 'text')
      .addColumn('subject', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('logged', 'integer', (c) => c.notNull())
      .addColumn('log_contact_ids', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('track_opens', 'integer', (c) => c.notNull())
      .addColumn('track_clicks', 'integer', (c) => c.notNull())
      .addColumn('link_count', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('replaced_by', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    const columns = sql.raw(
      ['id', 'account_id', 'user_id', 'connection_id', 'outbox_id', 'conversation_id', 'contact_id', 'company_id', 'subject', 'logged', 'log_contact_ids', 'track_opens', 'track_clicks', 'link_count', 'replaced_by', 'created_at'].map((c) => `"${c}"`).join(', '),
    );
    await sql`insert into personal_emails_011 (${columns}) select ${columns} from personal_emails`.execute(db);
    await db.schema.dropTable('personal_emails').execute();
    await db.schema.alterTable('personal_emails_011').renameTo('personal_emails').execute();
    await db.schema.createIndex('personal_emails_user_idx').on('personal_emails').columns(['user_id', 'created_at']).execute();
    await db.schema.createIndex('personal_emails_conversation_idx').on('personal_emails').columns(['conversation_id']).execute();
  }
  await db.schema.createIndex('personal_emails_contact_idx').on('personal_emails').columns(['contact_id']).execute();
}
