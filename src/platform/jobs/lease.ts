/**
 * Named leases in the database: "only one worker at a time does X" (e.g. sync connection C). A lease is
 * held until it expires; its holder renews it. When a worker dies, its leases expire and another takes over.
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

export async function releaseLease(db: Executor, name: string, holder: string): Promise<void> {
  await db.deleteFrom('leases').where('name', '=', name).where('holder', '=', holder).execute();
}

export { sql };
