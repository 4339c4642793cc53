/**
 * Kysely's SQLite driver prepares every query afresh; on the ingest path that native prepare was the
 * largest single cost (about a third of the main thread during an IMAP sync). This wraps a
 * better-sqlite3 connection so that the same SQL text reuses its prepared statement (least recently
 * used first out). A statement still being iterated (a streamed select) is never handed out twice:
 * that caller gets a fresh one.
 */
import type SQLite from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

export function cachingSqlite(conn: SQLite.Database, capacity = 500): SqliteDatabase & { cached(): number } {
  const cache = new Map<string, SQLite.Statement>();
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
      const stmt0 = conn.prepare(sqlText);
      const stmt = process.env.SQLPROF ? profiled(sqlText, stmt0) : stmt0;
      if (hit) return stmt; // the cached one is busy iterating
      cache.set(sqlText, stmt);
      if (cache.size > capacity) cache.delete(cache.keys().next().value!);
      return stmt;
    },
    cached: () => cache.size,
  };
}

export const sqlProfile = new Map<string, { n: number; ms: number }>();
function profiled(text: string, st: SQLite.Statement): SQLite.Statement {
  const key = text.replace(/\(\?(, \?)*\)/g, '(?..)').slice(0, 160);
  const rec = (t0: number) => { const e = sqlProfile.get(key) ?? { n: 0, ms: 0 }; e.n++; e.ms += performance.now() - t0; sqlProfile.set(key, e); };
  return new Proxy(st, { get(target, prop) {
    const v = (target as any)[prop];
    if (prop === 'all' || prop === 'run') return (...a: unknown[]) => { const t0 = performance.now(); try { return v.apply(target, a); } finally { rec(t0); } };
    return typeof v === 'function' ? v.bind(target) : v;
  } });
}
