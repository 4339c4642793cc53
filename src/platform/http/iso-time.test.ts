import { describe, expect, it } from 'vitest';
import { isoTime } from './iso-time.js';

describe('isoTime writes what toISOString writes', () => {
  it.each([
    0,
    1,
    999,
    1000,
    59_999,
    86_399_999,
    86_400_000,
    951_782_400_000, // 2000-02-29
    1_700_000_000_123,
    Date.UTC(2026, 11, 31, 23, 59, 59, 999),
    Date.UTC(9999, 11, 31, 23, 59, 59, 999),
    Date.UTC(10000, 0, 1),
    -1,
    -86_400_001,
    1.5,
  ])('%d', (ms) => {
    expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });

  it('agrees on a sweep of times (every day boundary and odd millisecond)', () => {
    for (let ms = Date.UTC(2020, 0, 1); ms < Date.UTC(2029, 0, 1); ms += 3_600_001 * 7) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });

  it('refuses what toISOString refuses', () => {
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
  });
});
