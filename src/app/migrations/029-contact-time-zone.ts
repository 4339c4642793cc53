import type { Kysely } from 'kysely';

/**
 * A contact's own time zone (issue 15: sequence steps are computed in the contact's zone, else the owner's).
 * An IANA name such as Asia/Kathmandu, checked when written; null when unknown.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('contacts').addColumn('time_zone', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('contacts').dropColumn('time_zone').execute();
}
