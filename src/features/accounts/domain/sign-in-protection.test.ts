import { describe, expect, test } from 'vitest';
import { afterFailure, signInGate, waitWords, FIRST_LOCK_MS, MAX_LOCK_MS } from './sign-in-protection.js';

const NOW = 1_000_000;
const S = 1000;
const M = 60 * S;

describe('the wait after each consecutive failure', () => {
  test.each([
    [1, 0, null],
    [4, 0, null],
    [5, 1 * S, null],
    [6, 2 * S, null],
    [7, 4 * S, null],
    [8, 8 * S, null],
    [9, 16 * S, null],
    [10, 15 * M, 15 * M],
    [11, 60 * S, null],
    [14, 60 * S, null],
    [15, 30 * M, 30 * M],
    [20, 60 * M, 60 * M],
    [25, 120 * M, 120 * M],
    [60, MAX_LOCK_MS, MAX_LOCK_MS],
  ])('failure %i: next attempt after %i ms, lock %s', (n, wait, lock) => {
    const r = afterFailure(n, NOW);
    expect(r.nextAllowedAt - NOW).toBe(wait);
    expect(r.lockedUntil === null ? null : r.lockedUntil - NOW).toBe(lock);
  });

  test('locks grow but never exceed 24 hours; the first is 15 minutes', () => {
    expect(afterFailure(10, 0).lockedUntil).toBe(FIRST_LOCK_MS);
    for (let n = 10; n < 200; n += 5) expect(afterFailure(n, 0).lockedUntil!).toBeLessThanOrEqual(MAX_LOCK_MS);
  });
});

describe('the gate before checking a password', () => {
  test.each([
    ['no failures', null, NOW, { ok: true }],
    ['free failures', { failures: 3, nextAllowedAt: NOW, lockedUntil: null }, NOW, { ok: true }],
    ['waiting', { failures: 7, nextAllowedAt: NOW + 4 * S, lockedUntil: null }, NOW, { ok: false, reason: 'delayed', retryAt: NOW + 4 * S }],
    ['wait over', { failures: 7, nextAllowedAt: NOW + 4 * S, lockedUntil: null }, NOW + 4 * S, { ok: true }],
    ['locked', { failures: 10, nextAllowedAt: NOW + 15 * M, lockedUntil: NOW + 15 * M }, NOW + M, { ok: false, reason: 'locked', retryAt: NOW + 15 * M }],
    ['lock lifted', { failures: 10, nextAllowedAt: NOW + 15 * M, lockedUntil: NOW + 15 * M }, NOW + 15 * M, { ok: true }],
  ] as const)('%s', (_name, count, now, expected) => {
    expect(signInGate(count, now)).toEqual(expected);
  });
});

test.each([
  [1 * S, 'in 1 second'],
  [8 * S, 'in 8 seconds'],
  [15 * M, 'in 15 minutes'],
  [24 * 60 * M, 'in about 24 hours'],
])('waitWords(%i)', (ms, words) => expect(waitWords(NOW + ms, NOW)).toBe(words));
