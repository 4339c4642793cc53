import { PostgresAdapter, sql, type Kysely } from 'kysely';

/**
 * PostgreSQL: `events` pages keep half their room free (fillfactor 50) for the one update every event
 * gets, its publication (`published_at`, in no index: webhooks' fan-out, a batch of up to 200 in one
 * statement). Packed full, the new version of a row went to another page: a new entry in each of the
 * table's four indexes (seq, id, subject, account/created) per event. With room on its page it is a HOT
 * update (the indexes untouched).
 *
 * Measured (a copy of the table and its indexes, 20,000 events, updated 200 per statement as the fan-out
 * does, backend CPU from /proc): fillfactor 100: 20.5 us an event (~2% HOT), 70: 11.0, 60: 7.5, 50: 3.5-4.5
 * (all HOT). The table takes about twice the pages (events are kept for the log's retention only).
 * Applies to pages written from now on (existing ones are not rewritten). SQLite: nothing to do.
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`alter table events set (fillfactor = 50)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`alter table events reset (fillfactor)`.execute(db);
}
