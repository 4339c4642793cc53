import { describe, expect, it } from 'vitest';
import { enterEndpoint, pacingSettings } from './pacing.js';

describe('enterEndpoint', () => {
  it('lets fast endpoints have any number of attempts at once', () => {
    const slots = Array.from({ length: 20 }, () => enterEndpoint('fast', 15_000, 1000));
    expect(slots.every((s) => 'release' in s)).toBe(true);
    for (const s of slots) if ('release' in s) s.release();
  });

  it('parks deliveries to an endpoint whose attempts hang, spread one timeout apart per slot; a fast answer clears it', () => {
    const t0 = 10_000;
    const a = enterEndpoint('slow', 15_000, t0);
    const b = enterEndpoint('slow', 15_000, t0);
    expect('release' in a && 'release' in b).toBe(true);
    // Not slow yet (the attempts are young): a third may go.
    const c = enterEndpoint('slow', 15_000, t0 + 10);
    expect('release' in c).toBe(true);
    if ('release' in c) c.release();
    const later = t0 + pacingSettings.slowMs + 1;
    const parks = Array.from({ length: 6 }, () => enterEndpoint('slow', 15_000, later));
    const ms = parks.map((p) => ('parkMs' in p ? p.parkMs : -1));
    expect(ms.every((x) => x >= 15_000)).toBe(true);
    expect(ms[5]!).toBeGreaterThan(ms[0]!);
    // Other endpoints are not affected.
    const other = enterEndpoint('other', 15_000, later);
    expect('release' in other).toBe(true);
    if ('release' in other) other.release();
    // The hanging attempts end (timed out): the endpoint stays slow, so only 2 go at once, however young.
    const end = later + 15_000;
    if ('release' in a) a.release(end);
    if ('release' in b) b.release(end);
    const next = [enterEndpoint('slow', 15_000, end + 1), enterEndpoint('slow', 15_000, end + 1), enterEndpoint('slow', 15_000, end + 2)];
    expect(next.map((x) => 'release' in x)).toEqual([true, true, false]);
    // A fast answer: no longer slow.
    const [n1, n2] = next;
    if ('release' in n1! && 'release' in n2!) {
      n1.release(end + 5);
      n2.release(end + 6);
    }
    const again = [enterEndpoint('slow', 15_000, end + 10), enterEndpoint('slow', 15_000, end + 10), enterEndpoint('slow', 15_000, end + 10)];
    expect(again.every((x) => 'release' in x)).toBe(true);
    for (const x of again) if ('release' in x) x.release(end + 11);
  });
});
