import type { Kysely } from 'kysely';

/**
 * Whether a mailbox is listening for new mail right now (issue 20): `live` (an IMAP IDLE session is open),
 * `polling` (the server has no IDLE: checked on an adaptive interval), `waiting` (connection lost, backing
 * off, or no worker holds it), null (never listened). Written by the worker holding the mailbox on a change
 * of state only, never on lease renewal; the API also treats `live`/`polling` without a valid lease as waiting.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('connections').addColumn('listening', 'text').execute();
  await db.schema.alterTable('connections').addColumn('listening_since', 'bigint').execute();
  // Renewal is `update leases set expires_at = ? where holder = ?`: one statement per worker per interval.
  await db.schema.createIndex('leases_holder_idx').on('leases').column('holder').execute();
}
