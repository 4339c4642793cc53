/**
 * One mailbox held by a worker (issue 20): an IMAP session kept open and listening (IDLE on INBOX,
 * re-issued before the socket timeout; or polling on an adaptive interval when the server has no IDLE),
 * a sync pass when something changed, and a reconnect when the session dies: at once the first time,
 * then with jittered exponential backoff per mailbox; connects go through a process-wide limiter and
 * active work (fetch, parse, write) through another, so a worker holds thousands of idle sessions
 * while only a few work at a time.
 *
 * State that the API shows (`connections.listening`: live / polling / waiting) is written when it
 * changes, never on a timer. What "holding" a mailbox means (leases) is the supervisor's business
 * (mailbox-supervisor.ts); `runConnectionSync` (sync-job.ts) runs one session for a time slice.
 */
import type { ConnectionsTable } from '../../platform/database/schema.js';
import type { ImapFlow } from 'imapflow';
import type { Logger } from 'pino';
import { openImap, syncConnectionOnce, DEFAULT_SYNC_OPTIONS, type SyncOptions, type SyncStats } from '../../mail/imap-sync.js';
import { listenForChange, supportsIdle } from '../../mail/idle-listener.js';
import { reconnectDelayMs } from '../../mail/sync-plan.js';
import { fitIdleReissue, DEFAULT_IMAP_SESSION, type ImapSessionTimings } from '../../mail/transport-options.js';
import type { Limiter } from '../../platform/jobs/limiter.js';
import type { Ingestor } from '../ingest/index.js';
import { recordSyncFailure } from './sync-failures.js';
import { ensureFreshToken } from './oauth/tokens.js';
import { markSyncSucceeded, waitsForOwner } from './lifecycle.js';

export type Listening = 'live' | 'polling' | 'waiting';

export interface SessionSettings {
  timings: ImapSessionTimings;
  /** Folders other than INBOX (no IDLE on them) get a pass at least this often; also the longest poll interval without IDLE. */
  pollMs: number;
  /** Without IDLE: the first poll interval, doubled after each empty poll up to pollMs, back to this after new mail. */
  pollMinMs: number;
  /** A session that lived at least this long was healthy: its loss reconnects at once. */
  stableMs: number;
}

export const DEFAULT_SESSION_SETTINGS: SessionSettings = { timings: DEFAULT_IMAP_SESSION, pollMs: 5 * 60_000, pollMinMs: 30_000, stableMs: 60_000 };

export interface SessionLimits {
  /** Active work (a sync pass: fetch, parse, write). */
  work: Limiter;
  /** Opening IMAP sessions (TCP, TLS, login): a mail server outage must not turn into a reconnect storm. */
  connect: Limiter;
  /** How a pass writes its batches (the supervisor's group committer); default one transaction per batch. */
  write?: SyncOptions['write'];
}

export interface SessionOptions {
  settings: SessionSettings;
  limits: SessionLimits;
  log: Logger;
  /** Single mode (runConnectionSync): errors are thrown to the caller, a lost session ends the run. */
  failFast?: boolean;
  /** Ends the run (returns 'again') at this time. */
  deadline?: number;
  random?: () => number;
}

export class MailboxSession {
  /** IMAP logins made (tests: a re-issued IDLE must not cost a reconnect). */
  connects = 0;
  /** IDLE re-issues done. */
  reissues = 0;
  /** Sync passes done, time spent in them, and time spent waiting for a work slot (benchmark). */
  passes = 0;
  passMs = 0;
  workWaitMs = 0;
  listening: Listening | null = null;
  private written: string | null | undefined;
  private readonly stopCtl = new AbortController();
  private wakeCtl = new AbortController();
  private dirty = true;
  private stopping = false;
  private running: Promise<'again' | 'stopped'> | null = null;

  constructor(
    private readonly ingestor: Ingestor,
    readonly connectionId: string,
    private readonly o: SessionOptions,
  ) {}

  /** Runs until stopped (supervisor mode) or the deadline; 'stopped' when the mailbox must not be synced (disconnected, auth failed). */
  run(): Promise<'again' | 'stopped'> {
    this.running ??= this.loop();
    return this.running;
  }

  /** Sync now (new credentials, "sync now"). */
  poke(): void {
    this.dirty = true;
    this.wakeCtl.abort();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.stopCtl.abort();
    await this.running?.catch(() => undefined);
  }

  private get env() {
    return this.ingestor.env;
  }

  private pastDeadline(): boolean {
    return this.o.deadline !== undefined && this.env.now() >= this.o.deadline;
  }

  private async loop(): Promise<'again' | 'stopped'> {
    const env = this.env;
    const log = this.o.log;
    let failures = 0;
    let lostOnly = false;
    while (!this.stopping) {
      let c: ConnectionsTable | undefined;
      try {
        c = await env.db.selectFrom('connections').selectAll().where('id', '=', this.connectionId).executeTakeFirst();
      } catch (err) {
        // The database is unreachable for a moment: try again later rather than give the mailbox up.
        if (this.o.failFast) throw err;
        failures += 1;
        log.warn({ connectionId: this.connectionId, err: (err as Error).message }, 'could not read the connection; retrying after a backoff');
        await sleep(reconnectDelayMs(failures, this.o.random), this.stopCtl.signal);
        continue;
      }
      if (!c || c.disconnected_at !== null || c.transport !== 'imap' || waitsForOwner(c.state)) return 'stopped';
      if (this.written === undefined) {
        this.written = c.listening;
        // Taken over from a worker that died saying live: not listening here yet (written once per takeover).
        if (c.listening === 'live' || c.listening === 'polling') await this.setListening('waiting');
      }
      let client: ImapFlow | null = null;
      let connectedAt = 0;
      try {
        // OAuth: an access token about to end is renewed before the login (the refresh job may be late).
        const fresh = await ensureFreshToken(env, this.connectionId, `session:${this.connectionId}`);
        if (fresh === 'needs_reauth') return 'stopped';
        const current = fresh === 'refreshed' ? await env.db.selectFrom('connections').selectAll().where('id', '=', this.connectionId).executeTakeFirst() : c;
        client = await this.o.limits.connect.run(() => openImap(env, current ?? c, this.o.settings.timings.socketMs));
        client.on('error', (err: Error) => log.debug({ connectionId: this.connectionId, err: err.message }, 'IMAP session error'));
        this.connects += 1;
        connectedAt = Date.now();
        const why = await this.connected(client);
        if (why === 'stopped') return 'stopped';
        if (why === 'done' || this.stopping || this.pastDeadline()) return 'again';
        // The session died under us (no answer to a re-issue, socket closed by the server or the network).
        log.warn({ connectionId: this.connectionId, address: c.address, listenedMs: Date.now() - connectedAt }, 'IMAP session lost; reconnecting');
        await this.setListening('waiting');
        if (this.o.failFast) return 'again';
        // At once; only a session that keeps dying young (flapping) backs off, from the second time.
        failures = Date.now() - connectedAt >= this.o.settings.stableMs ? 0 : failures + 1;
        lostOnly = true;
      } catch (err) {
        if (this.o.failFast) throw err;
        if (this.stopping) break;
        const failure = await recordSyncFailure(env, this.connectionId, err).catch(() => ({ outcome: 'retry' as const }));
        if (failure.outcome === 'auth_failed') return 'stopped';
        failures += 1;
        log.warn({ connectionId: this.connectionId, address: c.address, failures, err: (err as Error).message }, 'IMAP session failed; reconnecting after a backoff');
        await this.setListening('waiting');
      } finally {
        if (client) await closeClient(client);
      }
      if (this.pastDeadline()) return 'again';
      await sleep(reconnectDelayMs(lostOnly ? failures - 1 : failures, this.o.random), this.stopCtl.signal);
      lostOnly = false;
    }
    return 'again';
  }

  /** Sync passes and listening on one open session; returns why it ended. */
  private async connected(client: ImapFlow): Promise<'closed' | 'done' | 'stopped'> {
    const env = this.env;
    const s = this.o.settings;
    const timings = fitIdleReissue(s.timings);
    const idle = supportsIdle(client);
    let lastFullPass = 0;
    let pollEvery = s.pollMinMs;
    this.dirty = true;
    for (;;) {
      if (this.dirty || env.now() - lastFullPass >= (idle ? s.pollMs : pollEvery)) {
        this.dirty = false;
        const row = await env.db.selectFrom('connections').select(['disconnected_at', 'state']).where('id', '=', this.connectionId).executeTakeFirst();
        if (!row || row.disconnected_at !== null || waitsForOwner(row.state)) return 'stopped';
        const queuedAt = performance.now();
        const stats = await this.o.limits.work.run(() => {
          const startedAt = performance.now();
          this.workWaitMs += startedAt - queuedAt;
          return this.pass(client).finally(() => {
            this.passMs += performance.now() - startedAt;
          });
        });
        lastFullPass = env.now();
        if (!idle) pollEvery = stats.stored > 0 ? s.pollMinMs : Math.min(s.pollMs, pollEvery * 2);
      }
      if (this.stopping || this.pastDeadline()) return 'done';
      if (!client.usable) return 'closed';
      if (this.wakeCtl.signal.aborted) this.wakeCtl = new AbortController();
      if (this.dirty) continue; // poked during the pass: another one now
      const untilPass = (idle ? s.pollMs : pollEvery) - (env.now() - lastFullPass);
      const outcome = await listenForChange(client, {
        idleReissueMs: timings.idleReissueMs,
        probeMs: timings.probeMs,
        maxWaitMs: Math.max(0, Math.min(untilPass, this.o.deadline !== undefined ? this.o.deadline - env.now() : Infinity)),
        signal: AbortSignal.any([this.stopCtl.signal, this.wakeCtl.signal]),
        knownUidNext: await this.knownInboxUidNext(),
        onListening: (mode) => void this.setListening(mode),
        onReissue: () => {
          this.reissues += 1;
        },
      });
      if (outcome === 'closed') return 'closed';
      if (outcome === 'exists') this.dirty = true;
    }
  }

  private async pass(client: ImapFlow): Promise<SyncStats> {
    const env = this.env;
    const stats = await syncConnectionOnce(env, this.ingestor, this.connectionId, client, this.o.log, { ...DEFAULT_SYNC_OPTIONS, signal: this.stopCtl.signal, ...(this.o.limits.write ? { write: this.o.limits.write } : {}) });
    this.passes += 1;
    // The connection's state is written only when it changes: an idle pass writes nothing.
    const pending = await env.db.selectFrom('folder_states').select('initial_done').where('connection_id', '=', this.connectionId).where('initial_done', '=', 0).executeTakeFirst();
    const c = await env.db.selectFrom('connections').select(['state', 'stage', 'failure_count', 'last_error_code']).where('id', '=', this.connectionId).executeTakeFirst();
    const state = pending ? 'syncing' : 'active';
    if (c && (c.state !== state || c.failure_count !== 0 || c.last_error_code !== null || (!pending && c.stage !== null))) {
      // Through the lifecycle's named transition (a disconnected connection is refused there, never revived).
      await markSyncSucceeded(env.db, this.connectionId, { initialPending: Boolean(pending) });
    }
    this.o.log.debug({ connectionId: this.connectionId, ...stats }, 'sync pass done');
    return stats;
  }

  /** UIDNEXT that INBOX is synced up to (new mail that came while syncing is then seen without waiting). */
  private async knownInboxUidNext(): Promise<number | undefined> {
    const row = await this.env.db.selectFrom('folder_states').select('highest_uid').where('connection_id', '=', this.connectionId).where('folder', '=', 'INBOX').executeTakeFirst();
    return row ? Number(row.highest_uid) + 1 : undefined;
  }

  /** Writes `connections.listening` when it changes (and only then). */
  async setListening(mode: Listening | null): Promise<void> {
    this.listening = mode;
    if (this.written === mode) return;
    this.written = mode;
    try {
      await this.env.db.updateTable('connections').set({ listening: mode, listening_since: this.env.now() }).where('id', '=', this.connectionId).execute();
    } catch (err) {
      this.written = undefined;
      this.o.log.warn({ connectionId: this.connectionId, err: (err as Error).message }, 'could not record the listening state');
    }
  }
}

async function closeClient(client: ImapFlow): Promise<void> {
  if (!client.usable) {
    client.close();
    return;
  }
  await Promise.race([client.logout().catch(() => undefined), sleep(5_000)]);
  client.close();
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
