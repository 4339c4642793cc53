import { PostgresAdapter, sql, type Kysely } from 'kysely';

/**
 * SQLite's search table (FTS5, migration 005) kept its own copy of every search document (subject,
 * participants and the whole folded body, ~20 KB for a 20 KB message) beside the index, and nothing reads
 * it back: searches ask the index for `message_id` under an account. Contentless (`content=''`) keeps
 * the index and the two unindexed columns (`contentless_unindexed`, SQLite 3.47+) and drops the copy, so
 * the database holds message text once less; rows can still be deleted (`contentless_delete`).
 * Measured on this machine (2,000 documents of ~20 KB, transactions of 10-40): 0.29 -> 0.23 ms of CPU a
 * document. Existing documents are indexed again into the new table (a few minutes per million messages).
 * PostgreSQL (a plain table with a GIN index): no change.
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return;
  // The old table is renamed and the new one created under the final name: renaming (or dropping) a
  // contentless table with unindexed columns leaves its `_content` shadow table behind (SQLite 3.53.2).
  await sql`alter table message_search rename to message_search_before_035`.execute(db);
  await sql`create virtual table message_search using fts5(doc, message_id unindexed, account_id unindexed, content = '', contentless_delete = 1, contentless_unindexed = 1, tokenize = 'unicode61 remove_diacritics 2')`.execute(db);
  await sql`insert into message_search (rowid, doc, message_id, account_id) select rowid, doc, message_id, account_id from message_search_before_035`.execute(db);
  await sql`drop table message_search_before_035`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  // The documents are not stored any more; a table with content cannot be refilled from the index.
  if (db.getExecutor().adapter instanceof PostgresAdapter) return;
  throw new Error('035-sqlite-contentless-search cannot be undone: restore a backup taken before it');
}
