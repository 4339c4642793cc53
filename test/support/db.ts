/**
 * Test databases: SQLite in a temp folder by default, or a fresh PostgreSQL schema when
 * DATABASE_URL is set (the whole suite runs once on each). Each call gets its own database.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/platform/database/database.js';
import { migrateToLatest } from '../../src/app/migrate.js';

export interface TestDatabase extends Database {
  dataDir: string;
  /** PostgreSQL schema of this test database (null on SQLite): child processes open the same one. */
  pgSchema: string | null;
  drop(): Promise<void>;
}

export const usingPostgres = Boolean(process.env.DATABASE_URL);

/** `pgPoolSize`: PostgreSQL pool of the test database (default 25: test files run many requests at once; benchmarks pass production's). */
export async function createTestDatabase(o: { pgPoolSize?: number } = {}): Promise<TestDatabase> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-test-'));
  const url = process.env.DATABASE_URL;
  if (url) {
    const schema = `t_${crypto.randomBytes(6).toString('hex')}`;
    const database = await openDatabase({ databaseUrl: url, pgSchema: schema, poolSize: o.pgPoolSize ?? 25 });
    await migrateToLatest(database);
    return {
      ...database,
      dataDir,
      pgSchema: schema,
      async drop() {
        await database.close();
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        } finally {
          await client.end();
        }
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const database = await openDatabase({ dataDir });
  await migrateToLatest(database);
  return {
    ...database,
    dataDir,
    pgSchema: null,
    async drop() {
      await database.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
