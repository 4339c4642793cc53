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
      const stmt = conn.prepare(sqlText);
      if (hit) return stmt; // the cached one is busy iterating
      cache.set(sqlText, stmt);
      if (cache.size > capacity) cache.delete(cache.keys().next().value!);
      return stmt;
    },
    cached: () => cache.size,
  };
}

