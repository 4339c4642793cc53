import { describe, expect, it } from 'vitest';
import { connectionBackoffMs, reconnectDelayMs, newestFirstBatches, onlyNewUids, planFolderSync, uidSet, vanishedUids, type FolderCheckpoint } from './sync-plan.js';

const cp = (o: Partial<FolderCheckpoint> = {}): FolderCheckpoint => ({ uidvalidity: 7, highestUid: 100, lowestUid: 1, windowFloorUid: 1, initialDone: true, highestModseq: null, ...o });

describe('planFolderSync', () => {
  it.each([
    ['no checkpoint', null, { uidvalidity: 7, uidnext: 5, exists: 4 }, { kind: 'start', reason: 'first_sync' }],
    ['uidvalidity changed', cp(), { uidvalidity: 8, uidnext: 101, exists: 100 }, { kind: 'start', reason: 'uidvalidity_changed' }],
    ['new mail', cp(), { uidvalidity: 7, uidnext: 105, exists: 104 }, { kind: 'incremental', fromUid: 101 }],
    ['nothing new', cp(), { uidvalidity: 7, uidnext: 101, exists: 100 }, { kind: 'up_to_date' }],
    ['nothing new after expunges', cp(), { uidvalidity: 7, uidnext: 101, exists: 3 }, { kind: 'up_to_date' }],
    ['backfill continues', cp({ initialDone: false, lowestUid: 60, windowFloorUid: 10 }), { uidvalidity: 7, uidnext: 101, exists: 100 }, { kind: 'backfill', below: 60, floor: 10 }],
    ['new mail first, then backfill', cp({ initialDone: false, lowestUid: 60, windowFloorUid: 10 }), { uidvalidity: 7, uidnext: 120, exists: 119 }, { kind: 'incremental', fromUid: 101 }],
    ['backfill reached floor', cp({ initialDone: false, lowestUid: 10, windowFloorUid: 10 }), { uidvalidity: 7, uidnext: 101, exists: 100 }, { kind: 'up_to_date' }],
  ] as const)('%s', (_n, checkpoint, status, expected) => {
    expect(planFolderSync(checkpoint, status)).toEqual(expected);
  });
});

describe('uid helpers', () => {
  it('drops the last message that UID FETCH n:* returns when nothing is new', () => {
    expect(onlyNewUids([100], 100)).toEqual([]);
    expect(onlyNewUids([100, 101, 102], 100)).toEqual([101, 102]);
  });
  it('batches newest first', () => {
    expect(newestFirstBatches([1, 5, 3, 2, 4, 4], 2)).toEqual([[5, 4], [3, 2], [1]]);
  });
  it.each([
    [[1, 2, 3, 7, 9, 10], '1:3,7,9:10'],
    [[5], '5'],
    [[3, 1, 2], '1:3'],
    [[], ''],
  ])('uidSet(%j) = %s', (uids, set) => expect(uidSet(uids)).toBe(set));
  it('finds vanished UIDs', () => expect(vanishedUids([1, 2, 3, 4], [1, 3])).toEqual([2, 4]));
  it.each([
    [1, 30_000],
    [2, 60_000],
    [5, 480_000],
    [20, 1_800_000],
  ])('backoff after %i failures is %i ms', (n, ms) => expect(connectionBackoffMs(n)).toBe(ms));
});

describe('reconnectDelayMs', () => {
  it.each([
    [0, 0.5, 0],
    [1, 1, 2_000],
    [1, 0, 1_000],
    [2, 1, 4_000],
    [5, 1, 32_000],
    [20, 1, 300_000],
    [20, 0, 150_000],
  ])('after %i failures with random %d: %i ms', (failures, r, expected) => {
    expect(reconnectDelayMs(failures, () => r)).toBe(expected);
  });
});
