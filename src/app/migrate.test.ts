import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { migrateToLatest } from './migrate.js';
import { runMigrations } from '../platform/database/migrate.js';
import { MIGRATIONS } from './migrations/index.js';
import * as m035 from './migrations/035-sqlite-contentless-search.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../platform/database/database.js';
import { createTestDatabase, usingPostgres } from '../../test/support/db.js';

describe('migrations', () => {
  it('apply on an empty database and are idempotent', async () => {
    const t = await createTestDatabase();
    try {
      const again = await migrateToLatest(t);
      expect(again.applied).toEqual([]);
      const tables = await t.db.introspection.getTables();
      const names = tables.map((x) => x.name);
      for (const n of ['accounts', 'users', 'contacts', 'timeline_events', 'audit_events', 'jobs']) expect(names).toContain(n);
      // An up-to-date database is recognised in one read; a list with one more migration still runs it, once.
      let ran = 0;
      const more = { ...MIGRATIONS, '999-extra': { up: async () => void ran++ } };
      expect((await runMigrations(t, more)).applied).toEqual(['999-extra']);
      expect((await runMigrations(t, more)).applied).toEqual([]);
      expect(ran).toBe(1);
      if (t.dialect === 'postgres') {
        // 033: message bodies are compressed with lz4 (Debian's PostgreSQL is built with it).
        const r = await sql<{ c: string }>`select attcompression as c from pg_attribute where attrelid = 'messages'::regclass and attname = 'text_body'`.execute(t.db);
        expect(r.rows[0]?.c).toBe('l');
        // 036: events keep room on their pages for the publication's update (a HOT update).
        const ff = await sql<{ o: string[] | null }>`select reloptions as o from pg_class where oid = 'events'::regclass`.execute(t.db);
        expect(ff.rows[0]?.o).toContain('fillfactor=50');
      }
    } finally {
      await t.drop();
    }
  });

  it('035: SQLite search documents move to a contentless table and stay searchable (PostgreSQL: unchanged)', async () => {
    if (usingPostgres) {
      const t = await createTestDatabase();
      try {
        await m035.up(t.db); // a no-op there
        expect((await t.db.introspection.getTables()).map((x) => x.name)).toContain('message_search');
      } finally {
        await t.drop();
      }
      return;
    }
    // A database from before 035 (every migration but it and later ones), with documents in it.
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-m035-'));
    const d = await openDatabase({ dataDir });
    try {
      const before = Object.fromEntries(Object.entries(MIGRATIONS).filter(([name]) => name < '035'));
      await runMigrations(d, before);
      const ddl = async () => (await sql<{ sql: string }>`select sql from sqlite_master where name = 'message_search'`.execute(d.db)).rows[0]?.sql ?? '';
      expect(await ddl()).not.toContain('content');
      await sql`insert into message_search (doc, message_id, account_id) values ('refund for order 1234', 'm1', 'a1'), ('shipping question', 'm2', 'a1'), ('refund please', 'm3', 'a2')`.execute(d.db);
      expect((await runMigrations(d, MIGRATIONS)).applied).toContain('035-sqlite-contentless-search');
      expect(await ddl()).toContain("content = ''");
      const found = async (q: string) =>
        (await sql<{ message_id: string; account_id: string }>`select message_id, account_id from message_search where message_search match ${q} order by message_id`.execute(d.db)).rows;
      expect(await found('"refund"*')).toEqual([{ message_id: 'm1', account_id: 'a1' }, { message_id: 'm3', account_id: 'a2' }]);
      expect(await found('"ship"* AND "question"*')).toEqual([{ message_id: 'm2', account_id: 'a1' }]);
      // The document is not kept; rows can still be deleted; the renamed old table is gone.
      expect((await sql<{ doc: string | null }>`select doc from message_search where message_id = 'm2'`.execute(d.db)).rows).toEqual([{ doc: null }]);
      await sql`delete from message_search where message_id = 'm1'`.execute(d.db);
      expect(await found('"refund"*')).toEqual([{ message_id: 'm3', account_id: 'a2' }]);
      expect((await d.db.introspection.getTables()).map((x) => x.name).filter((n) => n.includes('before_035'))).toEqual([]);
    } finally {
      await d.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
