/**
 * Group commit: callers each hand in one item and wait for it to be written; items that arrive while a
 * write is running are written together by the next one (no timer: a lone item is written at once). One
 * transaction and one commit then serve many callers. With `lingerMs`, a write that starts after an idle
 * moment first waits that long for company (inbound SMTP: messages arriving a few milliseconds apart share
 * one commit instead of paying one each; the wait is bounded and small against a sender's patience).
 * If a group fails, its items are written again one
 * by one, so one bad item never fails the others. Each caller's promise settles only after the write that
 * holds its item has finished.
 */
export function groupCommit<T>(write: (items: T[]) => Promise<void>, opts: { maxBatch?: number; lingerMs?: number } = {}): (item: T) => Promise<void> {
  const maxBatch = Math.max(1, opts.maxBatch ?? 64);
  const lingerMs = Math.max(0, opts.lingerMs ?? 0);
  let queue: Array<{ item: T; resolve: () => void; reject: (err: unknown) => void }> = [];
  let running = false;
  const run = async () => {
    running = true;
    try {
      if (lingerMs > 0 && queue.length < maxBatch) await new Promise((r) => setTimeout(r, lingerMs));
      while (queue.length > 0) {
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
      running = false;
    }
  };
  return (item) =>
    new Promise<void>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!running) void run();
    });
}
