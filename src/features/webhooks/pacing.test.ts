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
    if ('release' in a) a.release();
    if ('release' in b) b.release();
  });
});
