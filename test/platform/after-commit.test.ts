/**
 * After-commit work (src/platform/database/after-commit.ts), on the test database (SQLite, or PostgreSQL
 * with DATABASE_URL): registered work runs once the transaction has committed, with the change visible
 * from outside it, and never when it rolls back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { onCommit, transaction } from '../../src/platform/database/after-commit.js';

describe('after-commit work', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });
  const count = async (id: string) => Number((await database.db.selectFrom('leases').select((eb) => eb.fn.countAll<number>().as('n')).where('name', '=', id).executeTakeFirstOrThrow()).n);

  it('runs after the commit, in order, seeing the committed change', async () => {
    const seen: Array<[string, number]> = [];
    const outside = async () => count('ac-1');
    let ranInside = false;
    await transaction(database.db, async (trx) => {
      await trx.insertInto('leases').values({ name: 'ac-1', holder: 'x', expires_at: 1 }).execute();
      expect(onCommit(trx, () => seen.push(['first', -1]))).toBe(true);
      expect(onCommit(trx, () => seen.push(['second', -1]))).toBe(true);
      expect(onCommit(trx, () => void outside().then((n) => seen.push(['visible', n])))).toBe(true);
      ranInside = seen.length > 0;
    });
    expect(ranInside).toBe(false);
    await expect.poll(() => seen.length).toBe(3);
    expect(seen).toEqual([['first', -1], ['second', -1], ['visible', 1]]);
  });

  it('never runs when the transaction rolls back', async () => {
    const seen: string[] = [];
    await expect(
      transaction(database.db, async (trx) => {
        await trx.insertInto('leases').values({ name: 'ac-2', holder: 'x', expires_at: 1 }).execute();
        onCommit(trx, () => seen.push('ran'));
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(seen).toEqual([]);
    expect(await count('ac-2')).toBe(0);
  });

  it('a transaction opened another way says so (the caller falls back)', async () => {
    await database.db.transaction().execute(async (trx) => {
      expect(onCommit(trx, () => undefined)).toBe(false);
    });
    expect(onCommit(database.db, () => undefined)).toBe(false);
  });
});
