/**
 * Opens the database: embedded SQLite under the data folder by default, PostgreSQL when
 * DATABASE_URL is set. Both run the same migrations and the same typed queries.
 *
 * Portable conventions used by every table:
 *  - ids are text (UUID v4 or prefixed random ids);
 *  - timestamps are integers, milliseconds since the epoch (`bigint` on PostgreSQL, parsed to number);
 *  - booleans are integers 0/1;
 *  - JSON documents are text.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type SQLiteModule from 'better-sqlite3';
import { cachingSqlite } from './statement-cache.js';
import { prepareStatements } from './pg-prepared.js';
import { startWalCheckpointer } from './wal-checkpointer.js';
import type pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { PostgresInListAsArray } from './pg-in-list.js';
import { ImmediateTransactionSqliteDialect } from './sqlite-dialect.js';
import type { DB } from './schema.js';

// Loaded with require(), not import: Node's ESM loader lexes a CommonJS module's source for its export
// names (and starts its lexer for the first one), a cost every command start paid (issue 18). The one
// place the driver is loaded; backup.ts uses it from here.
export const SQLite = createRequire(import.meta.url)('better-sqlite3') as typeof SQLiteModule;

/** The pg driver, loaded when a PostgreSQL database is opened (SQLite processes never load it). */
async function loadPg(): Promise<typeof pg> {
  const { default: driver } = await import('pg');
  // PostgreSQL returns int8 as strings by default; our ints are epoch ms and counters, well within 2^53.
  driver.types.setTypeParser(20, (v) => Number.parseInt(v, 10));
  return driver;
}

export type Dialect = 'sqlite' | 'postgres';

export interface Database {
  db: Kysely<DB>;
  dialect: Dialect;
  /** Human description for logs, never including a password. */
  describe: string;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** postgres://... selects PostgreSQL; otherwise SQLite. */
  databaseUrl?: string;
  /** SQLite file path, or ':memory:'. Default `<dataDir>/mailroom.sqlite`. */
  sqlitePath?: string;
  dataDir?: string;
  /** PostgreSQL schema to use (tests create one per file). */
  pgSchema?: string;
  /** PostgreSQL: connections in the pool (default DEFAULT_PG_POOL_SIZE). */
  poolSize?: number;
  /** SQLite: how long a write waits for another process's write lock (default 5000 ms). */
  sqliteBusyTimeoutMs?: number;
}

/** PostgreSQL connections per process (what `mailroom serve` and the CLI open). */
export const DEFAULT_PG_POOL_SIZE = 10;

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable url)';
  }
}

export async function openDatabase(opts: OpenOptions = {}): Promise<Database> {
  if (opts.databaseUrl && /^postgres(ql)?:\/\//.test(opts.databaseUrl)) {
    const schema = opts.pgSchema;
    const pg = await loadPg();
    const pool = new pg.Pool({
      connectionString: opts.databaseUrl,
      max: opts.poolSize ?? DEFAULT_PG_POOL_SIZE,
      ...(schema ? { options: `-c search_path=${schema}` } : {}),
    });
    // Data statements are prepared once per connection (pg-prepared.ts), as SQLite's are (statement-cache.ts).
    prepareStatements(pool);
    if (schema) {
      const c = await pool.connect();
      try {
        await c.query(`CREATE SCHEMA IF NOT EXISTS "${schema.replace(/"/g, '')}"`);
      } finally {
        c.release();
      }
    }
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }), plugins: [new PostgresInListAsArray()] });
    return {
      db,
      dialect: 'postgres',
      describe: `PostgreSQL ${redactUrl(opts.databaseUrl)}${schema ? ` schema ${schema}` : ''}`,
      close: () => db.destroy(),
    };
  }
  const dataDir = opts.dataDir ?? './data';
  const file = opts.sqlitePath ?? path.join(dataDir, 'mailroom.sqlite');
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const conn = new SQLite(file);
  conn.pragma('journal_mode = WAL');
  conn.pragma('synchronous = NORMAL');
  conn.pragma('foreign_keys = ON');
  // How long a write waits for another process's write lock (write transactions begin IMMEDIATE, see
  // sqlite-dialect.ts) before failing with SQLITE_BUSY.
  conn.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.sqliteBusyTimeoutMs ?? 5000))}`);
  // Checkpoints run in a worker (see wal-checkpointer.ts); the automatic one, on the committing thread,
  // only if the WAL reaches 40 MB anyway. After a checkpoint the WAL file is cut back to 64 MB at most.
  const checkpointer = file === ':memory:' ? null : startWalCheckpointer(file);
  conn.pragma(`wal_autocheckpoint = ${checkpointer ? 10_000 : 1000}`);
  conn.pragma('journal_size_limit = 67108864');
  // The query planner's statistics, kept as SQLite advises for long-lived connections: analysed where
  // missing or stale at open (bounded work), then again every hour (PostgreSQL's autovacuum does this there).
  conn.pragma('optimize = 0x10002');
  const optimizer = setInterval(() => {
    try {
      conn.pragma('optimize');
    } catch {
      // busy or closing: the next hour will do
    }
  }, 3600_000);
  optimizer.unref();
  const db = new Kysely<DB>({ dialect: new ImmediateTransactionSqliteDialect({ database: cachingSqlite(conn) }) });
  return {
    db,
    dialect: 'sqlite',
    describe: `SQLite ${file}`,
    close: async () => {
      clearInterval(optimizer);
      await checkpointer?.stop();
      await db.destroy();
    },
  };
}

/** True when an error is a unique-constraint violation on either database. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  if (!e) return false;
  return e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export { sql };
