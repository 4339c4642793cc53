import { describe, expect, it } from 'vitest';
import { beginAttempt, endpointCapacity, pacingSettings } from './pacing.js';

const T = 15_000; // the attempt timeout; slow = longer than 7.5 s
const C = 16;

describe('endpoint pacing', () => {
  it('gives a fast endpoint its full concurrency', () => {
    const ends = Array.from({ length: 20 }, () => beginAttempt('fast', T, 1000));
    expect(endpointCapacity('fast', C, T, 1050)).toBe(C);
    for (const end of ends) end(1100);
    expect(endpointCapacity('fast', C, T, 1200)).toBe(C);
  });

  it('a hanging endpoint gets a few attempts at once until it answers fast again; others are not affected', () => {
    const cap = pacingSettings.slowEndpointAttempts;
    const t0 = 10_000;
    const first = Array.from({ length: C }, () => beginAttempt('slow', T, t0));
    // Young attempts: still the full concurrency.
    expect(endpointCapacity('slow', C, T, t0 + 10)).toBe(C);
    // In flight longer than half the timeout: slow.
    expect(endpointCapacity('slow', C, T, t0 + T / 2 + 1)).toBe(cap);
    expect(endpointCapacity('other', C, T, t0 + T / 2 + 1)).toBe(C);
    // They time out: still slow, however young the next attempts.
    for (const end of first) end(t0 + T);
    expect(endpointCapacity('slow', C, T, t0 + T + 1)).toBe(cap);
    // An attempt that was not sent (no answer learnt) changes nothing.
    beginAttempt('slow', T, t0 + T + 2)(t0 + T + 3, false);
    expect(endpointCapacity('slow', C, T, t0 + T + 4)).toBe(cap);
    // A fast answer: the endpoint is fast again.
    beginAttempt('slow', T, t0 + T + 10)(t0 + T + 60);
    expect(endpointCapacity('slow', C, T, t0 + T + 100)).toBe(C);
  });
});
