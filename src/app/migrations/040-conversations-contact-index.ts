import { sql, type Kysely } from 'kysely';

/**
 * Conversations by contact, for those linked to one: `conversations (contact_id) where contact_id is not
 * null`. Deleting a contact unlinks its conversations (ingest, unlinkDeletedContact): the only index with
 * `contact_id` leads with `inbox_id` (the inbox list's filter), which personal conversations do not have,
 * so each deletion scanned every conversation of the installation (on SQLite on the event loop's thread; a
 * clean-up of a thousand contacts, a thousand scans). Partial: conversations without a contact (mail from
 * strangers, most of a support inbox's) write no entry.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index conversations_linked_contact_idx on conversations (contact_id) where contact_id is not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('conversations_linked_contact_idx').execute();
}
