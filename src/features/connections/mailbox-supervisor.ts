/**
 * The mailbox supervisor of a worker process (issue 20): "hold many, work on few".
 *
 * - Assignment by leases: every tick (a third of the lease time) the worker claims unleased or expired
 *   mailbox leases (`sync:<connectionId>`) up to its fair share (eligible mailboxes / live workers,
 *   never above `maxMailboxes`), and starts a MailboxSession for each: one IMAP session and a little
 *   state per mailbox, kept listening (IDLE).
 * - Liveness in one statement: `update leases set expires_at = ? where holder = ?` renews the worker's
 *   own heartbeat lease (`worker:<id>`) and all its mailbox leases at once, so an idle worker's database
 *   writes do not grow with the mailboxes it holds. A worker that dies stops renewing: its leases expire
 *   after `leaseMs` and the others claim them at their next tick (failover within leaseMs + tickMs + a
 *   login, 40 s by default).
 * - Rebalancing: a worker holding more than its fair share (a worker joined) releases the excess (at most
 *   `claimBatch` a tick); the newcomer claims them at its next tick. All workers must use the same
 *   `maxMailboxes`.
 * - Active work is limited by `workConcurrency` (sync passes at once) and reconnects by
 *   `connectConcurrency`; idle sessions cost no slot.
 * - Held connections are re-read every tick (reads only): disconnected or auth-failed ones are dropped and
 *   their lease released; changed settings or credentials restart the session.
 */
import './oauth/schema.js';
import crypto from 'node:crypto';
import os from 'node:os';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { acquireLease, acquireLeases, leasesOf, releaseLease, releaseLeases, renewLeasesOf } from '../../platform/jobs/lease.js';
import { Limiter } from '../../platform/jobs/limiter.js';
import type { ConnectionsTable } from '../../platform/database/schema.js';
import { writePreparedGroup, type GroupEntry, type Ingestor, type IngestResult, type PreparedBatch } from '../ingest/index.js';
import { groupCommit } from '../../mail/group-commit.js';
import type { SessionLimits } from './mailbox-session.js';
import { MailboxSession, DEFAULT_SESSION_SETTINGS, type SessionSettings } from './mailbox-session.js';
import { WAITING_FOR_OWNER, waitsForOwner } from './lifecycle.js';

export interface SupervisorSettings {
  /** Most mailboxes one worker holds (same value on every worker). */
  maxMailboxes: number;
  /** Sync passes (fetch, parse, write) running at once in this worker. */
  workConcurrency: number;
  /** IMAP logins in progress at once in this worker. */
  connectConcurrency: number;
  leaseMs: number;
  /** Renew, check, claim and rebalance this often (default leaseMs / 3). */
  tickMs?: number;
  /** Most leases claimed or released in one tick. */
  claimBatch: number;
  session: SessionSettings;
}

export const DEFAULT_SUPERVISOR_SETTINGS: SupervisorSettings = {
  maxMailboxes: 5000,
  workConcurrency: 16,
  connectConcurrency: 20,
  leaseMs: 30_000,
  claimBatch: 500,
  session: DEFAULT_SESSION_SETTINGS,
};

const SYNC = 'sync:';
const WORKER = 'worker:';

interface Held {
  session: MailboxSession;
  done: Promise<void>;
  fingerprint: string;
  releasing: boolean;
}

/**
 * What restarts a session when it changes. An OAuth connection's credentials change at every token
 * refresh: a logged-in session has no use for the new token (it takes the current one when it logs in
 * again), so they do not count there (`oauth` set: the connection signs in with OAuth).
 */
function fingerprint(c: Pick<ConnectionsTable, 'credentials' | 'imap_host' | 'imap_port' | 'imap_tls' | 'imap_username' | 'folders' | 'sent_folder' | 'sync_window_days'> & { oauth: string | null }): string {
  return JSON.stringify([c.oauth ? 'oauth' : c.credentials, c.imap_host, c.imap_port, c.imap_tls, c.imap_username, c.folders, c.sent_folder, c.sync_window_days]);
}

export class MailboxSupervisor {
  readonly workerId: string;
  readonly limits: SessionLimits;
  /** Counters for tests and the benchmark. */
  readonly counters = { ticks: 0, renewStatements: 0, claimed: 0, released: 0, lost: 0 };
  private readonly held = new Map<string, Held>();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private readonly s: SupervisorSettings;

  constructor(
    private readonly ingestor: Ingestor,
    private readonly o: { log: Logger; settings?: Partial<SupervisorSettings>; workerId?: string },
  ) {
    this.s = { ...DEFAULT_SUPERVISOR_SETTINGS, ...o.settings };
    this.workerId = o.workerId ?? `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`;
    // Batches of mailboxes that receive mail at the same moment are written together: one transaction and
    // one pack fsync for the group (a failed group is written again one batch at a time).
    const commit = groupCommit<GroupEntry & { out?: IngestResult }>(async (group) => {
      const results = await writePreparedGroup(ingestor, group);
      group.forEach((g, i) => {
        g.out = results[i];
      });
    });
    this.limits = {
      work: new Limiter(this.s.workConcurrency),
      connect: new Limiter(this.s.connectConcurrency),
      write: async (connection, batch, afterWrite) => {
        const entry: GroupEntry & { out?: IngestResult } = { connection, batch: batch as PreparedBatch, afterWrite };
        await commit(entry);
        return entry.out!;
      },
    };
  }

  private get env() {
    return this.ingestor.env;
  }

  private get tickMs(): number {
    return this.s.tickMs ?? Math.floor(this.s.leaseMs / 3);
  }

  /** Mailboxes held now, with their sessions (tests, benchmark). */
  sessions(): MailboxSession[] {
    return [...this.held.values()].map((h) => h.session);
  }

  async start(): Promise<void> {
    await acquireLease(this.env.db, `${WORKER}${this.workerId}`, this.workerId, this.s.leaseMs, this.env.now());
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.tickMs);
  }

  /** Sync a connection now: its session when held here, else look for work at once. */
  poke(connectionId: string): void {
    const h = this.held.get(connectionId);
    if (h && !h.releasing) h.session.poke();
    else void this.tick();
  }

  /** One round of renew, check, claim/release. Concurrent calls coalesce (one more round runs after). */
  tick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.ticking) {
      this.again = true;
      return this.ticking;
    }
    this.ticking = (async () => {
      do {
        this.again = false;
        try {
          await this.round();
        } catch (err) {
          this.o.log.warn({ err: (err as Error).message }, 'mailbox supervisor round failed; retrying at the next tick');
        }
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.ticking = null;
    });
    return this.ticking;
  }

  private async round(): Promise<void> {
    const db = this.env.db;
    const now = this.env.now();
    this.counters.ticks += 1;

    // 1. Liveness: one statement for the worker and every mailbox it holds.
    const renewed = await renewLeasesOf(db, this.workerId, this.s.leaseMs, now);
    this.counters.renewStatements += 1;
    if (renewed < this.held.size + 1) await this.reconcileLeases();
    if (this.stopped) return;

    // 2. Held connections still eligible, and unchanged?
    await this.checkHeld();

    // 3. Fair share: claim up to it, release above it.
    const workers = await db.selectFrom('leases').select((eb) => eb.fn.countAll<number>().as('n')).where('name', 'like', `${WORKER}%`).where('expires_at', '>=', now).executeTakeFirstOrThrow();
    const eligible = await this.eligible().select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const share = Math.min(this.s.maxMailboxes, Math.ceil(Number(eligible.n) / Math.max(1, Number(workers.n))));
    const holding = [...this.held.values()].filter((h) => !h.releasing).length;
    if (holding > share) {
      const excess = [...this.held.entries()].filter(([, h]) => !h.releasing).slice(0, Math.min(holding - share, this.s.claimBatch));
      this.o.log.info({ releasing: excess.length, share, workers: Number(workers.n) }, 'releasing mailboxes above this worker’s fair share');
      for (const [id] of excess) void this.drop(id, true);
    } else if (holding < share && !this.stopped) {
      await this.claim(Math.min(share - holding, this.s.claimBatch), now);
    }
  }

  private eligible() {
    return this.env.db.selectFrom('connections').where('transport', '=', 'imap').where('disconnected_at', 'is', null).where('state', 'not in', [...WAITING_FOR_OWNER]);
  }

  private async claim(limit: number, now: number): Promise<void> {
    const rows = await this.eligible()
      .leftJoin('leases', (j) => j.on(sql<boolean>`leases.name = ${SYNC} || connections.id`))
      .leftJoin('oauth_grants', 'oauth_grants.connection_id', 'connections.id')
      .select(['connections.id', 'oauth_grants.connection_id as oauth', 'connections.credentials', 'connections.imap_host', 'connections.imap_port', 'connections.imap_tls', 'connections.imap_username', 'connections.folders', 'connections.sent_folder', 'connections.sync_window_days'])
      .where((eb) => eb.or([eb('leases.name', 'is', null), eb('leases.expires_at', '<', now)]))
      .orderBy('connections.created_at')
      .limit(limit)
      .execute();
    if (!rows.length) return;
    const got = new Set(await acquireLeases(this.env.db, rows.map((r) => `${SYNC}${r.id}`), this.workerId, this.s.leaseMs, now));
    for (const r of rows) {
      if (!got.has(`${SYNC}${r.id}`) || this.held.has(r.id)) continue;
      this.counters.claimed += 1;
      this.startSession(r.id, fingerprint(r));
    }
  }

  private startSession(connectionId: string, fp: string): void {
    const session = new MailboxSession(this.ingestor, connectionId, { settings: this.s.session, limits: this.limits, log: this.o.log });
    const h: Held = { session, fingerprint: fp, releasing: false, done: Promise.resolve() };
    h.done = session.run().then(
      async (outcome) => {
        // Ended on its own: the mailbox must not be synced (disconnected, password refused).
        if (this.held.get(connectionId) !== h || h.releasing) return;
        this.held.delete(connectionId);
        if (outcome === 'stopped') await releaseLease(this.env.db, `${SYNC}${connectionId}`, this.workerId).catch(() => undefined);
      },
      async (err) => {
        // Never keep renewing a lease without a session behind it: give it back; the next round claims it again.
        this.o.log.error({ connectionId, err: (err as Error).message }, 'mailbox session crashed; releasing it to be claimed again');
        if (this.held.get(connectionId) !== h || h.releasing) return;
        this.held.delete(connectionId);
        await releaseLease(this.env.db, `${SYNC}${connectionId}`, this.workerId).catch(() => undefined);
      },
    );
    this.held.set(connectionId, h);
  }

  /** Stops a session; with `release`, gives its lease back once it has stopped (no moment with two holders). */
  private async drop(connectionId: string, release: boolean): Promise<void> {
    const h = this.held.get(connectionId);
    if (!h || h.releasing) return;
    h.releasing = true;
    await h.session.stop();
    await h.done;
    if (release) {
      await releaseLease(this.env.db, `${SYNC}${connectionId}`, this.workerId).catch(() => undefined);
      this.counters.released += 1;
    }
    if (this.held.get(connectionId) === h) this.held.delete(connectionId);
  }

  /** Fewer leases renewed than held: some were taken over (this worker was too slow); stop those sessions. */
  private async reconcileLeases(): Promise<void> {
    const names = new Set(await leasesOf(this.env.db, this.workerId));
    if (!names.has(`${WORKER}${this.workerId}`)) await acquireLease(this.env.db, `${WORKER}${this.workerId}`, this.workerId, this.s.leaseMs, this.env.now());
    for (const [id, h] of this.held) {
      if (h.releasing || names.has(`${SYNC}${id}`)) continue;
      this.counters.lost += 1;
      this.o.log.warn({ connectionId: id }, 'mailbox lease lost to another worker; stopping its session here');
      void this.drop(id, false);
    }
  }

  private async checkHeld(): Promise<void> {
    const ids = [...this.held.keys()];
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.env.db
        .selectFrom('connections')
        .leftJoin('oauth_grants', 'oauth_grants.connection_id', 'connections.id')
        .select([
          'connections.id',
          'oauth_grants.connection_id as oauth',
          'connections.transport',
          'connections.state',
          'connections.disconnected_at',
          'connections.credentials',
          'connections.imap_host',
          'connections.imap_port',
          'connections.imap_tls',
          'connections.imap_username',
          'connections.folders',
          'connections.sent_folder',
          'connections.sync_window_days',
        ])
        .where('connections.id', 'in', ids.slice(i, i + 500))
        .execute();
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const id of ids.slice(i, i + 500)) {
        const h = this.held.get(id);
        if (!h || h.releasing) continue;
        const r = byId.get(id);
        if (!r || r.disconnected_at !== null || r.transport !== 'imap' || waitsForOwner(r.state)) {
          void this.drop(id, true);
          continue;
        }
        const fp = fingerprint(r);
        if (fp !== h.fingerprint) {
          // New password or settings: a fresh session with them (the lease stays ours).
          this.o.log.info({ connectionId: id }, 'connection settings changed; reconnecting');
          void this.drop(id, false).then(() => {
            if (!this.stopped && !this.held.has(id)) this.startSession(id, fp);
          });
        }
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking?.catch(() => undefined);
    await Promise.all([...this.held.keys()].map((id) => this.drop(id, false)));
    await releaseLeases(this.env.db, this.workerId).catch(() => undefined);
  }
}
