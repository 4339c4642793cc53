/**
 * How good is a threading? Pairwise precision and recall of a predicted partition of messages
 * (conversations) against a true one (the References closure, or another indexer's threads), as the
 * threading literature and issue 18 measure it: over every pair of messages both partitions know,
 * precision is the share of pairs put together that truly belong together, recall the share of pairs that
 * belong together that were put together. Pure; the bench (bench/ingest-threading.ts) and the corpus
 * import script use it.
 */
import { isThreadingId } from './threading.js';

export interface PairwiseQuality {
  precision: number;
  recall: number;
  /** Messages both partitions know (the pairs are counted among them). */
  messages: number;
  /** Pairs together in both. */
  truePairs: number;
  /** Pairs put together that are apart in the truth. */
  falsePairs: number;
  /** Pairs together in the truth that were kept apart. */
  missedPairs: number;
}

const pairs = (sizes: Iterable<number>) => {
  let n = 0;
  for (const s of sizes) n += (s * (s - 1)) / 2;
  return n;
};

/** Precision and recall (rounded to 4 digits; 1 when there is no pair to get wrong) of `predicted` against `truth`, both message → group. */
export function pairwiseQuality(predicted: ReadonlyMap<string, string>, truth: ReadonlyMap<string, string>): PairwiseQuality {
  const keys = [...predicted.keys()].filter((k) => truth.has(k));
  const count = (group: (k: string) => string) => {
    const sizes = new Map<string, number>();
    for (const k of keys) sizes.set(group(k), (sizes.get(group(k)) ?? 0) + 1);
    return sizes.values();
  };
  const together = pairs(count((k) => predicted.get(k)!));
  const truly = pairs(count((k) => truth.get(k)!));
  // A pair is together in both exactly when both messages share the (predicted, true) group pair.
  const both = pairs(count((k) => `${predicted.get(k)}\u0000${truth.get(k)}`));
  const round = (x: number) => Math.round(x * 10_000) / 10_000;
  return {
    precision: together ? round(both / together) : 1,
    recall: truly ? round(both / truly) : 1,
    messages: keys.length,
    truePairs: both,
    falsePairs: together - both,
    missedPairs: truly - both,
  };
}

/**
 * The References closure: each message (by Message-ID) → a representative of its thread, the connected
 * component of the graph joining a message to every id it names (In-Reply-To, References), whether or not
 * the named message is among `messages`. Ids that are not ids (`<yes>`) join nothing.
 */
export function referencesClosure(messages: ReadonlyArray<{ messageId: string; parents: readonly string[] }>): Map<string, string> {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let root = x;
    while (parent.has(root) && parent.get(root) !== root) root = parent.get(root)!;
    for (let y = x; y !== root; ) {
      const next = parent.get(y)!;
      parent.set(y, root);
      y = next;
    }
    return root;
  };
  for (const m of messages) {
    for (const p of m.parents) {
      if (!isThreadingId(p)) continue;
      const [a, b] = [find(m.messageId), find(p)];
      if (a !== b) parent.set(a, b);
    }
  }
  return new Map(messages.map((m) => [m.messageId, find(m.messageId)]));
}
