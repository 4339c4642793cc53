/**
 * Write transactions on SQLite begin IMMEDIATE: another connection that commits between a transaction's
 * read and its write can no longer make the write fail with SQLITE_BUSY_SNAPSHOT. Here the "other
 * process" is a second connection on the same file, with no busy timeout so that it fails at once
 * instead of waiting.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql, type Generated } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { ImmediateTransactionSqliteDialect } from './sqlite-dialect.js';
import { cachingSqlite } from './statement-cache.js';

interface T {
  items: { id: Generated<number>; n: number };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function files() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-immediate-'));
  dirs.push(dir);
  const file = path.join(dir, 'db.sqlite');
  const setup = new SQLite(file);
  setup.pragma('journal_mode = WAL');
  setup.exec('create table items (id integer primary key, n integer not null)');
  setup.close();
  const other = new SQLite(file);
  other.pragma('busy_timeout = 0');
  return { file, other };
}

function kysely(file: string, immediate: boolean) {
  const conn = new SQLite(file);
  conn.pragma('busy_timeout = 0');
  const database = cachingSqlite(conn);
  return new Kysely<T>({ dialect: immediate ? new ImmediateTransactionSqliteDialect({ database }) : new SqliteDialect({ database }) });
}

/** Reads inside a transaction, lets the other connection try to commit, then writes. */
async function readOtherCommitsWrite(db: Kysely<T>, other: SQLite.Database): Promise<{ otherError?: string }> {
  let otherError: string | undefined;
  await db.transaction().execute(async (trx) => {
    await trx.selectFrom('items').selectAll().execute();
    try {
      other.prepare('insert into items (n) values (1)').run();
    } catch (e) {
      otherError = (e as { code?: string }).code;
    }
    await trx.insertInto('items').values({ n: 2 }).execute();
  });
  return { otherError };
}

describe('SQLite write transactions', () => {
  it('deferred (plain Kysely) fails with SQLITE_BUSY_SNAPSHOT when another connection commits between read and write', async () => {
    const { file, other } = files();
    const db = kysely(file, false);
    await expect(readOtherCommitsWrite(db, other)).rejects.toMatchObject({ code: 'SQLITE_BUSY_SNAPSHOT' });
    await db.destroy();
    other.close();
  });

  it('begin immediate: the transaction holds the write lock from its start, so its own write always succeeds', async () => {
    const { file, other } = files();
    const db = kysely(file, true);
    const r = await readOtherCommitsWrite(db, other);
    expect(r.otherError).toBe('SQLITE_BUSY'); // the other writer waits (here: fails at once, no timeout)
    expect(other.prepare('select n from items').all()).toEqual([{ n: 2 }]);
    // Once committed, the other connection writes as usual.
    other.prepare('insert into items (n) values (3)').run();
    await db.destroy();
    other.close();
  });

  it('reads outside a transaction take no write lock', async () => {
    const { file, other } = files();
    const db = kysely(file, true);
    const rows = await sql<{ n: number }>`select count(*) as n from items`.execute(db);
    expect(rows.rows[0]!.n).toBe(0);
    other.prepare('insert into items (n) values (1)').run();
    expect((await db.selectFrom('items').selectAll().execute()).length).toBe(1);
    await db.destroy();
    other.close();
  });
});
