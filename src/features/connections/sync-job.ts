/**
 * Keeping connections in sync. In a worker process the mailbox supervisor (mailbox-supervisor.ts) holds
 * every mailbox assigned to it open and listening (IDLE), with leases renewed by one statement per worker;
 * the `connection.sync` job is then a nudge: "sync this connection now" (after connecting, new
 * credentials, "sync now"), handed to the local supervisor.
 *
 * `runConnectionSync` runs one connection for a time slice on its own lease (tests, crash tests, and the
 * job in a process without a supervisor): a pass over its folders, then IDLE on INBOX (re-issued well
 * before the socket timeout, see transport-options.ts), until the slice ends.
 * Errors map to the connection's user-facing state in one place (`recordSyncFailure`, sync-failures.ts).
 */
import pino from 'pino';
import { acquireLease, releaseLease } from '../../platform/jobs/lease.js';
import { extendJobLock, RunAgain, type JobContext, type JobHandler } from '../../platform/jobs/worker.js';
import { Limiter } from '../../platform/jobs/limiter.js';
import { connectionBackoffMs } from '../../mail/sync-plan.js';
import { DEFAULT_IMAP_SESSION } from '../../mail/transport-options.js';
import type { Ingestor } from '../ingest/index.js';
import { recordSyncFailure } from './sync-failures.js';
import { MailboxSession, DEFAULT_SESSION_SETTINGS } from './mailbox-session.js';
import type { MailboxSupervisor } from './mailbox-supervisor.js';
import { waitsForOwner } from './lifecycle.js';

export { recordSyncFailure };

export interface SyncJobSettings {
  /** How long one run keeps the connection open (IDLE) before returning 'again'. */
  sliceMs: number;
  /** IDLE is broken and re-issued after this (kept under the socket timeout and 29 minutes). */
  idleReissueMs: number;
  /** Folders other than INBOX (Sent) are polled at least this often. */
  pollMs: number;
  leaseMs: number;
  /** IMAP socket inactivity timeout (default 5 min). */
  socketMs?: number;
  /** A re-issue's NOOP must be answered within this (default 30 s). */
  probeMs?: number;
}

/** Defaults; the configured values (src/app/config.ts, MAILROOM_SYNC_SLICE_MS...) reach the job through env.settings. */
export const DEFAULT_SYNC_JOB_SETTINGS: SyncJobSettings = {
  sliceMs: 25 * 60_000,
  idleReissueMs: DEFAULT_IMAP_SESSION.idleReissueMs,
  pollMs: 5 * 60_000,
  leaseMs: 30_000,
  socketMs: DEFAULT_IMAP_SESSION.socketMs,
  probeMs: DEFAULT_IMAP_SESSION.probeMs,
};

/** Limits shared by the single-connection runs of this process (the supervisor has its own, from the config). */
const singleLimits = { work: new Limiter(16), connect: new Limiter(20) };

/** Runs the sync loop for one connection; exported for tests that drive it directly. */
export async function runConnectionSync(
  ingestor: Ingestor,
  ctx: Pick<JobContext, 'log' | 'signal' | 'workerId'> & { renew?: () => Promise<void> },
  connectionId: string,
  settings: SyncJobSettings = DEFAULT_SYNC_JOB_SETTINGS,
  onSession?: (s: MailboxSession) => void,
): Promise<'again' | 'busy' | 'stopped'> {
  const env = ingestor.env;
  const leaseName = `sync:${connectionId}`;
  const c = await env.db.selectFrom('connections').selectAll().where('id', '=', connectionId).executeTakeFirst();
  if (!c || c.disconnected_at !== null || c.transport !== 'imap' || waitsForOwner(c.state)) return 'stopped';
  if (!(await acquireLease(env.db, leaseName, ctx.workerId, settings.leaseMs, env.now()))) return 'busy';
  const renewTimer = setInterval(() => {
    void acquireLease(env.db, leaseName, ctx.workerId, settings.leaseMs, env.now()).catch(() => {});
    void ctx.renew?.().catch(() => {});
  }, Math.floor(settings.leaseMs / 3));
  const session = new MailboxSession(ingestor, connectionId, {
    settings: {
      ...DEFAULT_SESSION_SETTINGS,
      pollMs: settings.pollMs,
      timings: { socketMs: settings.socketMs ?? DEFAULT_IMAP_SESSION.socketMs, idleReissueMs: settings.idleReissueMs, probeMs: settings.probeMs ?? DEFAULT_IMAP_SESSION.probeMs },
    },
    limits: singleLimits,
    log: ctx.log ?? pino({ level: 'silent' }),
    failFast: true,
    deadline: env.now() + settings.sliceMs,
  });
  onSession?.(session);
  const onAbort = () => void session.stop();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await session.run();
  } catch (err) {
    const failure = await recordSyncFailure(env, connectionId, err);
    if (failure.outcome === 'auth_failed') return 'stopped';
    throw new RunAgain(connectionBackoffMs(failure.failureCount));
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    clearInterval(renewTimer);
    await releaseLease(env.db, leaseName, ctx.workerId).catch(() => {});
  }
}

/**
 * The `connection.sync` job handler. `supervisor` is this process's mailbox supervisor when it runs one
 * (the worker role; handed in by src/app/features.ts), else null.
 */
export function connectionSyncHandler(ingestor: Ingestor, settings: SyncJobSettings, supervisor: () => MailboxSupervisor | null): JobHandler {
  return async (payload: { connectionId: string }, ctx) => {
    // With a mailbox supervisor in this process, the job only nudges it (the mailbox is held and listening).
    const s = supervisor();
    if (s) {
      s.poke(payload.connectionId);
      return;
    }
    const outcome = await runConnectionSync(ingestor, { ...ctx, renew: () => extendJobLock(ctx, settings.leaseMs) }, payload.connectionId, settings);
    if (outcome === 'again') throw new RunAgain(0);
    if (outcome === 'busy') throw new RunAgain(settings.leaseMs / 2);
  };
}

