/**
 * The background job that keeps one connection in sync: a pass over its folders, then IDLE on INBOX
 * (re-issued before 29 minutes), with a polling fallback, until its time slice ends; then it queues itself
 * again. A database lease makes sure one worker at a time syncs a connection; the lease and the job lock
 * are renewed while the worker is alive, so when it dies another worker takes over within a minute.
 * Errors map to the connection's user-facing state in one place (`recordSyncFailure`).
 */
import { recordStateEvent } from './lifecycle.js';
import type { ImapFlow } from 'imapflow';
import { acquireLease, releaseLease } from '../../platform/jobs/lease.js';
import { extendJobLock, RunAgain, type JobContext } from '../../platform/jobs/worker.js';
import type { CommandEnv } from '../../platform/context.js';
import { connectionBackoffMs } from '../../mail/sync-plan.js';
import { ImapAuthError, openImap, syncConnectionOnce, DEFAULT_SYNC_OPTIONS } from '../../mail/imap-sync.js';
import type { Ingestor } from '../ingest/index.js';
import { adminIds, notifyUsers } from '../notifications/index.js';
import { HostNotAllowedError } from '../../platform/security/host-guard.js';

export interface SyncJobSettings {
  /** How long one job keeps the connection open (IDLE) before queueing itself again. */
  sliceMs: number;
  /** IDLE is broken and re-issued after this (must stay under 29 minutes). */
  idleReissueMs: number;
  /** Folders other than INBOX (Sent) are polled at least this often. */
  pollMs: number;
  leaseMs: number;
}

export const DEFAULT_SYNC_JOB_SETTINGS: SyncJobSettings = {
  sliceMs: 25 * 60_000, // the configured values (src/app/config.ts) are passed to registerSyncJob
  idleReissueMs: 25 * 60_000,
  pollMs: 5 * 60_000,
  leaseMs: 30_000,
};

async function recordSyncFailure(env: CommandEnv, connectionId: string, err: unknown): Promise<'auth_failed' | 'retry'> {
  const now = env.now();
  const c = await env.db.selectFrom('connections').selectAll().where('id', '=', connectionId).executeTakeFirst();
  if (!c) return 'retry';
  if (err instanceof ImapAuthError) {
    await env.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('connections')
        .set({
          state: 'auth_failed',
          stage: null,
          last_error_code: 'imap_authentication_failed',
          last_error_message: `The mail server refused the password for ${c.address}. It may have been changed: reconnect ${c.address} with the new password in Settings → Email. Sync resumes where it stopped.`,
          last_error_at: now,
          failure_count: c.failure_count + 1,
        })
        .where('id', '=', c.id)
        .execute();
      await recordStateEvent(trx, { accountId: c.account_id, connectionId: c.id, from: c.state, to: 'auth_failed', at: now });
      if (c.state !== 'auth_failed') {
        await notifyUsers(trx, {
          accountId: c.account_id,
          userIds: c.type === 'team' ? [...(await adminIds(trx, c.account_id)), c.user_id] : [c.user_id],
          kind: 'connection_auth_failed',
          message: `Mailroom can no longer sign in to ${c.address}: the password was refused. Reconnect it in Settings → Email.`,
          data: { connectionId: c.id, address: c.address },
          at: now,
        });
      }
    });
    return 'auth_failed';
  }
  const e = err as { code?: string; message?: string };
  const message =
    err instanceof HostNotAllowedError
      ? err.message
      : `Mailroom could not reach the mail server of ${c.address} (${e.code ?? e.message ?? 'network error'}). It retries on its own; nothing is lost.`;
  const next = c.failure_count + 1 >= 3 ? 'error' : c.state;
  await env.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('connections')
      .set({ state: next, last_error_code: 'imap_unreachable', last_error_message: message, last_error_at: now, failure_count: c.failure_count + 1 })
      .where('id', '=', c.id)
      .execute();
    await recordStateEvent(trx, { accountId: c.account_id, connectionId: c.id, from: c.state, to: next, at: now });
  });
  return 'retry';
}

/** Runs the sync loop for one connection; exported for tests that drive it directly. */
export async function runConnectionSync(ingestor: Ingestor, ctx: Pick<JobContext, 'log' | 'signal' | 'workerId'> & { renew?: () => Promise<void> }, connectionId: string, settings: SyncJobSettings = DEFAULT_SYNC_JOB_SETTINGS): Promise<'again' | 'busy' | 'stopped'> {
  const env = ingestor.env;
  const leaseName = `sync:${connectionId}`;
  const c = await env.db.selectFrom('connections').selectAll().where('id', '=', connectionId).executeTakeFirst();
  if (!c || c.disconnected_at !== null || c.transport !== 'imap' || c.state === 'auth_failed') return 'stopped';
  if (!(await acquireLease(env.db, leaseName, ctx.workerId, settings.leaseMs, env.now()))) return 'busy';
  let client: ImapFlow | null = null;
  const renewTimer = setInterval(() => {
    void acquireLease(env.db, leaseName, ctx.workerId, settings.leaseMs, env.now()).catch(() => {});
    void ctx.renew?.().catch(() => {});
  }, Math.floor(settings.leaseMs / 3));
  try {
    client = await openImap(env, c);
    const deadline = env.now() + settings.sliceMs;
    for (;;) {
      const stillLive = await env.db.selectFrom('connections').select(['disconnected_at', 'state']).where('id', '=', connectionId).executeTakeFirst();
      if (!stillLive || stillLive.disconnected_at !== null) return 'stopped';
      const stats = await syncConnectionOnce(env, ingestor, connectionId, client, ctx.log, { ...DEFAULT_SYNC_OPTIONS, signal: ctx.signal });
      const pending = await env.db.selectFrom('folder_states').select('initial_done').where('connection_id', '=', connectionId).where('initial_done', '=', 0).executeTakeFirst();
      await env.db
        .updateTable('connections')
        .set({ state: pending ? 'syncing' : 'active', ...(pending ? {} : { stage: null }), failure_count: 0, last_error_code: null, last_error_message: null })
        .where('id', '=', connectionId)
        .where('disconnected_at', 'is', null)
        .execute();
      ctx.log.debug({ connectionId, ...stats }, 'sync pass done');
      if (ctx.signal.aborted || env.now() >= deadline) break;
      const changed = await waitForChange(client, Math.min(settings.idleReissueMs, settings.pollMs, deadline - env.now()), ctx.signal);
      if (changed === 'closed') break;
    }
    return 'again';
  } catch (err) {
    const outcome = await recordSyncFailure(env, connectionId, err);
    if (outcome === 'auth_failed') return 'stopped';
    const fresh = await env.db.selectFrom('connections').select('failure_count').where('id', '=', connectionId).executeTakeFirst();
    throw new RunAgain(connectionBackoffMs(fresh?.failure_count ?? 1));
  } finally {
    clearInterval(renewTimer);
    if (client) await client.logout().catch(() => client?.close());
    await releaseLease(env.db, leaseName, ctx.workerId).catch(() => {});
  }
}

/** IDLE on the selected folder until new mail, a timeout, the connection closing, or shutdown. */
async function waitForChange(client: ImapFlow, ms: number, signal: AbortSignal): Promise<'exists' | 'timeout' | 'closed'> {
  await client.mailboxOpen('INBOX', { readOnly: true });
  return new Promise((resolve) => {
    let done = false;
    const finish = (why: 'exists' | 'timeout' | 'closed') => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      client.off('exists', onExists);
      client.off('close', onClose);
      signal.removeEventListener('abort', onAbort);
      if (why === 'closed') return resolve(why);
      // Any command ends IDLE; NOOP is the cheapest. A dead connection is noticed here too.
      client.noop().then(
        () => resolve(why),
        () => resolve('closed'),
      );
    };
    const onExists = () => finish('exists');
    const onClose = () => finish('closed');
    const onAbort = () => finish('timeout');
    const timer = setTimeout(() => finish('timeout'), Math.max(ms, 1000));
    client.on('exists', onExists);
    client.on('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
    client.idle().catch(() => finish('closed'));
  });
}

/** The `connection.sync` job: one time slice of a mailbox's sync loop, then queued again. */
export function syncJob(ingestor: Ingestor, settings: SyncJobSettings = DEFAULT_SYNC_JOB_SETTINGS) {
  return async (payload: { connectionId: string }, ctx: JobContext): Promise<void> => {
    const outcome = await runConnectionSync(ingestor, { ...ctx, renew: () => extendJobLock(ctx, settings.leaseMs) }, payload.connectionId, settings);
    if (outcome === 'again') throw new RunAgain(0);
    if (outcome === 'busy') throw new RunAgain(settings.leaseMs / 2);
  };
}
