import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../test/support/db.js';
import { migrateToLatest } from './migrate.js';

describe('migrations', () => {
  it('apply on an empty database and are idempotent', async () => {
    const t = await createTestDatabase();
    try {
      const again = await migrateToLatest(t);
      expect(again.applied).toEqual([]);
      const tables = await t.db.introspection.getTables();
      const names = tables.map((x) => x.name);
      for (const n of ['accounts', 'users', 'contacts', 'timeline_events', 'audit_events', 'jobs']) expect(names).toContain(n);
    } finally {
      await t.drop();
    }
  });
});
