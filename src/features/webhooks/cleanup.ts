/**
 * The webhooks housekeeping job (`webhooks.cleanup`, one per installation, running again every few
 * hours): deletes finished deliveries, their attempts, and published events that no pending delivery
 * needs, older than each account's retention (webhook_settings, 30 days by default), in small batches;
 * and disables the endpoints whose failure streak has lasted five days without a later attempt doing it.
 * It also queues the delivery job of every endpoint with pending deliveries (a no-op for those that have
 * one): a safety net should a pump have died for good (its job out of attempts). Queued when an endpoint
 * is created or the settings change; it keeps itself going.
 */
import type { CommandEnv, Executor } from '../../platform/context.js';
import { enqueue } from '../../platform/jobs/queue.js';
import { sql } from 'kysely';
import { RunAgain } from '../../platform/jobs/worker.js';
import { deliverySettings, disableEndpoint, failingTooLongReason, wakeEndpoints } from './delivery.js';
import { DEFAULT_RETENTION_DAYS } from './queries.js';

export const CLEANUP_JOB = 'webhooks.cleanup';
const DAY = 24 * 3600_000;
/** Finished deliveries, written in the SQL: PostgreSQL reads them from the partial (account_id, created_at) index (migration 039), which a parameter would not match. */
const FINISHED = sql<boolean>`state <> 'pending'`;

export const cleanupSettings = {
  /** How often the job runs. */
  everyMs: 6 * 3600_000,
  /** Rows per statement (short transactions beside the live traffic). */
  batch: 1000,
};

export async function scheduleCleanup(trx: Executor, now: number): Promise<void> {
  await enqueue(trx, now, { kind: CLEANUP_JOB, payload: {}, dedupeKey: CLEANUP_JOB, runAt: now + 60_000, maxAttempts: 20 });
}

/**
 * Up to `limit` published events of the account older than `cutoff` that no delivery needs any more. A
 * delivery is looked for by (endpoint_id, event_seq) among the account's endpoints (a deleted endpoint's
 * deliveries go with it), the index the delivery log reads: by `event_id`, which no index leads with,
 * SQLite scanned every delivery of the installation for each event (a statement quadratic in the log's
 * size, run on the event loop's thread).
 */
export function expiredEvents(db: Executor, accountId: string, cutoff: number, limit: number) {
  return db
    .selectFrom('events')
    .select('id')
    .where('account_id', '=', accountId)
    .where('created_at', '<', cutoff)
    .where('published_at', 'is not', null)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('webhook_deliveries')
            .select('webhook_deliveries.id')
            .where('webhook_deliveries.endpoint_id', 'in', eb.selectFrom('webhook_endpoints').select('webhook_endpoints.id').where('webhook_endpoints.account_id', '=', accountId))
            .whereRef('webhook_deliveries.event_seq', '=', 'events.seq'),
        ),
      ),
    )
    .limit(limit);
}

/** One pass; returns what was deleted and disabled. */
export async function cleanupWebhooks(env: CommandEnv): Promise<{ deliveries: number; attempts: number; events: number; disabled: number; woken: number }> {
  const now = env.now();
  const out = { deliveries: 0, attempts: 0, events: 0, disabled: 0, woken: 0 };
  const custom = await env.db.selectFrom('webhook_settings').select(['account_id', 'log_retention_days']).execute();
  const retention = new Map(custom.map((r) => [r.account_id, Number(r.log_retention_days)]));
  // Accounts with something old enough to go under the shortest retention there is.
  const minDays = Math.min(DEFAULT_RETENTION_DAYS, ...retention.values());
  const accounts = await env.db.selectFrom('events').select('account_id').where('created_at', '<', now - minDays * DAY).groupBy('account_id').execute();
  for (const { account_id: accountId } of accounts) {
    const cutoff = now - (retention.get(accountId) ?? DEFAULT_RETENTION_DAYS) * DAY;
    for (;;) {
      const ids = (
        await env.db.selectFrom('webhook_deliveries').select('id').where('account_id', '=', accountId).where('created_at', '<', cutoff).where(FINISHED).limit(cleanupSettings.batch).execute()
      ).map((r) => r.id);
      if (!ids.length) break;
      await env.db.transaction().execute(async (trx) => {
        const a = await trx.deleteFrom('webhook_attempts').where('delivery_id', 'in', ids).executeTakeFirst();
        const d = await trx.deleteFrom('webhook_deliveries').where('id', 'in', ids).executeTakeFirst();
        out.attempts += Number(a.numDeletedRows);
        out.deliveries += Number(d.numDeletedRows);
      });
      if (ids.length < cleanupSettings.batch) break;
    }
    for (;;) {
      const ids = (await expiredEvents(env.db, accountId, cutoff, cleanupSettings.batch).execute()).map((r) => r.id);
      if (!ids.length) break;
      const r = await env.db.deleteFrom('events').where('id', 'in', ids).executeTakeFirst();
      out.events += Number(r.numDeletedRows);
      if (ids.length < cleanupSettings.batch) break;
    }
  }
  const failing = await env.db
    .selectFrom('webhook_endpoints')
    .select(['id', 'account_id', 'url', 'failing_since'])
    .where('enabled', '=', 1)
    .where('failing_since', '<=', now - deliverySettings.disableAfterFailingMs)
    .execute();
  for (const e of failing) {
    await env.db.transaction().execute((trx) =>
      disableEndpoint(trx, e, failingTooLongReason(Number(e.failing_since), now), `The webhook endpoint ${e.url} has failed every delivery since ${new Date(Number(e.failing_since)).toISOString()} and was disabled.`, now),
    );
    out.disabled += 1;
  }
  // `state = 'pending'` in the SQL: the pending deliveries' partial index (a parameter would not match it).
  const pending = (await env.db.selectFrom('webhook_deliveries').select('endpoint_id').where(sql<boolean>`state = 'pending'`).groupBy('endpoint_id').execute()).map((r) => r.endpoint_id);
  for (let i = 0; i < pending.length; i += 200) await wakeEndpoints(env.db, env.dialect, pending.slice(i, i + 200), now);
  out.woken = pending.length;
  if (pending.length) env.onJobsQueued?.();
  return out;
}

/** The job: one pass, then again in a few hours. */
export async function cleanupJob(env: CommandEnv): Promise<never> {
  await cleanupWebhooks(env);
  throw new RunAgain(cleanupSettings.everyMs);
}
