import type { Kysely } from 'kysely';

/**
 * A contact's own time zone (issue 15: sequence steps are computed in the contact's zone, else the owner's).
 * An IANA name such as Asia/Kathmandu, checked when written; null when unknown.
 *
 * And personal emails by outbox id: tracked sequence emails are personal emails too (their tracking id),
 * found from the step's outbox row for the per-step open and click figures (and when the sent copy is logged).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('contacts').addColumn('time_zone', 'text').execute();
  await db.schema.createIndex('personal_emails_outbox_idx').on('personal_emails').columns(['outbox_id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('personal_emails_outbox_idx').execute();
  await db.schema.alterTable('contacts').dropColumn('time_zone').execute();
}
