import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase } from '../../test/support/db.js';
import { migrateToLatest } from './migrate.js';
import { runMigrations } from '../platform/database/migrate.js';
import { MIGRATIONS } from './migrations/index.js';

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
      }
    } finally {
      await t.drop();
    }
  });
});
