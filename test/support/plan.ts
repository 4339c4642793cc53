import type { CompiledQuery, Kysely } from 'kysely';

/** SQLite: the lines of `explain query plan` for a compiled statement (its `detail` column). */
export async function sqlitePlan(db: Kysely<any>, q: CompiledQuery): Promise<string[]> {
  const rows = (await db.executeQuery<{ detail: string }>({ sql: `explain query plan ${q.sql}`, parameters: q.parameters, query: q.query, queryId: q.queryId })).rows;
  return rows.map((r) => r.detail);
}
