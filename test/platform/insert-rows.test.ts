/**
 * insertRows (the ingest's multi-row INSERT without the query builder) on the real database: reserved
 * words as column names, more rows than one statement takes, the dialect's placeholders, a conflict clause,
 * and refusals of rows it cannot write faithfully.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { insertRows } from '../../src/platform/database/insert-rows.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

const row = (i: number, pack = 'p1') => ({ sha256: `${String(i).padStart(64, '0')}`, pack, offset: i * 10, length: i, created_at: 1_700_000_000_000 + i });

describe('insertRows', () => {
  it('writes 450 rows (three statements) with every value where it belongs', async () => {
    const rows = Array.from({ length: 450 }, (_, i) => row(i));
    await insertRows(t.env.db, t.env.dialect, 'packed_blobs', rows);
    const back = await t.env.db.selectFrom('packed_blobs').selectAll().orderBy('sha256').execute();
    expect(back.map((r) => ({ ...r, offset: Number(r.offset), length: Number(r.length), created_at: Number(r.created_at) }))).toEqual(rows);
  });

  it('applies the conflict clause (the first copy of a blob stays)', async () => {
    await insertRows(t.env.db, t.env.dialect, 'packed_blobs', [row(1, 'p2'), row(1000, 'p2')], 'on conflict ("sha256") do nothing');
    const one = await t.env.db.selectFrom('packed_blobs').select('pack').where('sha256', '=', row(1).sha256).executeTakeFirstOrThrow();
    const thousand = await t.env.db.selectFrom('packed_blobs').select('pack').where('sha256', '=', row(1000).sha256).executeTakeFirstOrThrow();
    expect([one.pack, thousand.pack]).toEqual(['p1', 'p2']);
  });

  it('does nothing for no rows, and refuses rows with different columns', async () => {
    await insertRows(t.env.db, t.env.dialect, 'packed_blobs', []);
    const { created_at: _, ...short } = row(2000);
    await expect(insertRows(t.env.db, t.env.dialect, 'packed_blobs', [row(2001), short as ReturnType<typeof row>])).rejects.toThrow(/same columns|has no created_at/);
    expect(await t.env.db.selectFrom('packed_blobs').selectAll().where('sha256', '=', row(2001).sha256).executeTakeFirst()).toBeUndefined();
  });
});
