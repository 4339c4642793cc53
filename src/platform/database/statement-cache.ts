/**
 * Kysely's SQLite driver prepares every query afresh; on the ingest path that native prepare was the
 * largest single cost (about a third of the main thread during an IMAP sync). This wraps a
 * better-sqlite3 connection so that the same SQL text reuses its prepared statement (least recently
 * used first out). A statement still being iterated (a streamed select) is never handed out twice:
 * that caller gets a fresh one.
 *
 * Rows of `all` are read as arrays (better-sqlite3's raw mode) and made into objects by a function
 * compiled once per statement from its column names (an object literal, so every row of a statement
 * shares one shape). better-sqlite3 builds its row objects property by property, which cost about as much
 * as running the statement: the inbox list's 50 rows of 27 columns took 450 us of CPU, 260 us as arrays,
 * 250 us as arrays made into objects this way. The objects are the same: same keys in the same order (a
 * name given twice keeps its last value, as better-sqlite3 does), same values. A statement with a column
 * named `__proto__` keeps better-sqlite3's objects. A schema change that adds or drops a column under
 * a prepared `select *` (SQLite prepares it again by itself) is noticed by the row's length and the
 * names read again.
 */
import type SQLite from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

type RowBuilder = (row: unknown[]) => Record<string, unknown>;

/** A function making an array row into the object better-sqlite3 would give for these column names (null: keep its own). */
export function rowBuilder(names: readonly string[]): RowBuilder | null {
  if (names.includes('__proto__')) return null;
  const last = new Map<string, number>();
  for (const [i, n] of names.entries()) last.set(n, i);
  // Keys in order of first appearance (as better-sqlite3 sets them), each with its last value.
  const body = [...last].map(([n, i]) => `${JSON.stringify(n)}: r[${i}]`).join(', ');
  return new Function('r', `return {${body}};`) as RowBuilder;
}

/** A prepared statement whose `all` reads rows as arrays and builds the objects itself (see the header). */
function fastRows(stmt: SQLite.Statement): SqliteStatement & { readonly busy: boolean } {
  if (!stmt.reader) return stmt as unknown as SqliteStatement & { readonly busy: boolean };
  let width = -1;
  let build: RowBuilder | null = null;
  const names = () => {
    const cols = stmt.columns();
    width = cols.length;
    build = rowBuilder(cols.map((c) => c.name));
  };
  names();
  return {
    reader: true,
    get busy() {
      return stmt.busy;
    },
    all(parameters) {
      if (!build) return stmt.raw(false).all(parameters);
      const rows = stmt.raw(true).all(parameters) as unknown[][];
      if (rows.length && rows[0]!.length !== width) {
        names();
        if (!build) return stmt.raw(false).all(parameters);
      }
      return rows.map(build);
    },
    run: (parameters) => stmt.run(parameters),
    iterate: (parameters) => stmt.raw(false).iterate(parameters),
  };
}

export function cachingSqlite(conn: SQLite.Database, capacity = 500): SqliteDatabase & { cached(): number } {
  const cache = new Map<string, SqliteStatement & { readonly busy: boolean }>();
  return {
    close: () => {
      cache.clear();
      conn.close();
    },
    prepare(sqlText: string) {
      const hit = cache.get(sqlText);
      if (hit && !hit.busy) {
        // Re-insert: Map keeps insertion order, so the first key is the least recently used.
        cache.delete(sqlText);
        cache.set(sqlText, hit);
        return hit;
      }
      const stmt = fastRows(conn.prepare(sqlText));
      if (hit) return stmt; // the cached one is busy iterating
      cache.set(sqlText, stmt);
      if (cache.size > capacity) cache.delete(cache.keys().next().value!);
      return stmt;
    },
    cached: () => cache.size,
  };
}
