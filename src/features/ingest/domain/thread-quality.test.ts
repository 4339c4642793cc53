import { describe, expect, it } from 'vitest';
import { pairwiseQuality, referencesClosure } from './thread-quality.js';

const partition = (groups: string[][]) => new Map(groups.flatMap((g, i) => g.map((k) => [k, `g${i}`] as const)));

describe('pairwise threading quality', () => {
  it.each([
    ['identical partitions', [['a', 'b', 'c'], ['d']], [['a', 'b', 'c'], ['d']], { precision: 1, recall: 1, truePairs: 3, falsePairs: 0, missedPairs: 0 }],
    ['one thread split in two', [['a', 'b'], ['c']], [['a', 'b', 'c']], { precision: 1, recall: 0.3333, truePairs: 1, falsePairs: 0, missedPairs: 2 }],
    [
      'two threads glued',
      [['a', 'b', 'c', 'd']],
      [
        ['a', 'b'],
        ['c', 'd'],
      ],
      { precision: 0.3333, recall: 1, truePairs: 2, falsePairs: 4, missedPairs: 0 },
    ],
    ['singletons only: nothing to get wrong', [['a'], ['b']], [['a'], ['b']], { precision: 1, recall: 1, truePairs: 0, falsePairs: 0, missedPairs: 0 }],
    ['all apart where the truth joins them', [['a'], ['b']], [['a', 'b']], { precision: 1, recall: 0, truePairs: 0, falsePairs: 0, missedPairs: 1 }],
  ])('%s', (_label, predicted, truth, expected) => {
    expect(pairwiseQuality(partition(predicted), partition(truth))).toMatchObject(expected);
  });

  it('counts only messages both partitions know', () => {
    const q = pairwiseQuality(partition([['a', 'b', 'x']]), partition([['a', 'b', 'y']]));
    expect(q).toMatchObject({ messages: 2, precision: 1, recall: 1, truePairs: 1 });
  });

  it('group names do not matter, only who is with whom', () => {
    const predicted = new Map([
      ['a', 'cnv_1'],
      ['b', 'cnv_1'],
      ['c', 'cnv_2'],
    ]);
    const truth = new Map([
      ['a', 'x'],
      ['b', 'x'],
      ['c', 'y'],
    ]);
    expect(pairwiseQuality(predicted, truth)).toMatchObject({ precision: 1, recall: 1 });
  });
});

describe('the References closure', () => {
  const m = (messageId: string, ...parents: string[]) => ({ messageId, parents });
  const groups = (closure: Map<string, string>) => {
    const by = new Map<string, string[]>();
    for (const [id, root] of closure) by.set(root, [...(by.get(root) ?? []), id].sort());
    return [...by.values()].map((g) => g.join(' ')).sort();
  };
  it.each([
    ['a chain in any order', [m('c@x', 'a@x', 'b@x'), m('b@x', 'a@x'), m('a@x')], ['a@x b@x c@x']],
    ['replies to an ancestor never seen meet', [m('b@x', 'ghost@x'), m('c@x', 'ghost@x'), m('d@x')], ['b@x c@x', 'd@x']],
    ['a link through a middle message not in the set', [m('c@x', 'b@x'), m('a@x'), m('z@x', 'a@x', 'b@x')], ['a@x c@x z@x']],
    ['ids that are not ids link nothing', [m('p@x', 'yes'), m('q@x', 'yes'), m('r@x', '')], ['p@x', 'q@x', 'r@x']],
    ['a message naming itself', [m('s@x', 's@x')], ['s@x']],
  ])('%s', (_label, messages, expected) => {
    expect(groups(referencesClosure(messages))).toEqual(expected);
  });
});
