/**
 * The delivery engine, two job kinds:
 *
 *   events.publish {eventId}     fan-out of the event and the unpublished ones after it (seq order, a
 *                                batch): one delivery row per enabled endpoint that wants an event (its
 *                                id, msg_..., is the webhook-id of every attempt), and one
 *                                webhooks.deliver job each, in multi-row inserts; the events are marked
 *                                published. Idempotent.
 *   webhooks.deliver {deliveryId} one attempt: waits (without counting an attempt) while an earlier
 *                                event of the same subject is unpublished or still pending for this
 *                                endpoint; signs and POSTs; logs the attempt; succeeds, fails for good,
 *                                or schedules the next attempt (domain/delivery.ts). After a success it
 *                                takes over the job of the subject's next delivery and sends it too.
 *
 * At least once: a worker killed mid-delivery leaves the job's lock to expire, and the delivery (still
 * pending) is sent again with the same webhook-id.
 *
 * An endpoint's failure streak starts at its first failed attempt after a 2xx (`failing_since`); an
 * endpoint still failing five days later (no 2xx in between), or answering 410 Gone, is disabled and the
 * account's admins are notified. During a secret rotation's overlap both secrets sign. A full-payload
 * endpoint gets the object the event is about in `data.object`, loaded at delivery time (objects.ts).
 */
import type { CommandEnv, Executor } from '../../platform/context.js';
import { newId } from '../../platform/database/ids.js';
import { insertRows } from '../../platform/database/insert-rows.js';
import type { JobsTable, WebhookDeliveriesTable } from '../../platform/database/schema.js';
import { json, readJson } from '../../platform/database/json.js';
import { completeJob, enqueue, runQueuedNow } from '../../platform/jobs/queue.js';
import { RunAgain } from '../../platform/jobs/worker.js';
import { adminIds, notifyUsers } from '../notifications/index.js';
import { EVENT_CATALOGUE, isEventType, wants } from './catalogue.js';
import { nextAttemptDelay, orderingKey, outcomeOfStatus, parseRetryAfter } from './domain/delivery.js';
import { postWebhook, SendError } from './sender.js';
import { signatureHeaders } from './signature.js';
import { hasFullObject, loadObject } from './objects.js';
import { enterEndpoint } from './pacing.js';

export const DELIVER_JOB = 'webhooks.deliver';
/** Deliveries have a queue (and a worker) of their own: a hanging endpoint never delays other jobs (src/app/runtime.ts). */
export const WEBHOOKS_QUEUE = 'webhooks';

/** Delivery settings; tests shorten them. */
export const deliverySettings = {
  timeoutMs: 15_000,
  /** Of an answer, only this much is read (and 1 KB kept in the log). */
  maxResponseBytes: 64 * 1024,
  /** How long a delivery waits before looking again when an earlier one of its subject is not done. */
  orderWaitMs: 1000,
  /** Jitter source, in [0, 1). */
  random: Math.random,
  /** An endpoint with no 2xx for this long since the first failure of its streak is disabled. */
  disableAfterFailingMs: 5 * 24 * 3600_000,
};

const LOGGED_BODY = 1024;

async function queueDelivery(trx: Executor, now: number, deliveryId: string, runAt = now): Promise<void> {
  await enqueue(trx, now, { queue: WEBHOOKS_QUEUE, kind: DELIVER_JOB, payload: { deliveryId }, dedupeKey: `${DELIVER_JOB}:${deliveryId}`, runAt, maxAttempts: 50 });
}

/** Events fanned out per transaction: the job's event and the unpublished ones after it. */
const PUBLISH_BATCH = 200;

/**
 * Fans the job's event out to its account's endpoints, and with it the unpublished events recorded after
 * it (seq order, up to PUBLISH_BATCH, whatever their account): their deliveries in one multi-row insert,
 * their delivery jobs in another, all marked published in one statement. The jobs of the events taken
 * along find them published and do nothing. PostgreSQL skips events another publication holds.
 */
export async function publishEvent(env: CommandEnv, eventId: string): Promise<void> {
  const now = env.now();
  const queued = await env.db.transaction().execute(async (trx) => {
    const first = await trx.selectFrom('events').select(['seq', 'published_at']).where('id', '=', eventId).executeTakeFirst();
    if (!first || first.published_at !== null) return 0;
    let q = trx.selectFrom('events').selectAll().where('seq', '>=', first.seq).where('published_at', 'is', null).orderBy('seq').limit(PUBLISH_BATCH);
    if (env.dialect === 'postgres') q = q.forUpdate().skipLocked();
    const evs = await q.execute();
    if (!evs.length) return 0;
    const byAccount = new Map<string, { id: string; event_types: string; enabled: number }[]>();
    for (const accountId of new Set(evs.map((e) => e.account_id))) {
      byAccount.set(accountId, await trx.selectFrom('webhook_endpoints').select(['id', 'event_types', 'enabled']).where('account_id', '=', accountId).execute());
    }
    const deliveries: WebhookDeliveriesTable[] = [];
    for (const ev of evs) {
      let endpoints = byAccount.get(ev.account_id) ?? [];
      if (ev.type === 'webhook.test') {
        const target = readJson('events.data', ev.data, json.record, {}).endpointId;
        endpoints = endpoints.filter((e) => e.id === target);
      } else {
        endpoints = endpoints.filter((e) => e.enabled === 1 && wants(readJson('webhook_endpoints.event_types', e.event_types, json.stringArray, ['*']), ev.type));
      }
      for (const e of endpoints) {
        deliveries.push({
          id: newId('msg'),
          account_id: ev.account_id,
          endpoint_id: e.id,
          event_id: ev.id,
          event_seq: Number(ev.seq),
          ordering_key: orderingKey(ev.subject_type, ev.subject_id),
          state: 'pending',
          attempts: 0,
          next_attempt_at: now,
          last_status: null,
          last_error: null,
          created_at: now,
          finished_at: null,
        });
      }
    }
    const ids = evs.map((e) => e.id);
    await trx.updateTable('events').set({ published_at: now }).where('id', 'in', ids).where('published_at', 'is', null).execute();
    if (deliveries.length) {
      await insertRows(trx, env.dialect, 'webhook_deliveries', deliveries, 'on conflict ("endpoint_id", "event_id") do nothing');
      await insertRows(
        trx,
        env.dialect,
        'jobs',
        deliveries.map((d) => deliveryJobRow(d.id, now)),
        'on conflict ("dedupe_key") do nothing',
      );
    }
    // Later events of these subjects fanned out before these ones (their transactions committed first)
    // wait for them: they may go now.
    const keys = [...new Set(evs.filter((e) => e.type !== 'webhook.test').map((e) => orderingKey(e.subject_type, e.subject_id)))];
    const endpointIds = [...byAccount.values()].flat().map((e) => e.id);
    if (keys.length && endpointIds.length) {
      const waiting = await trx
        .selectFrom('webhook_deliveries')
        .select('id')
        .where('endpoint_id', 'in', endpointIds)
        .where('ordering_key', 'in', keys)
        .where('event_seq', '>', Number(evs[0]!.seq))
        .where('state', '=', 'pending')
        .where('event_id', 'not in', ids)
        .execute();
      for (const w of waiting) await runQueuedNow(trx, `${DELIVER_JOB}:${w.id}`, now);
    }
    return deliveries.length;
  });
  if (queued) env.onJobsQueued?.();
}

function deliveryJobRow(deliveryId: string, now: number): JobsTable {
  return {
    id: newId('job'),
    queue: WEBHOOKS_QUEUE,
    kind: DELIVER_JOB,
    payload: JSON.stringify({ deliveryId }),
    dedupe_key: `${DELIVER_JOB}:${deliveryId}`,
    state: 'queued',
    run_at: now,
    attempts: 0,
    max_attempts: 50,
    locked_by: null,
    locked_until: null,
    last_error: null,
    created_at: now,
    finished_at: null,
  };
}

/**
 * The JSON body of an event's deliveries (the same for every attempt of a thin endpoint); `object`, when
 * given (full payloads), goes in `data.object`.
 */
export function deliveryBody(ev: { id: string; type: string; created_at: number; data: string }, object?: unknown): string {
  const version = isEventType(ev.type) ? EVENT_CATALOGUE[ev.type].version : 1;
  const data = readJson('events.data', ev.data, json.record, {});
  return JSON.stringify({ type: ev.type, version, timestamp: new Date(ev.created_at).toISOString(), eventId: ev.id, data: object === undefined ? data : { ...data, object } });
}

/** The endpoint's signing secrets now: its secret, and the previous one during a rotation's overlap. */
export function signingSecrets(env: CommandEnv, endpoint: { secret: string; previous_secret: string | null; previous_secret_until: number | null }, now: number): string[] {
  const secrets = [env.secrets.open(endpoint.secret)];
  if (endpoint.previous_secret && endpoint.previous_secret_until !== null && Number(endpoint.previous_secret_until) > now) secrets.push(env.secrets.open(endpoint.previous_secret));
  return secrets;
}

/** Disables an endpoint (once, whoever races) and tells the account's admins why. */
export async function disableEndpoint(trx: Executor, endpoint: { id: string; account_id: string; url: string }, reason: string, message: string, now: number): Promise<void> {
  const r = await trx.updateTable('webhook_endpoints').set({ enabled: 0, disabled_reason: reason, updated_at: now }).where('id', '=', endpoint.id).where('enabled', '=', 1).executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) return;
  await notifyUsers(trx, { accountId: endpoint.account_id, userIds: await adminIds(trx, endpoint.account_id), kind: 'webhook.endpoint_disabled', message, data: { endpointId: endpoint.id }, at: now });
}

/** Deliveries of one subject a job sends one after the other (see deliverOnce). */
const MAX_CHAIN = 20;

/**
 * One attempt of one delivery (see the header). Throws RunAgain to be called again later. When it
 * succeeds and the next delivery of its endpoint and subject is waiting for it, the job (given its
 * worker's id) takes that delivery's job over and sends it too, and so on: a subject's events go out
 * back to back instead of each waiting to be looked at again. A job taken over that cannot go yet is
 * put back in the queue as it would have put itself back.
 */
export async function deliverOnce(env: CommandEnv, deliveryId: string, signal?: AbortSignal, workerId?: string): Promise<void> {
  let next = await deliverOne(env, deliveryId, signal);
  for (let chained = 0; next && workerId && chained < MAX_CHAIN && !signal?.aborted; chained++) {
    const job = await env.db
      .updateTable('jobs')
      .set((eb) => ({ state: 'running', locked_by: workerId, locked_until: env.now() + 60_000, attempts: eb('attempts', '+', 1) }))
      .where('dedupe_key', '=', `${DELIVER_JOB}:${next}`)
      .where('state', '=', 'queued')
      .returning('id')
      .executeTakeFirst();
    if (!job) return;
    try {
      next = await deliverOne(env, next, signal);
      await completeJob(env.db, job.id, workerId, env.now());
    } catch (err) {
      const delay = err instanceof RunAgain ? err.delayMs : deliverySettings.orderWaitMs;
      await env.db
        .updateTable('jobs')
        .set({ state: 'queued', run_at: env.now() + delay, attempts: 0, locked_by: null, locked_until: null })
        .where('id', '=', job.id)
        .where('locked_by', '=', workerId)
        .execute();
      return;
    }
  }
}

/** One attempt; returns the next delivery of the subject to send now, if this one succeeded. */
async function deliverOne(env: CommandEnv, deliveryId: string, signal?: AbortSignal): Promise<string | null> {
  const now = env.now();
  const d = await loadDeliveryRow(env, deliveryId);
  if (!d || d.state !== 'pending') return null;
  if (d.next_attempt_at !== null && d.next_attempt_at > now) throw new RunAgain(d.next_attempt_at - now);
  // A slow endpoint gets a few attempts at once, not the whole worker (pacing.ts); a parked delivery
  // costs no more statements. The place is given back without counting when no attempt is made.
  const slot = enterEndpoint(d.endpoint_id, d.id, deliverySettings.timeoutMs);
  if ('parkMs' in slot) throw new RunAgain(slot.parkMs);
  let attempted = false;
  let wake: string[] = [];
  let next: string | null = null;
  try {
    const ready = await readyToSend(env, d, now);
    if (ready) {
      attempted = true;
      next = await attemptDelivery(env, d, ready.endpoint, ready.ev, now, signal);
    }
  } finally {
    wake = slot.release(undefined, attempted);
  }
  // The endpoint answered fast again: what was parked goes now.
  if (wake.length) {
    await env.db.transaction().execute(async (trx) => {
      for (const id of wake) await runQueuedNow(trx, `${DELIVER_JOB}:${id}`, env.now());
    });
    env.onJobsQueued?.();
  }
  return next;
}

/** The delivery's endpoint and event when it may be sent now; null when it is settled; RunAgain to wait. */
async function readyToSend(env: CommandEnv, d: DeliveryRow, now: number): Promise<{ endpoint: EndpointRow; ev: EventRow } | null> {
  const endpoint = await loadEndpointRow(env, d.endpoint_id);
  const ev = await loadEventRow(env, d.event_id);
  if (!endpoint || !ev || endpoint.account_id !== ev.account_id) return null;
  if (endpoint.enabled !== 1 && ev.type !== 'webhook.test') {
    await env.db.updateTable('webhook_deliveries').set({ state: 'failed', last_error: 'endpoint_disabled: the endpoint is disabled; replay once it is enabled.', finished_at: now, next_attempt_at: null }).where('id', '=', d.id).where('state', '=', 'pending').execute();
    return null;
  }

  // In order per endpoint and subject: an earlier event not yet fanned out, or still pending here, goes first.
  const earlierPending = await env.db
    .selectFrom('webhook_deliveries')
    .select(['next_attempt_at'])
    .where('endpoint_id', '=', d.endpoint_id)
    .where('ordering_key', '=', d.ordering_key)
    .where('event_seq', '<', d.event_seq)
    .where('state', '=', 'pending')
    .orderBy('event_seq')
    .limit(1)
    .executeTakeFirst();
  if (earlierPending) throw new RunAgain(Math.max(deliverySettings.orderWaitMs, (earlierPending.next_attempt_at ?? now) - now));
  const earlierUnpublished = await env.db
    .selectFrom('events')
    .select('id')
    .where('account_id', '=', ev.account_id)
    .where('subject_type', '=', ev.subject_type)
    .where('subject_id', '=', ev.subject_id)
    .where('seq', '<', ev.seq)
    .where('published_at', 'is', null)
    .limit(1)
    .executeTakeFirst();
  if (earlierUnpublished) throw new RunAgain(deliverySettings.orderWaitMs);
  return { endpoint, ev };
}

type DeliveryRow = NonNullable<Awaited<ReturnType<typeof loadDeliveryRow>>>;
type EndpointRow = NonNullable<Awaited<ReturnType<typeof loadEndpointRow>>>;
type EventRow = NonNullable<Awaited<ReturnType<typeof loadEventRow>>>;
const loadDeliveryRow = (env: CommandEnv, id: string) => env.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
const loadEndpointRow = (env: CommandEnv, id: string) => env.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
const loadEventRow = (env: CommandEnv, id: string) => env.db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();

/**
 * Signs, POSTs, logs the attempt, and settles or reschedules the delivery. Returns the next delivery of
 * the subject, when this one succeeded and one waits.
 */
async function attemptDelivery(env: CommandEnv, d: DeliveryRow, endpoint: EndpointRow, ev: EventRow, now: number, signal?: AbortSignal): Promise<string | null> {
  const attempt = d.attempts + 1;
  const object = endpoint.payload === 'full' && hasFullObject(ev.subject_type) ? await loadObject(env, ev.account_id, ev.subject_type, ev.subject_id) : undefined;
  const body = deliveryBody(ev, object);
  const timestamp = Math.floor(now / 1000);
  const headers = signatureHeaders(signingSecrets(env, endpoint, now), d.id, timestamp, body);
  const started = Date.now();
  let status: number | null = null;
  let error: string | null = null;
  let responseBody: string | null = null;
  let retryAfter: number | null = null;
  try {
    const res = await postWebhook(endpoint.url, headers, body, { timeoutMs: deliverySettings.timeoutMs, maxResponseBytes: deliverySettings.maxResponseBytes, signal });
    status = res.status;
    responseBody = res.body.slice(0, LOGGED_BODY);
    const ra = res.headers['retry-after'];
    retryAfter = parseRetryAfter(Array.isArray(ra) ? ra[0] : ra, now);
    if (status >= 300 && status < 400) error = `redirect: ${status} is not followed (Location: ${String(res.headers.location ?? '').slice(0, 200)})`;
  } catch (err) {
    error = err instanceof SendError ? `${err.code}: ${err.message}` : `connection_error: ${(err as Error).message}`;
  }
  const latency = Date.now() - started;
  const outcome = status === null ? 'retry' : outcomeOfStatus(status);
  const delay = outcome === 'retry' ? nextAttemptDelay(attempt, deliverySettings.random(), retryAfter) : null;
  const done = outcome !== 'retry' || delay === null;
  const state = outcome === 'success' ? 'succeeded' : done ? 'failed' : 'pending';
  const lastError = error ?? (outcome === 'success' ? null : `status ${status}`);
  const failingSince = outcome === 'success' ? null : (endpoint.failing_since === null ? now : Number(endpoint.failing_since));

  const wokeNext = await env.db.transaction().execute(async (trx) => {
    await trx
      .insertInto('webhook_attempts')
      .values({
        id: newId('wha'),
        delivery_id: d.id,
        endpoint_id: d.endpoint_id,
        account_id: d.account_id,
        attempt,
        started_at: now,
        latency_ms: latency,
        status,
        error,
        response_body: responseBody,
        request_headers: JSON.stringify({ 'webhook-id': headers['webhook-id'], 'webhook-timestamp': headers['webhook-timestamp'] }),
      })
      .execute();
    await trx
      .updateTable('webhook_deliveries')
      .set({ state, attempts: attempt, last_status: status, last_error: lastError, next_attempt_at: done ? null : now + delay!, finished_at: done ? now : null })
      .where('id', '=', d.id)
      .execute();
    // The failure streak: started by the first failure after a 2xx, ended by the next 2xx.
    if ((failingSince === null) !== (endpoint.failing_since === null)) {
      await trx.updateTable('webhook_endpoints').set({ failing_since: failingSince }).where('id', '=', endpoint.id).execute();
    }
    if (outcome === 'gone' && endpoint.enabled === 1) {
      await disableEndpoint(trx, endpoint, `The endpoint answered 410 Gone on ${new Date(now).toISOString()}: disabled. Enable it again to resume deliveries.`, `The webhook endpoint ${endpoint.url} answered 410 Gone and was disabled.`, now);
    } else if (failingSince !== null && endpoint.enabled === 1 && now - failingSince >= deliverySettings.disableAfterFailingMs) {
      await disableEndpoint(trx, endpoint, failingTooLongReason(failingSince, now), `The webhook endpoint ${endpoint.url} has failed every delivery since ${new Date(failingSince).toISOString()} and was disabled.`, now);
    }
    // The next delivery of this subject waits for this one: it may go now.
    if (done) {
      const next = await trx
        .selectFrom('webhook_deliveries')
        .select('id')
        .where('endpoint_id', '=', d.endpoint_id)
        .where('ordering_key', '=', d.ordering_key)
        .where('event_seq', '>', d.event_seq)
        .where('state', '=', 'pending')
        .orderBy('event_seq')
        .limit(1)
        .executeTakeFirst();
      if (next) await runQueuedNow(trx, `${DELIVER_JOB}:${next.id}`, now);
      return next?.id ?? null;
    }
    return null;
  });
  if (wokeNext) env.onJobsQueued?.();
  if (!done) throw new RunAgain(delay!);
  return outcome === 'success' ? wokeNext : null;
}

export function failingTooLongReason(failingSince: number, now: number): string {
  const days = Math.floor((now - failingSince) / (24 * 3600_000));
  return `No delivery succeeded since ${new Date(failingSince).toISOString()} (${days} days): disabled. Enable it again to resume deliveries.`;
}

/** Sends a delivery again (same webhook-id): back to pending, due now. */
export async function requeueDelivery(trx: Executor, now: number, deliveryId: string): Promise<void> {
  await trx.updateTable('webhook_deliveries').set({ state: 'pending', next_attempt_at: now, finished_at: null }).where('id', '=', deliveryId).execute();
  await queueDelivery(trx, now, deliveryId);
}
