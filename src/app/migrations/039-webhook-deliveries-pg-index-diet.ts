import { PostgresAdapter, sql, type Kysely } from 'kysely';

/**
 * PostgreSQL: fewer index entries per webhook delivery (issue 17's throughput). Finishing a delivery
 * changes its `state`, which the partial indexes name: that update is never a HOT one, so it writes an
 * entry in every index whose predicate the new row meets, as the fan-out's insert does.
 *
 * - Unique on (endpoint_id, event_seq) instead of (endpoint_id, event_id): an event's seq and id name
 *   the same event (both unique), so the constraint is the same one, and this index is also the one the
 *   delivery log reads (an endpoint's deliveries newest event first), which replaces
 *   `webhook_deliveries_endpoint_seq_idx`: one index fewer for every write. The fan-out's insert names
 *   (endpoint_id, event_seq) as its conflict target.
 * - `webhook_deliveries_account_created_idx` (retention's look-up of finished deliveries) holds finished
 *   ones only: the fan-out's insert no longer writes it.
 * - Pages keep half their room (fillfactor 50, was 70): a delivery is written three times (fan-out,
 *   lease, outcome) and the lease, in no index, is HOT when it finds room on its page.
 *
 * Not done: the ordering index (the claim's look-up of an earlier pending delivery of the same subject)
 * made partial on pending deliveries: the claim's lease update, planned with the statistics of a nearly
 * empty table, then found its rows by walking that index instead of the primary key (~5 ms a delivery).
 *
 * Measured (a copy of the table, 20,000 deliveries as the pipeline writes them, 200 per statement:
 * insert, lease, outcome; server time): ~48 -> ~35-40 us a delivery. SQLite updates only the indexes whose columns
 * change (not `state` here) and keeps its unique constraint (a table constraint SQLite cannot drop): as
 * it was.
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`create unique index webhook_deliveries_endpoint_seq_uq on webhook_deliveries (endpoint_id, event_seq)`.execute(db);
  await sql`alter table webhook_deliveries drop constraint webhook_deliveries_endpoint_event_uq`.execute(db);
  await sql`drop index webhook_deliveries_endpoint_seq_idx`.execute(db);
  await sql`drop index webhook_deliveries_account_created_idx`.execute(db);
  await sql`create index webhook_deliveries_account_created_idx on webhook_deliveries (account_id, created_at) where state <> 'pending'`.execute(db);
  await sql`alter table webhook_deliveries set (fillfactor = 50)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`alter table webhook_deliveries set (fillfactor = 70)`.execute(db);
  await sql`drop index webhook_deliveries_account_created_idx`.execute(db);
  await sql`create index webhook_deliveries_account_created_idx on webhook_deliveries (account_id, created_at)`.execute(db);
  await sql`create index webhook_deliveries_endpoint_seq_idx on webhook_deliveries (endpoint_id, event_seq)`.execute(db);
  await sql`alter table webhook_deliveries add constraint webhook_deliveries_endpoint_event_uq unique (endpoint_id, event_id)`.execute(db);
  await sql`drop index webhook_deliveries_endpoint_seq_uq`.execute(db);
}
