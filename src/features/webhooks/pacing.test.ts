import { describe, expect, it } from 'vitest';
import { enterEndpoint, pacingSettings } from './pacing.js';

const T = 15_000; // the attempt timeout; slow = longer than 7.5 s
const isSlot = (s: ReturnType<typeof enterEndpoint>): s is Extract<typeof s, { release: unknown }> => 'release' in s;

describe('enterEndpoint', () => {
  it('lets fast endpoints have any number of attempts at once', () => {
    const slots = Array.from({ length: 20 }, (_, i) => enterEndpoint('fast', `d${i}`, T, 1000));
    expect(slots.every(isSlot)).toBe(true);
    for (const s of slots) if (isSlot(s)) expect(s.release(1100)).toEqual([]);
  });

  it('parks deliveries to an endpoint whose attempts hang, spread out; the first fast answer wakes them', () => {
    const cap = pacingSettings.slowEndpointAttempts;
    const t0 = 10_000;
    const first = Array.from({ length: cap }, (_, i) => enterEndpoint('slow', `a${i}`, T, t0));
    expect(first.every(isSlot)).toBe(true);
    // Young attempts: one more may still go.
    const young = enterEndpoint('slow', 'y', T, t0 + 10);
    expect(isSlot(young)).toBe(true);
    if (isSlot(young)) young.release(t0 + 20);
    const later = t0 + T / 2 + 1;
    const parks = Array.from({ length: 2 * cap }, (_, i) => enterEndpoint('slow', `p${i}`, T, later));
    const ms = parks.map((p) => ('parkMs' in p ? p.parkMs : -1));
    expect(ms.every((x) => x >= T / 2)).toBe(true);
    expect(ms.at(-1)!).toBeGreaterThan(ms[0]!);
    // A parked delivery coming back is not counted twice.
    const back = enterEndpoint('slow', 'p0', T, later + 1);
    // (2 * cap parked: the second spread step, 2 x 7.5 s plus jitter; counted twice it would be the third.)
    expect('parkMs' in back && back.parkMs < (3 * T) / 2).toBe(true);
    // Other endpoints are not affected.
    const other = enterEndpoint('other', 'o', T, later);
    expect(isSlot(other)).toBe(true);
    if (isSlot(other)) other.release(later + 1);
    // The hanging attempts time out: still slow, so only `cap` go at once, however young.
    const end = t0 + T;
    for (const s of first) if (isSlot(s)) expect(s.release(end)).toEqual([]);
    const next = Array.from({ length: cap + 1 }, (_, i) => enterEndpoint('slow', `n${i}`, T, end + 1));
    expect(next.map(isSlot)).toEqual([...Array(cap).fill(true), false]);
    // A fast answer: the parked deliveries are woken, and the endpoint is fast again.
    const woken = isSlot(next[0]!) ? next[0].release(end + 50) : [];
    expect(new Set(woken)).toEqual(new Set([...parks.map((_, i) => `p${i}`), `n${cap}`]));
    for (const s of next.slice(1)) if (isSlot(s)) s.release(end + 60);
    const again = Array.from({ length: cap + 2 }, (_, i) => enterEndpoint('slow', `g${i}`, T, end + 100));
    expect(again.every(isSlot)).toBe(true);
    for (const s of again) if (isSlot(s)) s.release(end + 110);
  });
});
