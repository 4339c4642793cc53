import { PostgresAdapter, sql, type Kysely } from 'kysely';

/**
 * The contacts search (API under 50 agents, issue 20) matched every word with `search_text LIKE '%word%'`
 * over all of the account's contacts. This indexes the stored search text by trigram so a word of three
 * characters or more finds its candidates through an index; the LIKE stays as the exact condition.
 *
 * SQLite: an FTS5 trigram table over contacts.search_text (external content, keyed by the contact's rowid),
 * kept in sync by triggers on insert, delete and any update of search_text, so every writer (commands,
 * import, company renames, data migrations) keeps it current. Filled from the existing rows here.
 *
 * PostgreSQL: a GIN trigram index (pg_trgm) on contacts.search_text, which LIKE '%word%' uses by itself. The
 * extension is created in pg_catalog (database-wide, visible from every schema; a schema dropped later
 * cannot take it along) when the role may; without pg_trgm the search keeps working without the index.
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`savepoint contact_trgm`.execute(db);
    try {
      await sql`create extension if not exists pg_trgm schema pg_catalog`.execute(db);
      await sql`release savepoint contact_trgm`.execute(db);
    } catch {
      // Not available to this role (or created meanwhile by a parallel migration): use it if it is there.
      await sql`rollback to savepoint contact_trgm`.execute(db);
    }
    const ops = await sql<{ n: number }>`select count(*)::int as n from pg_opclass where opcname = 'gin_trgm_ops' and pg_opclass_is_visible(oid)`.execute(db);
    if (ops.rows[0]?.n) await sql`create index contacts_search_trgm_idx on contacts using gin (search_text gin_trgm_ops)`.execute(db);
    return;
  }
  await sql`create virtual table contacts_fts using fts5(search_text, content = 'contacts', tokenize = 'trigram')`.execute(db);
  await sql`create trigger contacts_fts_insert after insert on contacts begin
    insert into contacts_fts(rowid, search_text) values (new.rowid, new.search_text);
  end`.execute(db);
  await sql`create trigger contacts_fts_delete after delete on contacts begin
    insert into contacts_fts(contacts_fts, rowid, search_text) values ('delete', old.rowid, old.search_text);
  end`.execute(db);
  await sql`create trigger contacts_fts_update after update of search_text on contacts begin
    insert into contacts_fts(contacts_fts, rowid, search_text) values ('delete', old.rowid, old.search_text);
    insert into contacts_fts(rowid, search_text) values (new.rowid, new.search_text);
  end`.execute(db);
  await sql`insert into contacts_fts(contacts_fts) values ('rebuild')`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`drop index if exists contacts_search_trgm_idx`.execute(db);
    return;
  }
  for (const t of ['contacts_fts_insert', 'contacts_fts_delete', 'contacts_fts_update']) await sql`drop trigger if exists ${sql.id(t)}`.execute(db);
  await sql`drop table if exists contacts_fts`.execute(db);
}
