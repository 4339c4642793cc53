import { describe, expect, it } from 'vitest';
import { groupCommit } from './group-commit.js';

const tick = () => new Promise((r) => setTimeout(r, 5));

/** A groupCommit whose write of the group holding item 1 waits for `release()`; `writes` lists the groups as written. */
function holdingFirstWrite(opts: Parameters<typeof groupCommit>[1]) {
  const writes: number[][] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const submit = groupCommit<number>(async (items) => {
    writes.push(items);
    if (items.includes(1)) await gate;
  }, opts);
  return { submit, writes, release };
}

describe('groupCommit', () => {
  it('writes a lone item at once, and groups what arrives during a write', async () => {
    const writes: number[][] = [];
    const submit = groupCommit<number>(async (items) => {
      writes.push(items);
      await tick();
    });
    const first = submit(1);
    const rest = [submit(2), submit(3), submit(4)];
    await Promise.all([first, ...rest]);
    expect(writes).toEqual([[1], [2, 3, 4]]);
  });

  it('caps the group size', async () => {
    const writes: number[][] = [];
    const submit = groupCommit<number>(async (items) => {
      writes.push(items);
      await tick();
    }, { maxBatch: 2 });
    await Promise.all([1, 2, 3, 4, 5].map((i) => submit(i)));
    expect(writes).toEqual([[1], [2, 3], [4, 5]]);
  });

  it('settles a caller only after the write holding its item', async () => {
    const written = new Set<number>();
    const submit = groupCommit<number>(async (items) => {
      await tick();
      for (const i of items) written.add(i);
    });
    await Promise.all([1, 2, 3].map(async (i) => {
      await submit(i);
      expect(written.has(i)).toBe(true);
    }));
  });

  it('a failing group is written one by one: only the bad item fails', async () => {
    const writes: number[][] = [];
    const submit = groupCommit<number>(async (items) => {
      writes.push(items);
      await tick();
      if (items.includes(13)) throw new Error('bad 13');
    });
    const r = await Promise.allSettled([submit(1), submit(12), submit(13), submit(14)]);
    expect(r.map((x) => x.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(writes).toEqual([[1], [12, 13, 14], [12], [13], [14]]);
  });

  it('keeps working after a failure', async () => {
    let fail = true;
    const submit = groupCommit<number>(async () => {
      if (fail) {
        fail = false;
        throw new Error('once');
      }
    });
    await expect(submit(1)).rejects.toThrow('once');
    await expect(submit(2)).resolves.toBeUndefined();
  });

  it('with lingerMs, waits that long after an idle moment so that items arriving close together share a write', async () => {
    const writes: number[][] = [];
    const submit = groupCommit<number>(async (items) => {
      writes.push(items);
    }, { lingerMs: 30 });
    const first = submit(1);
    await tick();
    const second = submit(2);
    await Promise.all([first, second]);
    expect(writes).toEqual([[1, 2]]);
    await submit(3);
    expect(writes).toEqual([[1, 2], [3]]);
  });

  it('with fillTo, a group that follows a write waits lingerMs for company when it would be smaller', async () => {
    const { submit, writes, release } = holdingFirstWrite({ lingerMs: 300, fillTo: 4 });
    const first = submit(1);
    while (writes.length === 0) await new Promise((r) => setTimeout(r, 5)); // 1 is being written
    const second = submit(2);
    release();
    await new Promise((r) => setTimeout(r, 5)); // the write of 1 ended; 2 waits for company
    const third = submit(3);
    await Promise.all([first, second, third]);
    expect(writes).toEqual([[1], [2, 3]]);
    // Without fillTo, what queued during a write is written at once.
    const { submit: submitPlain, writes: plain, release: releasePlain } = holdingFirstWrite({ lingerMs: 30 });
    const p1 = submitPlain(1);
    while (plain.length === 0) await new Promise((r) => setTimeout(r, 5));
    const p2 = submitPlain(2);
    releasePlain();
    await new Promise((r) => setTimeout(r, 5));
    const p3 = submitPlain(3);
    await Promise.all([p1, p2, p3]);
    expect(plain).toEqual([[1], [2], [3]]);
  });

  it('a linger ends as soon as the group it waits for is full (maxBatch after an idle moment, fillTo after a write)', async () => {
    // A linger of 10 minutes: if a full group waited it out, this test would time out.
    const { submit, writes, release } = holdingFirstWrite({ lingerMs: 600_000, maxBatch: 2, fillTo: 2 });
    const first = [submit(1), submit(2)]; // a full group after an idle moment: written at once
    while (writes.length === 0) await tick();
    expect(writes).toEqual([[1, 2]]);
    const next = submit(3);
    release();
    await tick(); // the write of 1, 2 ended; 3 waits for company
    expect(writes).toEqual([[1, 2]]);
    const last = submit(4); // the group is full: the linger ends
    await Promise.all([...first, next, last]);
    expect(writes).toEqual([[1, 2], [3, 4]]);
  });

  it('fillLingerMs sets the wait after a write apart from the wait after an idle moment', async () => {
    // A lone item waits 1 ms; a group after a write waits up to 10 minutes for a fourth item.
    const { submit, writes, release } = holdingFirstWrite({ lingerMs: 1, fillTo: 3, fillLingerMs: 600_000 });
    const first = submit(1);
    while (writes.length === 0) await tick(); // written after its 1 ms, alone
    const second = submit(2);
    release();
    await tick();
    await tick();
    expect(writes).toEqual([[1]]); // 2 waits for company (with lingerMs as the fill wait, 1 ms, it would be written)
    const third = submit(3);
    await tick();
    expect(writes).toEqual([[1]]);
    const fourth = submit(4); // three queued: the group is full, the long wait ends
    await Promise.all([first, second, third, fourth]);
    expect(writes).toEqual([[1], [2, 3, 4]]);
  });
  it('a write that starts soon after the previous one ended waits fillLingerMs for fillTo; after an idle moment, lingerMs', async () => {
    const writes: number[][] = [];
    const submit = groupCommit<number>(async (items) => {
      writes.push(items);
    }, { lingerMs: 1, fillTo: 3, fillLingerMs: 300 });
    await submit(1); // alone, after its 1 ms
    const second = submit(2); // the write of 1 has just ended: steady traffic, 2 waits for company
    await tick();
    await tick();
    expect(writes).toEqual([[1]]);
    const third = submit(3);
    const fourth = submit(4); // three queued: written at once
    await Promise.all([second, third, fourth]);
    expect(writes).toEqual([[1], [2, 3, 4]]);
    await new Promise((r) => setTimeout(r, 350)); // idle for longer than fillLingerMs
    const fifth = submit(5);
    await tick();
    await tick();
    expect(writes).toEqual([[1], [2, 3, 4], [5]]); // after lingerMs, not fillLingerMs
    await fifth;
  });
});
