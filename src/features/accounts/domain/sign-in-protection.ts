/**
 * Sign-in protection across clients (issue 21, item 8): a per-address cap on failed sign-ins, counted in
 * the database for every client, IP and process, that slows guessing down (a growing wait between
 * attempts) and then locks the address for a while, never for good and without a CAPTCHA. Pure rules; the
 * counting is in commands/signIn.ts.
 *
 *   failures 1-4     no wait
 *   failures 5-9     the next attempt waits 1, 2, 4, 8, 16 s
 *   failure 10       locked for 15 min; every 5th failure after that locks again, twice as long (30 min,
 *                    1 h, ... at most 24 h); in between, 60 s between attempts
 * A successful sign-in resets the count, and so do 24 hours without a failure.
 * While an address waits or is locked, attempts are refused before the password is checked (so the wait
 * cannot be used to test passwords) with `sign_in_delayed` or `sign_in_locked` and the time it lifts.
 */

export const FREE_FAILURES = 4;
export const LOCK_AT = 10;
export const LOCK_EVERY = 5;
export const FIRST_LOCK_MS = 15 * 60_000;
export const MAX_LOCK_MS = 24 * 3600_000;
export const MAX_DELAY_MS = 60_000;
/** Failures older than this (since the last one) no longer count. */
export const FAILURE_WINDOW_MS = 24 * 3600_000;

export interface FailureCount {
  failures: number;
  nextAllowedAt: number;
  lockedUntil: number | null;
}

/** After the `failures`-th consecutive failure at `now`: when the next attempt may be made, and the lock if this failure sets one. */
export function afterFailure(failures: number, now: number): { nextAllowedAt: number; lockedUntil: number | null } {
  if (failures >= LOCK_AT && (failures - LOCK_AT) % LOCK_EVERY === 0) {
    const lockMs = Math.min(MAX_LOCK_MS, FIRST_LOCK_MS * 2 ** ((failures - LOCK_AT) / LOCK_EVERY));
    return { nextAllowedAt: now + lockMs, lockedUntil: now + lockMs };
  }
  if (failures <= FREE_FAILURES) return { nextAllowedAt: now, lockedUntil: null };
  if (failures < LOCK_AT) return { nextAllowedAt: now + Math.min(MAX_DELAY_MS, 1000 * 2 ** (failures - FREE_FAILURES - 1)), lockedUntil: null };
  return { nextAllowedAt: now + MAX_DELAY_MS, lockedUntil: null };
}

export type Gate = { ok: true } | { ok: false; reason: 'locked' | 'delayed'; retryAt: number };

/** May an attempt be made now for an address with this count (null: no failures)? */
export function signInGate(count: FailureCount | null, now: number): Gate {
  if (!count) return { ok: true };
  if (count.lockedUntil !== null && count.lockedUntil > now) return { ok: false, reason: 'locked', retryAt: count.lockedUntil };
  if (count.nextAllowedAt > now) return { ok: false, reason: 'delayed', retryAt: count.nextAllowedAt };
  return { ok: true };
}

/** "in 15 minutes", "in 8 seconds": how long until `at`. */
export function waitWords(at: number, now: number): string {
  const s = Math.max(1, Math.ceil((at - now) / 1000));
  if (s < 90) return `in ${s} second${s === 1 ? '' : 's'}`;
  const m = Math.ceil(s / 60);
  if (m < 90) return `in ${m} minutes`;
  const h = Math.round(m / 60);
  return `in about ${h} hour${h === 1 ? '' : 's'}`;
}
