import { describe, expect, it } from 'vitest';
import { RateLimiter, createRateLimiter, takeAll } from './rate-limit.js';

function fakeClock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

type Step = [advanceMs: number, key: string, allowed: boolean, remaining: number, retryAfterMs: number];

describe('RateLimiter (token bucket)', () => {
  const scenarios: Array<[string, { limit: number; intervalMs: number; burst?: number }, Step[]]> = [
    [
      'sign-in: 5 attempts per 15 minutes per address',
      { limit: 5, intervalMs: 15 * 60_000 },
      [
        [0, 'ann@example.com', true, 4, 0],
        [0, 'ann@example.com', true, 3, 0],
        [0, 'ann@example.com', true, 2, 0],
        [0, 'ann@example.com', true, 1, 0],
        [0, 'ann@example.com', true, 0, 0],
        [0, 'ann@example.com', false, 0, 180_000], // one token every 3 minutes
        [0, 'bob@example.com', true, 4, 0], // keys are independent
        [60_000, 'ann@example.com', false, 0, 120_000],
        [119_999, 'ann@example.com', false, 0, 1],
        [1, 'ann@example.com', true, 0, 0],
        [0, 'ann@example.com', false, 0, 180_000],
        [15 * 60_000, 'ann@example.com', true, 4, 0], // full again, never beyond the burst
      ],
    ],
    [
      'inbound SMTP: 10 connections per second, bursts of 20',
      { limit: 10, intervalMs: 1000, burst: 20 },
      [
        ...Array.from({ length: 20 }, (_, i): Step => [0, '203.0.113.7', true, 19 - i, 0]),
        [0, '203.0.113.7', false, 0, 100],
        [50, '203.0.113.7', false, 0, 50],
        [50, '203.0.113.7', true, 0, 0],
        [1000, '203.0.113.7', true, 9, 0],
        [0, '198.51.100.1', true, 19, 0],
      ],
    ],
    [
      'a refused action costs nothing',
      { limit: 1, intervalMs: 1000 },
      [
        [0, 'k', true, 0, 0],
        [500, 'k', false, 0, 500],
        [0, 'k', false, 0, 500],
        [0, 'k', false, 0, 500],
        [500, 'k', true, 0, 0],
      ],
    ],
    [
      'a clock that goes backwards refills nothing',
      { limit: 1, intervalMs: 1000 },
      [
        [0, 'k', true, 0, 0],
        [-10_000, 'k', false, 0, 1000],
        [1000, 'k', true, 0, 0],
      ],
    ],
  ];

  it.each(scenarios)('%s', (_name, opts, steps) => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ ...opts, now: clock.now });
    steps.forEach(([advance, key, allowed, remaining, retryAfterMs], i) => {
      clock.advance(advance);
      expect(limiter.take(key), `step ${i}`).toEqual({ allowed, remaining, retryAfterMs });
    });
  });

  it('peek consumes nothing', () => {
    const clock = fakeClock();
    const limiter = createRateLimiter({ limit: 2, intervalMs: 1000, now: clock.now });
    expect(limiter.peek('k')).toEqual({ allowed: true, remaining: 1, retryAfterMs: 0 });
    expect(limiter.peek('k')).toEqual({ allowed: true, remaining: 1, retryAfterMs: 0 });
    expect(limiter.size).toBe(0);
    limiter.take('k');
    limiter.take('k');
    expect(limiter.peek('k')).toEqual({ allowed: false, remaining: 0, retryAfterMs: 500 });
  });

  it('reset gives a key a full bucket (after a successful sign-in)', () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ limit: 1, intervalMs: 60_000, now: clock.now });
    limiter.take('k');
    expect(limiter.take('k').allowed).toBe(false);
    limiter.reset('k');
    expect(limiter.take('k').allowed).toBe(true);
  });

  it('charges a cost', () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ limit: 10, intervalMs: 1000, now: clock.now });
    expect(limiter.take('k', 7)).toEqual({ allowed: true, remaining: 3, retryAfterMs: 0 });
    expect(limiter.take('k', 4)).toEqual({ allowed: false, remaining: 3, retryAfterMs: 100 });
    expect(() => limiter.take('k', 11)).toThrow(/at most 10/);
    expect(() => limiter.take('k', 0)).toThrow();
  });

  it('prunes refilled buckets and bounds memory, least recently used first', () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ limit: 1, intervalMs: 1000, now: clock.now, maxKeys: 3 });
    limiter.take('a');
    limiter.take('b');
    limiter.take('c');
    expect(limiter.size).toBe(3);
    clock.advance(500);
    limiter.take('a', 0.5); // a is now the most recently used
    limiter.take('d'); // full: nothing has refilled, so the LRU key (b) goes
    expect(limiter.size).toBe(3);
    expect(limiter.peek('b').allowed).toBe(true); // forgotten: starts over
    expect(limiter.peek('a').allowed).toBe(false);
    expect(limiter.peek('c').allowed).toBe(false);
    clock.advance(5000);
    expect(limiter.prune()).toBe(3);
    expect(limiter.size).toBe(0);
  });

  it('stays bounded under a flood of distinct keys', () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ limit: 1, intervalMs: 60_000, now: clock.now, maxKeys: 1000 });
    for (let i = 0; i < 50_000; i++) limiter.take(`10.0.${i >> 8}.${i & 255}`);
    expect(limiter.size).toBeLessThanOrEqual(1000);
  });

  it.each([
    [{ limit: 0, intervalMs: 1000 }],
    [{ limit: 1, intervalMs: 0 }],
    [{ limit: 1, intervalMs: 1000, burst: 0.5 }],
    [{ limit: Number.NaN, intervalMs: 1000 }],
    [{ limit: 1, intervalMs: 1000, maxKeys: 0 }],
  ])('refuses options %j', (opts) => {
    expect(() => new RateLimiter(opts)).toThrow();
  });
});

describe('takeAll', () => {
  it('takes from every limiter only when all allow', () => {
    const clock = fakeClock();
    const perAddress = new RateLimiter({ limit: 5, intervalMs: 60_000, now: clock.now });
    const perIp = new RateLimiter({ limit: 2, intervalMs: 60_000, now: clock.now });
    const attempt = (email: string, ip: string) => takeAll([
      [perAddress, email],
      [perIp, ip],
    ]);
    expect(attempt('ann@x', '1.1.1.1')).toEqual({ allowed: true, remaining: 1, retryAfterMs: 0 });
    expect(attempt('bob@x', '1.1.1.1')).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0 });
    expect(attempt('cat@x', '1.1.1.1')).toEqual({ allowed: false, remaining: 0, retryAfterMs: 30_000 });
    // The refused attempt did not spend cat's per-address budget.
    expect(perAddress.peek('cat@x').remaining).toBe(4);
    expect(attempt('cat@x', '2.2.2.2').allowed).toBe(true);
  });
});
