import { PostgresAdapter, sql, type Kysely } from 'kysely';

/**
 * PostgreSQL compresses a long value before it stores it out of line (TOAST), by default with pglz. A message's
 * text body is the one long column of the tables mail is written to; lz4 compresses it several times faster
 * for about the same size. Measured on this machine, 20 KB bodies, one row per insert: 0.7 ms a row with
 * pglz, 0.35 with lz4 (and 0.3 for the same insert of a short value): on the inbound SMTP load, PostgreSQL's
 * own CPU is the bottleneck of a 2-core machine. Only new values are compressed with lz4; stored ones stay
 * as they are, and both read alike. A server built without lz4 (or older than 14) keeps pglz. SQLite: no change.
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`do $$ begin
    execute 'alter table messages alter column text_body set compression lz4';
  exception when feature_not_supported or syntax_error or invalid_parameter_value then
    raise notice 'lz4 compression is not available on this PostgreSQL server: message bodies stay compressed with pglz';
  end $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`do $$ begin
    execute 'alter table messages alter column text_body set compression default';
  exception when feature_not_supported or syntax_error then null;
  end $$`.execute(db);
}
