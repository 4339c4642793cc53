import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { openDatabase } from './database.js';

describe('WAL checkpoints in a worker (SQLite)', () => {
  it('pages committed on the main connection reach the database file without a checkpoint on the committing thread', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-wal-'));
    const file = path.join(dir, 'wal.sqlite');
    const d = await openDatabase({ sqlitePath: file });
    try {
      await sql`create table t (id integer primary key, body text)`.execute(d.db);
      // The committing connection would only checkpoint at 10,000 pages (40 MB) itself.
      const auto = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(d.db);
      expect(Number(auto.rows[0]!.wal_autocheckpoint)).toBe(10_000);
      const before = fs.statSync(file).size;
      // ~6 MB in 30 commits: far below the 40 MB at which the committing thread would checkpoint itself.
      for (let i = 0; i < 30; i++) {
        await d.db.transaction().execute(async (trx) => {
          for (let j = 0; j < 50; j++) await sql`insert into t (body) values (${'x'.repeat(4000) + i + ':' + j})`.execute(trx);
        });
      }
      // The worker checkpoints every 500 ms.
      let size = fs.statSync(file).size;
      for (let k = 0; k < 60 && size < before + 5_000_000; k++) {
        await new Promise((r) => setTimeout(r, 100));
        size = fs.statSync(file).size;
      }
      expect(size).toBeGreaterThan(before + 5_000_000);
      const n = await sql<{ n: number }>`select count(*) as n from t`.execute(d.db);
      expect(Number(n.rows[0]!.n)).toBe(1500);
    } finally {
      await d.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
