/**
 * The database side of sign-in protection (rules: domain/sign-in-protection.ts): one row per address key
 * (migration 027), written by an atomic upsert so that every process, client and IP counts into the same
 * number; a success deletes it. The owner of the address is notified once per lock.
 */
import { sql } from 'kysely';
import type { CommandEnv } from '../../platform/context.js';
import { AppError } from '../../platform/errors.js';
import { notifyUsers } from '../notifications/index.js';
import { afterFailure, FAILURE_WINDOW_MS, signInGate, waitWords, type FailureCount } from './domain/sign-in-protection.js';

export interface SignInFailuresTable {
  email_key: string;
  failures: number;
  first_failed_at: number;
  last_failed_at: number;
  next_allowed_at: number;
  locked_until: number | null;
  notified_lock_at: number | null;
}

declare module '../../platform/database/schema.js' {
  interface DB {
    sign_in_failures: SignInFailuresTable;
  }
}

function refusal(reason: 'locked' | 'delayed', retryAt: number, now: number): AppError {
  const when = new Date(retryAt).toISOString();
  const wait = waitWords(retryAt, now);
  return reason === 'locked'
    ? new AppError('sign_in_locked', 429, `Too many failed sign-ins for this address: signing in is paused until ${when.slice(11, 16)} UTC (${wait}). Wait and try again, or ask an admin to reset your password. The owner of the address was told.`, { retryAt: when })
    : new AppError('sign_in_delayed', 429, `Several sign-ins for this address failed: wait ${wait.replace(/^in /, '')} before trying again.`, { retryAt: when });
}

/** Refuses an attempt while the address waits or is locked (before its password is checked). */
export async function checkSignInAllowed(env: CommandEnv, emailKey: string): Promise<void> {
  const row = await env.db.selectFrom('sign_in_failures').selectAll().where('email_key', '=', emailKey).executeTakeFirst();
  const now = env.now();
  const count: FailureCount | null = row && Number(row.last_failed_at) >= now - FAILURE_WINDOW_MS ? { failures: row.failures, nextAllowedAt: Number(row.next_allowed_at), lockedUntil: row.locked_until === null ? null : Number(row.locked_until) } : null;
  const gate = signInGate(count, now);
  if (!gate.ok) throw refusal(gate.reason, gate.retryAt, now);
}

/**
 * Counts one failed sign-in for the address (atomically, whoever else is counting), sets its wait or lock,
 * and tells the owner (`user`, when the address is a user's) once per lock. Returns the refusal to answer
 * with when this failure set a lock, else null.
 */
export async function recordSignInFailure(env: CommandEnv, emailKey: string, user: { id: string; account_id: string; email: string } | undefined): Promise<AppError | null> {
  const now = env.now();
  return env.db.transaction().execute(async (trx) => {
    const stale = now - FAILURE_WINDOW_MS;
    const row = await trx
      .insertInto('sign_in_failures')
      .values({ email_key: emailKey, failures: 1, first_failed_at: now, last_failed_at: now, next_allowed_at: 0, locked_until: null, notified_lock_at: null })
      .onConflict((oc) =>
        oc.column('email_key').doUpdateSet({
          failures: sql<number>`case when sign_in_failures.last_failed_at < ${stale} then 1 else sign_in_failures.failures + 1 end`,
          first_failed_at: sql<number>`case when sign_in_failures.last_failed_at < ${stale} then ${now} else sign_in_failures.first_failed_at end`,
          last_failed_at: now,
        }),
      )
      .returning(['failures', 'first_failed_at'])
      .executeTakeFirstOrThrow();
    const next = afterFailure(Number(row.failures), now);
    await trx
      .updateTable('sign_in_failures')
      .set({ next_allowed_at: next.nextAllowedAt, ...(next.lockedUntil !== null ? { locked_until: next.lockedUntil } : {}) })
      .where('email_key', '=', emailKey)
      .execute();
    // Addresses nobody tried for a day are forgotten (unknown addresses included).
    await trx.deleteFrom('sign_in_failures').where('last_failed_at', '<', stale).where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)])).execute();
    if (next.lockedUntil === null) return null;
    if (user) {
      // Once per lock: the lock being told about is recorded with the row.
      const told = await trx.updateTable('sign_in_failures').set({ notified_lock_at: next.lockedUntil }).where('email_key', '=', emailKey).where((eb) => eb.or([eb('notified_lock_at', 'is', null), eb('notified_lock_at', '!=', next.lockedUntil!)])).executeTakeFirst();
      if (Number(told.numUpdatedRows) === 1) {
        const until = new Date(next.lockedUntil).toISOString();
        await notifyUsers(trx, {
          accountId: user.account_id,
          userIds: [user.id],
          kind: 'sign_in_locked',
          message: `${row.failures} sign-ins to Mailroom as ${user.email} failed since ${new Date(Number(row.first_failed_at)).toISOString().slice(0, 16).replace('T', ' ')} UTC, from any device or network, so signing in as ${user.email} is paused until ${until.slice(0, 16).replace('T', ' ')} UTC. If this was not you, someone is guessing your password: choose a stronger one after signing in, or ask an admin to reset it.`,
          data: { failures: row.failures, lockedUntil: until },
          at: now,
        });
      }
    }
    return refusal('locked', next.lockedUntil, now);
  });
}

/** A successful sign-in: the address's failures are forgotten. */
export async function clearSignInFailures(env: CommandEnv, emailKey: string): Promise<void> {
  await env.db.deleteFrom('sign_in_failures').where('email_key', '=', emailKey).execute();
}
