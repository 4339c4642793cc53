import { describe, expect, it } from 'vitest';
import { Limiter } from './limiter.js';

describe('Limiter', () => {
  it('runs at most `limit` at once, in order, and passes slots on after failures', async () => {
    const l = new Limiter(3);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const gates: Array<() => void> = [];
    const tasks = Array.from({ length: 10 }, (_, i) =>
      l.run(async () => {
        running += 1;
        peak = Math.max(peak, running);
        order.push(i);
        await new Promise<void>((r) => gates.push(r));
        running -= 1;
        if (i % 4 === 0) throw new Error(`task ${i}`);
        return i;
      }),
    );
    const settled = Promise.allSettled(tasks);
    for (let k = 0; k < 10; k++) {
      while (gates.length === 0) await new Promise((r) => setImmediate(r));
      expect(l.inProgress).toBeLessThanOrEqual(3);
      gates.shift()!();
    }
    const results = await settled;
    expect(peak).toBe(3);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(3);
    expect(l.inProgress).toBe(0);
    expect(l.queued).toBe(0);
  });
});
