/**
 * Named leases in the database: "only one worker at a time does X" (e.g. sync connection C). A lease is
 * held until it expires; its holder renews it. When a worker dies, its leases expire and another takes over.
 *
 * A worker holding many leases (the mailbox supervisor holds one per mailbox) renews them all with one
 * statement (`renewLeasesOf`), so the database writes of an idle worker do not grow with what it holds.
 */
import { sql } from 'kysely';
import type { Executor } from '../context.js';

export async function acquireLease(db: Executor, name: string, holder: string, ttlMs: number, now: number): Promise<boolean> {
  const expires = now + ttlMs;
  await db
    .insertInto('leases')
    .values({ name, holder, expires_at: expires })
    .onConflict((oc) =>
      oc.column('name').doUpdateSet({ holder, expires_at: expires }).where((eb) => eb.or([eb('leases.holder', '=', holder), eb('leases.expires_at', '<', now)])),
    )
    .execute();
  const row = await db.selectFrom('leases').select(['holder']).where('name', '=', name).executeTakeFirst();
  return row?.holder === holder;
}

/**
 * Takes every lease of `names` that is free, expired or already ours, in one statement per 500 names;
 * returns the names now held by `holder`.
 */
export async function acquireLeases(db: Executor, names: string[], holder: string, ttlMs: number, now: number): Promise<string[]> {
  const held: string[] = [];
  const expires = now + ttlMs;
  for (let i = 0; i < names.length; i += 500) {
    const chunk = names.slice(i, i + 500);
    await db
      .insertInto('leases')
      .values(chunk.map((name) => ({ name, holder, expires_at: expires })))
      .onConflict((oc) =>
        oc.column('name').doUpdateSet({ holder, expires_at: expires }).where((eb) => eb.or([eb('leases.holder', '=', holder), eb('leases.expires_at', '<', now)])),
      )
      .execute();
    const rows = await db.selectFrom('leases').select('name').where('holder', '=', holder).where('name', 'in', chunk).execute();
    held.push(...rows.map((r) => r.name));
  }
  return held;
}

/** Extends every lease `holder` has, in one statement; returns how many it still holds. */
export async function renewLeasesOf(db: Executor, holder: string, ttlMs: number, now: number): Promise<number> {
  const res = await db.updateTable('leases').set({ expires_at: now + ttlMs }).where('holder', '=', holder).executeTakeFirst();
  return Number(res.numUpdatedRows ?? 0n);
}

/** Names of the leases `holder` has (with a prefix such as `sync:`). */
export async function leasesOf(db: Executor, holder: string, prefix = ''): Promise<string[]> {
  const rows = await db.selectFrom('leases').select('name').where('holder', '=', holder).where('name', 'like', `${prefix}%`).execute();
  return rows.map((r) => r.name);
}

export async function releaseLease(db: Executor, name: string, holder: string): Promise<void> {
  await db.deleteFrom('leases').where('name', '=', name).where('holder', '=', holder).execute();
}

/** Releases some of (or, without names, all) the leases of `holder`. */
export async function releaseLeases(db: Executor, holder: string, names?: string[]): Promise<void> {
  if (!names) {
    await db.deleteFrom('leases').where('holder', '=', holder).execute();
    return;
  }
  for (let i = 0; i < names.length; i += 500) await db.deleteFrom('leases').where('holder', '=', holder).where('name', 'in', names.slice(i, i + 500)).execute();
}

export { sql };
