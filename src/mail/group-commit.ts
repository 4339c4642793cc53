/**
 * Group commit: callers each hand in one item and wait for it to be written; items that arrive while a
 * write is running are written together by the next one (no timer: a lone item is written at once). One
 * transaction and one commit then serve many callers. With `lingerMs`, a write that starts after an idle
 * moment first waits that long for company (inbound SMTP: messages arriving a few milliseconds apart share
 * one commit instead of paying one each; the wait is bounded and small against a sender's patience).
 * With `fillTo` as well, a group that follows a write and would hold fewer items than that also waits
 * `fillLingerMs` (default `lingerMs`; no wait at all when `lingerMs` is 0) once (at a steady rate, groups the size of a linger's arrivals rather
 * than of one write's; a longer wait here costs latency only while traffic is steady, not for a lone item),
 * and so does a write that starts less than `fillLingerMs` after the previous one ended (the writer went idle
 * only because it is faster than the arrivals).
 * A linger ends as soon as the group it waits for is full (`maxBatch` after an idle moment, `fillTo` after a
 * write), so a longer linger costs latency only when traffic is light.
 * If a group fails, its items are written again one
 * by one, so one bad item never fails the others. Each caller's promise settles only after the write that
 * holds its item has finished.
 */
export function groupCommit<T>(write: (items: T[]) => Promise<void>, opts: { maxBatch?: number; lingerMs?: number; fillTo?: number; fillLingerMs?: number } = {}): (item: T) => Promise<void> {
  const maxBatch = Math.max(1, opts.maxBatch ?? 64);
  const lingerMs = Math.max(0, opts.lingerMs ?? 0);
  const fillLingerMs = lingerMs > 0 ? Math.max(0, opts.fillLingerMs ?? lingerMs) : 0;
  const fillTo = Math.min(maxBatch, Math.max(0, opts.fillTo ?? 0));
  let queue: Array<{ item: T; resolve: () => void; reject: (err: unknown) => void }> = [];
  let running = false;
  // A linger ends early once the queue holds what it waits for (a full group need not wait out the timer).
  let waiting: { until: number; wake: () => void } | null = null;
  const linger = (until: number, ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        waiting = null;
        resolve();
      }
      waiting = { until, wake: done };
    });
  // When the last write ended: a write that starts less than fillLingerMs after it is steady traffic too (a
  // writer faster than the arrivals goes idle between groups: on SQLite, at 200 messages a second, groups
  // started that way held ~7 messages with the 20 ms linger).
  let lastWriteEnd = Number.NEGATIVE_INFINITY;
  const run = async () => {
    running = true;
    try {
      if (lingerMs > 0 && queue.length < maxBatch) {
        const steady = fillTo > 0 && performance.now() - lastWriteEnd < fillLingerMs;
        if (!steady) await linger(maxBatch, lingerMs);
        else if (queue.length < fillTo) await linger(fillTo, fillLingerMs);
      }
      let first = true;
      while (queue.length > 0) {
        // Items keep coming while a write runs: with `fillTo`, a group that would start smaller than that
        // waits `fillLingerMs` once for company too (fewer, larger transactions; each item still settles only
        // after the write that holds it).
        if (!first && fillLingerMs > 0 && queue.length < fillTo) await linger(fillTo, fillLingerMs);
        first = false;
        const group = queue.slice(0, maxBatch);
        queue = queue.slice(group.length);
        try {
          await write(group.map((g) => g.item));
          for (const g of group) g.resolve();
        } catch (err) {
          if (group.length === 1) {
            group[0]!.reject(err);
            continue;
          }
          for (const g of group) {
            try {
              await write([g.item]);
              g.resolve();
            } catch (one) {
              g.reject(one);
            }
          }
        }
      }
    } finally {
      lastWriteEnd = performance.now();
      running = false;
    }
  };
  return (item) =>
    new Promise<void>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (waiting && queue.length >= waiting.until) waiting.wake();
      if (!running) void run();
    });
}
