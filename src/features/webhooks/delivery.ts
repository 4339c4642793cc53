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
import { sql } from 'kysely';
import type { JobsTable, WebhookAttemptsTable, WebhookDeliveriesTable } from '../../platform/database/schema.js';
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

/**
 * How long the job of a delivery queued behind an earlier one of its subject waits at most; normally the
 * earlier one's outcome makes it due at once. The wait is only a safety net.
 */
const HELD_MS = 60_000;

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
    const held = new Set<string>();
    const subjects = new Set<string>();
    for (const ev of evs) {
      let endpoints = byAccount.get(ev.account_id) ?? [];
      if (ev.type === 'webhook.test') {
        const target = readJson('events.data', ev.data, json.record, {}).endpointId;
        endpoints = endpoints.filter((e) => e.id === target);
      } else {
        endpoints = endpoints.filter((e) => e.enabled === 1 && wants(readJson('webhook_endpoints.event_types', e.event_types, json.stringArray, ['*']), ev.type));
      }
      for (const e of endpoints) {
        const id = newId('msg');
        const subject = `${e.id}|${orderingKey(ev.subject_type, ev.subject_id)}`;
        if (ev.type !== 'webhook.test' && subjects.has(subject)) held.add(id);
        subjects.add(subject);
        deliveries.push({
          id,
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
        // A delivery behind an earlier one of its subject in this batch is not due now: the earlier one's
        // outcome makes it due (or its sender takes it over), so no worker claims it only to wait.
        deliveries.map((d) => deliveryJobRow(d.id, now, held.has(d.id) ? now + HELD_MS : now)),
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

function deliveryJobRow(deliveryId: string, now: number, runAt = now): JobsTable {
  return {
    id: newId('job'),
    queue: WEBHOOKS_QUEUE,
    kind: DELIVER_JOB,
    payload: JSON.stringify({ deliveryId }),
    dedupe_key: `${DELIVER_JOB}:${deliveryId}`,
    state: 'queued',
    run_at: runAt,
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
  const row = await loadForAttempt(env, deliveryId);
  if (!row || row.state !== 'pending') return null;
  if (row.next_attempt_at !== null && Number(row.next_attempt_at) > now) throw new RunAgain(Number(row.next_attempt_at) - now);
  // A slow endpoint gets a few attempts at once, not the whole worker (pacing.ts); a parked delivery
  // costs no more statements. The place is given back without counting when no attempt is made.
  const slot = enterEndpoint(row.endpoint_id, row.id, deliverySettings.timeoutMs);
  if ('parkMs' in slot) throw new RunAgain(slot.parkMs);
  let attempted = false;
  let wake: string[] = [];
  let next: string | null = null;
  try {
    if (await readyToSend(env, row, now)) {
      attempted = true;
      next = await attemptDelivery(env, row, now, signal);
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

/**
 * Everything one attempt needs, in one statement: the delivery, its event and endpoint, and whether an
 * earlier event of the same subject is still pending for this endpoint (`earlier_pending_at`: when it is
 * due, 0 for now) or not yet fanned out (`earlier_unpublished`).
 */
function loadForAttempt(env: CommandEnv, id: string) {
  return env.db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('events as e', 'e.id', 'd.event_id')
    .innerJoin('webhook_endpoints as w', 'w.id', 'd.endpoint_id')
    .select([
      'd.id',
      'd.account_id',
      'd.endpoint_id',
      'd.event_id',
      'd.event_seq',
      'd.ordering_key',
      'd.state',
      'd.attempts',
      'd.next_attempt_at',
      'e.account_id as ev_account_id',
      'e.type as ev_type',
      'e.subject_type',
      'e.subject_id',
      'e.seq as ev_seq',
      'e.data as ev_data',
      'e.created_at as ev_created_at',
      'w.account_id as ep_account_id',
      'w.url',
      'w.enabled',
      'w.payload',
      'w.secret',
      'w.previous_secret',
      'w.previous_secret_until',
      'w.failing_since',
    ])
    .select((eb) => [
      eb
        .selectFrom('webhook_deliveries as p')
        .select(sql<number>`coalesce(p.next_attempt_at, 0)`.as('at'))
        .whereRef('p.endpoint_id', '=', 'd.endpoint_id')
        .whereRef('p.ordering_key', '=', 'd.ordering_key')
        .whereRef('p.event_seq', '<', 'd.event_seq')
        .where('p.state', '=', 'pending')
        .orderBy('p.event_seq')
        .limit(1)
        .as('earlier_pending_at'),
      eb
        .selectFrom('events as u')
        .select(sql<number>`1`.as('one'))
        .whereRef('u.account_id', '=', 'e.account_id')
        .whereRef('u.subject_type', '=', 'e.subject_type')
        .whereRef('u.subject_id', '=', 'e.subject_id')
        .whereRef('u.seq', '<', 'e.seq')
        .where('u.published_at', 'is', null)
        .limit(1)
        .as('earlier_unpublished'),
    ])
    .where('d.id', '=', id)
    .executeTakeFirst();
}

type AttemptRow = NonNullable<Awaited<ReturnType<typeof loadForAttempt>>>;

/** Whether the delivery may be sent now; false when it is settled; RunAgain to wait. */
async function readyToSend(env: CommandEnv, d: AttemptRow, now: number): Promise<boolean> {
  if (d.ep_account_id !== d.ev_account_id) return false;
  if (d.enabled !== 1 && d.ev_type !== 'webhook.test') {
    await env.db.updateTable('webhook_deliveries').set({ state: 'failed', last_error: 'endpoint_disabled: the endpoint is disabled; replay once it is enabled.', finished_at: now, next_attempt_at: null }).where('id', '=', d.id).where('state', '=', 'pending').execute();
    return false;
  }
  // In order per endpoint and subject: an earlier event not yet fanned out, or still pending here, goes first.
  if (d.earlier_pending_at !== null && d.earlier_pending_at !== undefined) throw new RunAgain(Math.max(deliverySettings.orderWaitMs, Number(d.earlier_pending_at) - now));
  if (d.earlier_unpublished !== null && d.earlier_unpublished !== undefined) throw new RunAgain(deliverySettings.orderWaitMs);
  return true;
}

/** Opened signing secrets by their sealed form (opening costs a decryption per attempt otherwise). */
const openedSecrets = new Map<string, string>();
function openSecret(env: CommandEnv, sealed: string): string {
  let plain = openedSecrets.get(sealed);
  if (plain === undefined) {
    plain = env.secrets.open(sealed);
    if (openedSecrets.size >= 1000) openedSecrets.clear();
    openedSecrets.set(sealed, plain);
  }
  return plain;
}

/**
 * Signs, POSTs, logs the attempt, and settles or reschedules the delivery. Returns the next delivery of
 * the subject, when this one succeeded and one waits.
 */
async function attemptDelivery(env: CommandEnv, d: AttemptRow, now: number, signal?: AbortSignal): Promise<string | null> {
  const attempt = d.attempts + 1;
  const object = d.payload === 'full' && hasFullObject(d.subject_type) ? await loadObject(env, d.ev_account_id, d.subject_type, d.subject_id) : undefined;
  const body = deliveryBody({ id: d.event_id, type: d.ev_type, created_at: Number(d.ev_created_at), data: d.ev_data }, object);
  const timestamp = Math.floor(now / 1000);
  const secrets = [openSecret(env, d.secret)];
  if (d.previous_secret && d.previous_secret_until !== null && Number(d.previous_secret_until) > now) secrets.push(openSecret(env, d.previous_secret));
  const headers = signatureHeaders(secrets, d.id, timestamp, body);
  const started = Date.now();
  let status: number | null = null;
  let error: string | null = null;
  let responseBody: string | null = null;
  let retryAfter: number | null = null;
  try {
    const res = await postWebhook(d.url, headers, body, { timeoutMs: deliverySettings.timeoutMs, maxResponseBytes: deliverySettings.maxResponseBytes, signal });
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
  const wokeNext = await writeOutcome(env, {
    d,
    now,
    outcome,
    done,
    attemptRow: {
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
      request_headers: JSON.stringify({ 'content-type': 'application/json', 'user-agent': 'Mailroom-Webhooks/1', ...headers }),
    },
    update: {
      state: outcome === 'success' ? 'succeeded' : done ? 'failed' : 'pending',
      attempts: attempt,
      last_status: status,
      last_error: error ?? (outcome === 'success' ? null : `status ${status}`),
      next_attempt_at: done ? null : now + delay!,
      finished_at: done ? now : null,
    },
  });
  if (wokeNext) env.onJobsQueued?.();
  if (!done) throw new RunAgain(delay!);
  return outcome === 'success' ? wokeNext : null;
}

interface Outcome {
  d: AttemptRow;
  now: number;
  outcome: ReturnType<typeof outcomeOfStatus>;
  done: boolean;
  attemptRow: WebhookAttemptsTable;
  update: Pick<WebhookDeliveriesTable, 'state' | 'attempts' | 'last_status' | 'last_error' | 'next_attempt_at' | 'finished_at'>;
}

interface Writer {
  items: Array<Outcome & { resolve: (next: string | null) => void; reject: (err: unknown) => void }>;
  running: boolean;
}
/** Outcomes waiting to be written, per database. */
const writers = new WeakMap<object, Writer>();
/** Outcomes written per transaction, at most. */
const WRITE_BATCH = 64;

/**
 * Records an attempt's outcome. Outcomes of the attempts in flight are written together (group commit):
 * while one transaction writes, the next outcomes wait and go in the next one. Resolves, once committed,
 * with the next delivery of the subject when this one is settled and one waits (made due now).
 */
function writeOutcome(env: CommandEnv, o: Outcome): Promise<string | null> {
  let w = writers.get(env.db);
  if (!w) {
    w = { items: [], running: false };
    writers.set(env.db, w);
  }
  const writer = w;
  return new Promise((resolve, reject) => {
    writer.items.push({ ...o, resolve, reject });
    if (writer.running) return;
    writer.running = true;
    void (async () => {
      while (writer.items.length) {
        const batch = writer.items.splice(0, WRITE_BATCH);
        try {
          const next = await env.db.transaction().execute((trx) => writeBatch(trx, env, batch));
          for (const [i, b] of batch.entries()) b.resolve(next[i] ?? null);
        } catch (err) {
          for (const b of batch) b.reject(err);
        }
      }
      writer.running = false;
    })();
  });
}

/** One batch of outcomes: the attempts in one insert, the deliveries, the endpoints' streaks, the subjects' next deliveries. */
async function writeBatch(trx: Executor, env: CommandEnv, batch: readonly Outcome[]): Promise<Array<string | null>> {
  await insertRows(
    trx,
    env.dialect,
    'webhook_attempts',
    batch.map((b) => b.attemptRow),
  );
  for (const b of batch) await trx.updateTable('webhook_deliveries').set(b.update).where('id', '=', b.d.id).execute();
  // The failure streak: started by the first failure after a 2xx, ended by the next 2xx (in attempt order).
  const streaks = new Map<string, { before: number | null; now: number | null; d: AttemptRow; at: number; gone: boolean }>();
  for (const b of batch) {
    const s = streaks.get(b.d.endpoint_id) ?? { before: b.d.failing_since === null ? null : Number(b.d.failing_since), now: b.d.failing_since === null ? null : Number(b.d.failing_since), d: b.d, at: b.now, gone: false };
    s.now = b.outcome === 'success' ? null : (s.now ?? b.now);
    s.at = b.now;
    s.gone ||= b.outcome === 'gone';
    streaks.set(b.d.endpoint_id, s);
  }
  for (const [endpointId, s] of streaks) {
    if ((s.now === null) !== (s.before === null)) await trx.updateTable('webhook_endpoints').set({ failing_since: s.now }).where('id', '=', endpointId).execute();
    const endpoint = { id: endpointId, account_id: s.d.ep_account_id, url: s.d.url };
    if (s.d.enabled !== 1) continue;
    if (s.gone) {
      await disableEndpoint(trx, endpoint, `The endpoint answered 410 Gone on ${new Date(s.at).toISOString()}: disabled. Enable it again to resume deliveries.`, `The webhook endpoint ${s.d.url} answered 410 Gone and was disabled.`, s.at);
    } else if (s.now !== null && s.at - s.now >= deliverySettings.disableAfterFailingMs) {
      await disableEndpoint(trx, endpoint, failingTooLongReason(s.now, s.at), `The webhook endpoint ${s.d.url} has failed every delivery since ${new Date(s.now).toISOString()} and was disabled.`, s.at);
    }
  }
  // The next delivery of each settled one's subject waits for it: it may go now.
  const settled = batch.filter((b) => b.done);
  if (!settled.length) return batch.map(() => null);
  const waiting = await trx
    .selectFrom('webhook_deliveries')
    .select(['id', 'endpoint_id', 'ordering_key', 'event_seq'])
    .where('state', '=', 'pending')
    .where((eb) => eb.or(settled.map((b) => eb.and([eb('endpoint_id', '=', b.d.endpoint_id), eb('ordering_key', '=', b.d.ordering_key), eb('event_seq', '>', b.d.event_seq)]))))
    .execute();
  const next = batch.map((b) => {
    if (!b.done) return null;
    let best: (typeof waiting)[number] | null = null;
    for (const w of waiting) {
      if (w.endpoint_id !== b.d.endpoint_id || w.ordering_key !== b.d.ordering_key || Number(w.event_seq) <= Number(b.d.event_seq)) continue;
      if (!best || Number(w.event_seq) < Number(best.event_seq)) best = w;
    }
    return best?.id ?? null;
  });
  const keys = [...new Set(next.filter((n): n is string => n !== null))].map((id) => `${DELIVER_JOB}:${id}`);
  const now = Math.max(...settled.map((b) => b.now));
  if (keys.length) await trx.updateTable('jobs').set({ run_at: now }).where('dedupe_key', 'in', keys).where('state', '=', 'queued').where('run_at', '>', now).execute();
  return next;
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
