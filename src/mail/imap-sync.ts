/**
 * IMAP sync of one connection (imapflow). One worker at a time per connection (a database lease).
 * Per folder: plan (pure, see domain/sync/sync-plan.ts), fetch in batches with no per-message round trip
 * (one FETCH of sizes and one FETCH of sources per batch), store each batch and its checkpoint in one
 * transaction. Initial sync goes newest first inside the window; new mail is always fetched before old.
 * Oversized messages are recorded as skipped, never silently dropped. Folders are opened read-only
 * (EXAMINE) so nothing is marked Seen on the user's server.
 */
import type { ImapFlow } from 'imapflow';
import type { Logger } from 'pino';
import type { CommandEnv, Executor } from '../platform/context.js';
import type { ConnectionsTable, FolderStatesTable } from '../platform/database/schema.js';
import { planFolderSync, onlyNewUids, newestFirstBatches, uidSet, vanishedUids, windowStart, isOversized, type FolderCheckpoint } from './sync-plan.js';
import { checkHost, imapOptions, secretFromCredentials, DEFAULT_TIMEOUTS, DEFAULT_IMAP_SESSION } from './transport-options.js';
import type { IngestItem, IngestResult, MailIngest as Ingestor, PreparedBatch } from './ingest-port.js';
import { senderAuthFromHeader, trustedAuthservIds } from './authentication-results.js';

export interface SyncOptions {
  batchSize: number;
  maxMessageBytes: number;
  /**
   * Writes a prepared batch with its checkpoint (default: the ingest port's `write`, one transaction per
   * batch). A worker holding many mailboxes passes a group committer that writes several mailboxes' batches together.
   */
  write?: (connection: ConnectionsTable, batch: PreparedBatch, afterWrite: (trx: Executor, result: IngestResult) => Promise<void>) => Promise<IngestResult>;
  /** Called after every committed batch (tests and progress). */
  onBatch?: (info: { folder: string; stored: number; duplicates: number }) => void;
  signal?: AbortSignal;
}

export const DEFAULT_SYNC_OPTIONS: SyncOptions = { batchSize: 250, maxMessageBytes: 40 * 1024 * 1024 };

export class ImapAuthError extends Error {}

export interface SyncStats {
  fetched: number;
  stored: number;
  duplicates: number;
  skipped: number;
  commands: number;
}

/**
 * Opens an authenticated IMAP client for a connection, with its host re-checked and pinned. The socket
 * timeout defaults to the long-lived session's (see DEFAULT_IMAP_SESSION in transport-options.ts).
 */
export async function openImap(env: CommandEnv, c: ConnectionsTable, socketMs: number = DEFAULT_IMAP_SESSION.socketMs): Promise<ImapFlow> {
  const secret = secretFromCredentials(env.secrets.open(c.credentials!), 'imap');
  const safe = await checkHost(c.imap_host!);
  const { ImapFlow } = await import('imapflow');
  const client = new ImapFlow(imapOptions({ host: c.imap_host!, port: c.imap_port!, tls: c.imap_tls as 'tls', username: c.imap_username! }, secret, safe, { ...DEFAULT_TIMEOUTS, socketMs }));
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    const e = err as { authenticationFailed?: boolean };
    if (e.authenticationFailed) throw new ImapAuthError(`The IMAP server refused the ${typeof secret === 'string' ? 'password' : 'access token'} for ${c.imap_username}.`);
    throw err;
  }
  return client;
}

/** One folder as the server lists it (LIST with SPECIAL-USE, RFC 6154). */
export interface ListedFolder {
  path: string;
  name: string;
  delimiter: string | null;
  specialUse: string | null;
  flags: string[];
}

/** Every folder of the mailbox, with its special use (Sent, Junk, Trash, Drafts...) and LIST flags. */
export async function listFolders(client: ImapFlow): Promise<ListedFolder[]> {
  const list = await client.list();
  return list.map((f) => ({ path: f.path, name: f.name, delimiter: f.delimiter ?? null, specialUse: f.specialUse ?? null, flags: [...(f.flags ?? [])] }));
}

function checkpointOf(row: FolderStatesTable | undefined): FolderCheckpoint | null {
  if (!row) return null;
  return {
    uidvalidity: Number(row.uidvalidity),
    highestUid: Number(row.highest_uid),
    lowestUid: row.lowest_uid === null ? null : Number(row.lowest_uid),
    windowFloorUid: row.window_floor_uid === null ? null : Number(row.window_floor_uid),
    initialDone: row.initial_done === 1,
    highestModseq: row.highest_modseq,
  };
}

async function saveCheckpoint(trx: Executor, connectionId: string, folder: string, cp: FolderCheckpoint, now: number): Promise<void> {
  const values = {
    uidvalidity: cp.uidvalidity,
    highest_uid: cp.highestUid,
    lowest_uid: cp.lowestUid,
    window_floor_uid: cp.windowFloorUid,
    initial_done: cp.initialDone ? 1 : 0,
    highest_modseq: cp.highestModseq,
    last_synced_at: now,
  };
  await trx
    .insertInto('folder_states')
    .values({ connection_id: connectionId, folder, message_count: 0, ...values })
    .onConflict((oc) => oc.columns(['connection_id', 'folder']).doUpdateSet(values))
    .execute();
}

/**
 * One sync pass over every folder of the connection. Returns counts; throws ImapAuthError on a refused
 * login (the caller moves the connection to auth_failed).
 */
export async function syncConnectionOnce(
  env: CommandEnv,
  ingestor: Ingestor,
  connectionId: string,
  client: ImapFlow,
  log: Logger,
  opts: SyncOptions = DEFAULT_SYNC_OPTIONS,
): Promise<SyncStats> {
  const stats: SyncStats = { fetched: 0, stored: 0, duplicates: 0, skipped: 0, commands: 0 };
  const c = await env.db.selectFrom('connections').selectAll().where('id', '=', connectionId).executeTakeFirstOrThrow();
  const folders = JSON.parse(c.folders) as string[];
  for (const folder of folders) {
    if (opts.signal?.aborted) break;
    await syncFolder(env, ingestor, c, folder, client, log, opts, stats);
  }
  return stats;
}

async function syncFolder(env: CommandEnv, ingestor: Ingestor, c: ConnectionsTable, folder: string, client: ImapFlow, log: Logger, opts: SyncOptions, stats: SyncStats): Promise<void> {
  let mailbox;
  try {
    mailbox = await client.mailboxOpen(folder, { readOnly: true });
  } catch (err) {
    log.warn({ folder, err: (err as Error).message }, 'folder could not be opened; skipping it this pass');
    return;
  }
  stats.commands += 1;
  const status = { uidvalidity: Number(mailbox.uidValidity), uidnext: mailbox.uidNext, exists: mailbox.exists, highestModseq: mailbox.highestModseq?.toString() ?? null };
  const stateRow = await env.db.selectFrom('folder_states').selectAll().where('connection_id', '=', c.id).where('folder', '=', folder).executeTakeFirst();
  let cp = checkpointOf(stateRow);
  const isSent = folder === c.sent_folder;
  const direction = isSent ? 'outbound' : 'inbound';

  for (let guard = 0; guard < 100_000; guard++) {
    if (opts.signal?.aborted) return;
    const plan = planFolderSync(cp, status);
    if (plan.kind === 'up_to_date') break;
    if (plan.kind === 'start') {
      if (plan.reason === 'uidvalidity_changed') {
        log.info({ folder }, 'UIDVALIDITY changed: folder is synced again; stored messages are matched, not duplicated');
        await env.db.updateTable('message_locations').set({ expunged_at: env.now() }).where('connection_id', '=', c.id).where('folder', '=', folder).where('expunged_at', 'is', null).execute();
      }
      const since = windowStart(env.now(), c.sync_window_days);
      const found = (await client.search(since ? { since } : { all: true }, { uid: true })) || [];
      stats.commands += 1;
      const uids = found as number[];
      const top = Math.max(status.uidnext - 1, 0);
      cp = {
        uidvalidity: status.uidvalidity,
        highestUid: top,
        lowestUid: uids.length ? Math.max(...uids) + 1 : 0,
        windowFloorUid: uids.length ? Math.min(...uids) : 0,
        initialDone: uids.length === 0,
        highestModseq: status.highestModseq,
      };
      await env.db.transaction().execute(async (trx) => {
        await saveCheckpoint(trx, c.id, folder, cp!, env.now());
        await trx.updateTable('connections').set({ progress_total: uids.length, progress_done: 0, stage: 'initial_sync', stage_started_at: env.now() }).where('id', '=', c.id).execute();
      });
      continue;
    }
    if (plan.kind === 'incremental') {
      const range = `${plan.fromUid}:*`;
      const uids = onlyNewUids(await fetchUids(client, range, stats), cp!.highestUid);
      if (uids.length === 0) {
        // The server answered n:* with the last message only: nothing new.
        cp = { ...cp!, highestUid: Math.max(cp!.highestUid, status.uidnext - 1) };
        await env.db.transaction().execute((trx) => saveCheckpoint(trx, c.id, folder, cp!, env.now()));
        continue;
      }
      const pipeline = new BatchPipeline(env, ingestor, c, folder, status.uidvalidity, client, opts, stats, direction);
      for (const batch of newestFirstBatches(uids, opts.batchSize).reverse()) {
        const asc = [...batch].sort((a, b) => a - b);
        const highest = asc[asc.length - 1]!;
        await pipeline.add(asc, async (trx) => {
          cp = { ...cp!, highestUid: Math.max(cp!.highestUid, highest) };
          await saveCheckpoint(trx, c.id, folder, cp!, env.now());
        });
      }
      await pipeline.drain();
      // Usually the last batch's checkpoint already reached UIDNEXT - 1: no second write for it.
      if (status.uidnext - 1 > cp!.highestUid) {
        cp = { ...cp!, highestUid: status.uidnext - 1 };
        await env.db.transaction().execute((trx) => saveCheckpoint(trx, c.id, folder, cp!, env.now()));
      }
      continue;
    }
    // backfill: newest first below the lowest UID reached, down to the window floor
    const since = windowStart(env.now(), c.sync_window_days);
    const rangeQuery = { uid: `${plan.floor}:${plan.below - 1}`, ...(since ? { since } : {}) };
    const uids = ((await client.search(rangeQuery, { uid: true })) || []) as number[];
    stats.commands += 1;
    const batches = newestFirstBatches(uids.filter((u) => u < plan.below && u >= plan.floor), opts.batchSize);
    if (batches.length === 0) {
      cp = { ...cp!, lowestUid: plan.floor, initialDone: true };
      await env.db.transaction().execute(async (trx) => {
        await saveCheckpoint(trx, c.id, folder, cp!, env.now());
        await trx.updateTable('connections').set({ stage: null }).where('id', '=', c.id).execute();
      });
      continue;
    }
    const pipeline = new BatchPipeline(env, ingestor, c, folder, status.uidvalidity, client, opts, stats, direction);
    for (const batch of batches) {
      if (opts.signal?.aborted) {
        await pipeline.drain();
        return;
      }
      const lowest = Math.min(...batch);
      await pipeline.add(batch, async (trx, stored) => {
        cp = { ...cp!, lowestUid: lowest, initialDone: lowest <= plan.floor };
        await saveCheckpoint(trx, c.id, folder, cp!, env.now());
        await trx
          .updateTable('connections')
          .set((eb) => ({ progress_done: eb('progress_done', '+', stored) }))
          .where('id', '=', c.id)
          .execute();
      });
    }
    await pipeline.drain();
  }
  await reconcileExpunges(env, c, folder, status, client, stats);
}

async function fetchUids(client: ImapFlow, range: string, stats: SyncStats): Promise<number[]> {
  const out: number[] = [];
  for await (const m of client.fetch(range, { uid: true }, { uid: true })) out.push(m.uid);
  stats.commands += 1;
  return out;
}

/** One fetched batch: the messages' sources, and the UIDs skipped as oversized (with their sizes). */
interface FetchedBatch {
  items: IngestItem[];
  /** Each message is handed to the parser as it arrives, while the rest of the FETCH streams in. */
  prepared: Promise<PreparedBatch>;
  oversized: number[];
  sizes: Map<number, number>;
}

/** Two FETCH commands per batch: sizes first (to skip oversized), then sources. */
async function fetchBatch(env: CommandEnv, ingestor: Ingestor, folder: string, uidvalidity: number, uids: number[], client: ImapFlow, opts: SyncOptions, stats: SyncStats, direction: 'inbound' | 'outbound', authservIds: readonly string[] = []): Promise<FetchedBatch> {
  const sizes = new Map<number, number>();
  for await (const m of client.fetch(uidSet(uids), { uid: true, size: true }, { uid: true })) sizes.set(m.uid, m.size ?? 0);
  stats.commands += 1;
  const wanted = uids.filter((u) => sizes.has(u) && !isOversized(sizes.get(u)!, opts.maxMessageBytes));
  const oversized = uids.filter((u) => sizes.has(u) && isOversized(sizes.get(u)!, opts.maxMessageBytes));
  const items: IngestItem[] = [];
  const preparing: Array<Promise<unknown>> = [];
  try {
    if (wanted.length) {
      for await (const m of client.fetch(uidSet(wanted), { uid: true, source: true, internalDate: true }, { uid: true })) {
        if (!m.source) continue;
        const item: IngestItem = { raw: m.source, source: 'imap', direction, receivedAt: m.internalDate ? new Date(m.internalDate).getTime() : env.now(), location: { folder, uidvalidity, uid: m.uid } };
        const senderAuth = direction === 'inbound' ? senderAuthFromHeader(m.source, authservIds) : null; // the mailbox server's own Authentication-Results
        if (senderAuth) item.senderAuth = senderAuth;
        items.push(item);
        const p = ingestor.prepare(item);
        p.catch(() => undefined); // surfaced through `prepared`
        preparing.push(p);
      }
      stats.commands += 1;
    }
  } catch (err) {
    await Promise.allSettled(preparing); // nothing left running behind a failed fetch
    throw err;
  }
  stats.fetched += items.length;
  const prepared = Promise.all(preparing).then((list) => ({ items: list }));
  prepared.catch(() => undefined); // surfaced by the write; never an unhandled rejection
  return { items, prepared, oversized, sizes };
}

/** Stores a fetched batch (already being parsed) in one transaction with its checkpoint. */
async function storeBatch(
  env: CommandEnv,
  ingestor: Ingestor,
  c: ConnectionsTable,
  folder: string,
  uidvalidity: number,
  fetched: FetchedBatch,
  opts: SyncOptions,
  stats: SyncStats,
  checkpoint: (trx: Executor, stored: number) => Promise<void>,
): Promise<void> {
  const { items, oversized, sizes } = fetched;
  const write = opts.write ?? ((conn, batch, after) => ingestor.write(conn, batch, after));
  const result = await write(c, await fetched.prepared, async (trx) => {
    for (const uid of oversized) {
      await trx
        .insertInto('skipped_messages')
        .values({ connection_id: c.id, folder, uidvalidity, uid, size: sizes.get(uid)!, reason: `larger than ${opts.maxMessageBytes} bytes`, created_at: env.now() })
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
    await checkpoint(trx, items.length + oversized.length);
  });
  stats.stored += result.stored;
  stats.duplicates += result.duplicates;
  stats.skipped += oversized.length;
  opts.onBatch?.({ folder, stored: result.stored, duplicates: result.duplicates });
}

/**
 * Batches in order, pipelined: while batch N is written (one transaction with its checkpoint), the next
 * batches are fetched from the server and parsed (each message as it arrives). Writes stay one at a time
 * and in order, so checkpoints only move forward after a commit, and a failed write stops the ones
 * behind it; at most PIPELINE_DEPTH batches are held in memory.
 */
const PIPELINE_DEPTH = 2;

class BatchPipeline {
  private writing: Promise<void> = Promise.resolve();
  private readonly unwritten: Array<Promise<void>> = [];

  constructor(
    private readonly env: CommandEnv,
    private readonly ingestor: Ingestor,
    private readonly c: ConnectionsTable,
    private readonly folder: string,
    private readonly uidvalidity: number,
    private readonly client: ImapFlow,
    private readonly opts: SyncOptions,
    private readonly stats: SyncStats,
    private readonly direction: 'inbound' | 'outbound',
  ) {}

  async add(uids: number[], checkpoint: (trx: Executor, stored: number) => Promise<void>): Promise<void> {
    const authservIds = trustedAuthservIds(this.c.imap_host, this.env.settings.trustedAuthservIds);
    const fetched = await fetchBatch(this.env, this.ingestor, this.folder, this.uidvalidity, uids, this.client, this.opts, this.stats, this.direction, authservIds);
    // Written after the previous batch is committed; never if it failed.
    this.writing = this.writing.then(() => storeBatch(this.env, this.ingestor, this.c, this.folder, this.uidvalidity, fetched, this.opts, this.stats, checkpoint));
    this.writing.catch(() => undefined); // thrown by add() or drain()
    this.unwritten.push(this.writing);
    while (this.unwritten.length >= PIPELINE_DEPTH) await this.unwritten.shift();
  }

  /** Waits for the last write; throws the first failure. */
  async drain(): Promise<void> {
    this.unwritten.length = 0;
    await this.writing;
  }
}

/** Marks locations whose UID the server no longer lists (expunged or moved away). Messages stay. */
async function reconcileExpunges(env: CommandEnv, c: ConnectionsTable, folder: string, status: { uidvalidity: number; exists: number }, client: ImapFlow, stats: SyncStats): Promise<void> {
  const live = await env.db
    .selectFrom('message_locations')
    .select('uid')
    .where('connection_id', '=', c.id)
    .where('folder', '=', folder)
    .where('uidvalidity', '=', status.uidvalidity)
    .where('expunged_at', 'is', null)
    .execute();
  if (live.length <= status.exists) return;
  const onServer = ((await client.search({ all: true }, { uid: true })) || []) as number[];
  stats.commands += 1;
  const gone = vanishedUids(live.map((r) => Number(r.uid)), onServer);
  if (gone.length === 0) return;
  for (let i = 0; i < gone.length; i += 500) {
    await env.db
      .updateTable('message_locations')
      .set({ expunged_at: env.now() })
      .where('connection_id', '=', c.id)
      .where('folder', '=', folder)
      .where('uidvalidity', '=', status.uidvalidity)
      .where('uid', 'in', gone.slice(i, i + 500))
      .execute();
  }
}
