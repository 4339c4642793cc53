/**
 * Sync decisions as pure predicates over what we stored and what the server reports for a folder.
 * The worker asks `planFolderSync` what to do, does it, and writes the checkpoint it returns.
 */

export interface FolderCheckpoint {
  uidvalidity: number;
  /** Highest UID stored; incremental sync continues above it. */
  highestUid: number;
  /** Lowest UID reached by the newest-first initial sync (null before the first batch). */
  lowestUid: number | null;
  /** The initial sync stops at this UID (oldest UID inside the window); null = not computed yet. */
  windowFloorUid: number | null;
  initialDone: boolean;
  highestModseq: string | null;
}

export interface FolderStatus {
  uidvalidity: number;
  uidnext: number;
  exists: number;
  highestModseq?: string | null;
}

export type FolderPlan =
  | { kind: 'start'; reason: 'first_sync' | 'uidvalidity_changed' }
  | { kind: 'backfill'; below: number; floor: number }
  | { kind: 'incremental'; fromUid: number }
  | { kind: 'up_to_date' };

/**
 * What to do with one folder:
 * - no checkpoint, or UIDVALIDITY changed: start over (the old UIDs mean nothing any more; messages
 *   already stored are matched again by Message-ID, so nothing is announced twice);
 * - initial sync not finished: continue newest-first below the lowest UID reached, down to the floor;
 * - new mail (UIDNEXT above the highest UID + 1, or MODSEQ moved): incremental from highest + 1;
 * - otherwise nothing to fetch.
 * New mail is fetched before backfilling, so the inbox stays current during a long initial sync.
 */
export function planFolderSync(cp: FolderCheckpoint | null, status: FolderStatus): FolderPlan {
  if (!cp) return { kind: 'start', reason: 'first_sync' };
  if (cp.uidvalidity !== status.uidvalidity) return { kind: 'start', reason: 'uidvalidity_changed' };
  if (status.uidnext > cp.highestUid + 1) return { kind: 'incremental', fromUid: cp.highestUid + 1 };
  if (!cp.initialDone && cp.lowestUid !== null && cp.windowFloorUid !== null && cp.lowestUid > cp.windowFloorUid) {
    return { kind: 'backfill', below: cp.lowestUid, floor: cp.windowFloorUid };
  }
  return { kind: 'up_to_date' };
}

/**
 * `UID FETCH n:*` returns the last message even when nothing is new (the range is reversed to "*:n").
 * Keep only UIDs strictly above what we have.
 */
export function onlyNewUids(uids: readonly number[], highestUid: number): number[] {
  return uids.filter((u) => u > highestUid);
}

/** Splits UIDs (any order) into newest-first batches of at most `size`. */
export function newestFirstBatches(uids: readonly number[], size: number): number[][] {
  const sorted = [...new Set(uids)].sort((a, b) => b - a);
  const out: number[][] = [];
  for (let i = 0; i < sorted.length; i += size) out.push(sorted.slice(i, i + size));
  return out;
}

/** Compact IMAP sequence set for UIDs: [1,2,3,7,9,10] -> "1:3,7,9:10". Keeps commands short. */
export function uidSet(uids: readonly number[]): string {
  const sorted = [...new Set(uids)].sort((a, b) => a - b);
  const parts: string[] = [];
  let start = sorted[0];
  let prev = sorted[0];
  for (let i = 1; i <= sorted.length; i++) {
    const u = sorted[i];
    if (u !== undefined && prev !== undefined && u === prev + 1) {
      prev = u;
      continue;
    }
    if (start !== undefined && prev !== undefined) parts.push(start === prev ? `${start}` : `${start}:${prev}`);
    start = u;
    prev = u;
  }
  return parts.join(',');
}

/** UIDs we hold that the server no longer lists: expunged or moved away. */
export function vanishedUids(stored: readonly number[], onServer: readonly number[]): number[] {
  const server = new Set(onServer);
  return stored.filter((u) => !server.has(u));
}

/** The start of the initial sync window; null = everything. */
export function windowStart(now: number, days: number | null): Date | null {
  if (days === null) return null;
  return new Date(now - days * 24 * 3600 * 1000);
}

/** Exponential backoff for a failing connection: 30 s, 1, 2, 4 ... capped at 30 minutes. */
export function connectionBackoffMs(failureCount: number): number {
  return Math.min(30 * 60_000, 30_000 * 2 ** Math.max(0, failureCount - 1));
}

/** Should a message of this size be fetched, or recorded as skipped? */
export function isOversized(size: number, maxBytes: number): boolean {
  return size > maxBytes;
}

/**
 * Delay before reconnect attempt after `failures` consecutive failures (0: at once), for a mailbox held
 * in a long-lived session: exponential from 2 s to 5 min, with jitter (half to all of it) so that a mail
 * server outage does not bring every mailbox back at the same instant.
 */
export function reconnectDelayMs(failures: number, random: () => number = Math.random): number {
  if (failures <= 0) return 0;
  const full = Math.min(5 * 60_000, 2_000 * 2 ** (failures - 1));
  return Math.round(full * (0.5 + random() * 0.5));
}
