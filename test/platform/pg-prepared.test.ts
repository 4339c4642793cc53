/**
 * PostgreSQL's prepared statements (src/platform/database/pg-prepared.ts), on a real server: data
 * statements are prepared once per connection and reused, the number kept per connection is bounded,
 * and a schema change under a prepared `select *` does not break the next call. Runs in the PostgreSQL
 * pass of the suite (DATABASE_URL); SQLite has its own statement cache (statement-cache.test.ts).
 */
import crypto from 'node:crypto';
import pg from 'pg';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/platform/database/database.js';
import { preparedSettings } from '../../src/platform/database/pg-prepared.js';
import { usingPostgres } from '../support/db.js';

describe.runIf(usingPostgres)('PostgreSQL prepared statements', () => {
  const schema = `t_${crypto.randomBytes(6).toString('hex')}`;
  let database: Database;
  const prepared = async () => (await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(database.db)).rows.map((r) => r.statement);

  beforeAll(async () => {
    // One connection: every statement below runs on it, so pg_prepared_statements (per session) sees them all.
    database = await openDatabase({ databaseUrl: process.env.DATABASE_URL!, pgSchema: schema, poolSize: 1 });
    await sql`create table items (id integer primary key, name text not null)`.execute(database.db);
  });
  afterAll(async () => {
    await database?.close();
    const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });

  it('prepares a data statement once and reuses it; other statements are not prepared', async () => {
    for (let i = 0; i < 5; i++) await database.db.insertInto('items' as never).values({ id: i, name: `n${i}` } as never).execute();
    for (let i = 0; i < 5; i++) {
      const row = await database.db.selectFrom('items' as never).select('name' as never).where('id' as never, '=', i as never).executeTakeFirst();
      expect(row).toEqual({ name: `n${i}` });
    }
    const statements = await prepared();
    expect(statements.filter((s) => /^insert into "items"/.test(s))).toHaveLength(1);
    expect(statements.filter((s) => /^select "name" from "items"/.test(s))).toHaveLength(1);
    expect(statements.some((s) => /create table/i.test(s))).toBe(false);
  });

  it('keeps at most maxPerConnection statements per connection, dropping the least recently used', async () => {
    const before = preparedSettings.maxPerConnection;
    preparedSettings.maxPerConnection = 4;
    try {
      for (let k = 1; k <= 10; k++) {
        const rows = await database.db.selectFrom('items' as never).select('id' as never).where('id' as never, '<', k as never).limit(k).execute();
        expect(rows).toHaveLength(Math.min(k, 5));
        // Distinct texts: the limit is inlined in neither, so vary the select list instead.
        await sql.raw(`select id, ${k} as k from items where id = 0`).execute(database.db);
      }
      const statements = await prepared();
      expect(statements.length).toBeLessThanOrEqual(4);
      expect(statements.some((s) => s.includes('10 as k'))).toBe(true);
      expect(statements.some((s) => s.includes('1 as k'))).toBe(false);
    } finally {
      preparedSettings.maxPerConnection = before;
    }
  });

  it('a column added under a prepared select * is answered with the new shape, not an error', async () => {
    const all = () => database.db.selectFrom('items' as never).selectAll().where('id' as never, '=', 1 as never).executeTakeFirstOrThrow();
    expect(await all()).toEqual({ id: 1, name: 'n1' });
    expect(await all()).toEqual({ id: 1, name: 'n1' });
    // Another process migrates the table (a separate connection, as a rolling upgrade would).
    const other = new pg.Client({ connectionString: process.env.DATABASE_URL, options: `-c search_path=${schema}` });
    await other.connect();
    await other.query(`alter table items add column note text not null default 'x'`);
    await other.end();
    expect(await all()).toEqual({ id: 1, name: 'n1', note: 'x' });
    expect(await all()).toEqual({ id: 1, name: 'n1', note: 'x' });
  });
});
