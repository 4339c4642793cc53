/**
 * Group commit: callers each hand in one item and wait for it to be written; items that arrive while a
 * write is running are written together by the next one (no timer: a lone item is written at once). One
 * transaction and one commit then serve many callers. If a group fails, its items are written again one
 * by one, so one bad item never fails the others. Each caller's promise settles only after the write that
 * holds its item has finished.
 */
export function groupCommit<T>(write: (items: T[]) => Promise<void>, opts: { maxBatch?: number } = {}): (item: T) => Promise<void> {
  const maxBatch = Math.max(1, opts.maxBatch ?? 64);
  let queue: Array<{ item: T; resolve: () => void; reject: (err: unknown) => void }> = [];
  let running = false;
  const run = async () => {
    running = true;
    try {
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
