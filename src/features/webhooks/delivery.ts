/**
 * The delivery engine, two job kinds:
 *
 *   events.publish {eventId}       fan-out of the event and the unpublished ones after it (seq order, a
 *                                  batch): one delivery row per enabled endpoint that wants an event (its
 *                                  id, msg_..., is the webhook-id of every attempt), in multi-row inserts;
 *                                  the events are marked published, and each endpoint that got deliveries
 *                                  has its delivery job queued (or brought forward). Idempotent.
 *   webhooks.deliver {endpointId}  the endpoint's pump, one job per endpoint (dedupe key
 *                                  `webhooks.deliver:<endpointId>`, on its own queue): claims the endpoint's
 *                                  due deliveries straight from webhook_deliveries in batches, with a lease
 *                                  (`locked_by`, `locked_until`), keeps up to `endpointConcurrency` POSTs in
 *                                  flight and `claimAhead` times as many leased deliveries ready (2 and
 *                                  none while the endpoint is slow, pacing.ts), and writes the outcomes of
 *                                  the attempts in flight together (group commit: one multi-row attempt
 *                                  insert, the deliveries in one update from a VALUES list; on PostgreSQL
 *                                  one statement when no failure streak changes, its values one array per
 *                                  column, so its text is always the same and prepared once). When
 *                                  nothing is due it goes back to the queue until the next retry is due,
 *                                  or ends when nothing is pending; after a time slice it hands its worker
 *                                  back (other endpoints' turn) and comes back at once.
 *
 * A claim takes only deliveries that are due, pending, not leased, with no earlier delivery of the same
 * endpoint and subject still pending (a later event waits while an earlier one is retried) and no earlier
 * event of the subject still to be fanned out. Two pumps never send the same delivery: a claim is a
 * conditional update (PostgreSQL re-checks the lease of a row another claim just changed). A hanging
 * endpoint holds its own job's worker slot and a couple of leases, never the workers of other endpoints.
 *
 * At least once: a worker killed mid-delivery leaves its leases to expire (and its job's lock), and the
 * deliveries (still pending) are sent again with the same webhook-id.
 *
 * An endpoint's failure streak starts at its first failed attempt after a 2xx (`failing_since`); an
 * endpoint still failing five days later (no 2xx in between), or answering 410 Gone, is disabled and the
 * account's admins are notified. During a secret rotation's overlap both secrets sign. A full-payload
 * endpoint gets the object the event is about in `data.object`, loaded at delivery time (objects.ts).
 */
import type { CommandEnv, Executor } from '../../platform/context.js';
import type { Dialect } from '../../platform/database/database.js';
import { newId } from '../../platform/database/ids.js';
import { insertRows } from '../../platform/database/insert-rows.js';
import { UNPREPARED } from '../../platform/database/pg-prepared.js';
import { CompiledQuery, sql } from 'kysely';
import type { EventsTable, JobsTable, WebhookAttemptsTable, WebhookDeliveriesTable, WebhookEndpointsTable } from '../../platform/database/schema.js';
import { json, readJson } from '../../platform/database/json.js';
import { RunAgain } from '../../platform/jobs/worker.js';
import { dropQueuedJobs } from '../../platform/jobs/queue.js';
import { PUBLISH_EVENT_JOB } from '../../platform/events.js';
import { adminIds, notifyUsers } from '../notifications/index.js';
import { EVENT_CATALOGUE, isEventType, wants } from './catalogue.js';
import { nextAttemptDelay, orderingKey, outcomeOfStatus, parseRetryAfter } from './domain/delivery.js';
import { postWebhook, SendError, webhookHeaders } from './sender.js';
import { signatures } from './signature.js';
import { hasFullObject, loadObject } from './objects.js';
import { beginAttempt, endpointCapacity, pacingSettings } from './pacing.js';

export const DELIVER_JOB = 'webhooks.deliver';
/** Deliveries have a queue (and a worker) of their own: a hanging endpoint never delays other jobs (src/app/runtime.ts). */
export const WEBHOOKS_QUEUE = 'webhooks';

/** Delivery settings; tests shorten them. */
export const deliverySettings = {
  timeoutMs: 15_000,
  /** Of an answer, only this much is read (and 1 KB kept in the log). */
  maxResponseBytes: 64 * 1024,
  /** How long a pump waits before looking again when what is pending cannot be claimed yet (safety net). */
  orderWaitMs: 1000,
  /** Jitter source, in [0, 1). */
  random: Math.random,
  /** An endpoint with no 2xx for this long since the first failure of its streak is disabled. */
  disableAfterFailingMs: 5 * 24 * 3600_000,
  /** POSTs in flight at once to one (fast) endpoint. */
  endpointConcurrency: 16,
  /** A claimed delivery's lease lasts the timeout plus this (then another worker may send it again). */
  leaseMarginMs: 30_000,
  /**
   * Claimed deliveries a pump keeps ready beside its POSTs, in multiples of what it may have in flight; it
   * claims again when one such multiple is left (a claim walks the leased deliveries before it finds new
   * ones: a few large claims cost less than many small ones; each is planned for its values, its fixed
   * cost shared by what it takes). 8 rather than 4 (claims of ~112 rather than ~48): PostgreSQL server
   * CPU ~95 -> ~80 us a delivered event, bench webhooks alternated in one tree, 3 x 3 rounds of 2,000;
   * 16 measured no better; SQLite unchanged.
   */
  claimAhead: 8,
  /** A pump hands its worker back after this long (wall clock), and is queued again at once. */
  sliceMs: 10_000,
  /**
   * How long the outcome writer waits for more outcomes to write in the same transaction (5 ms: batches
   * of ~40 at 2,000 events/s instead of ~16, a statement's and a commit's fixed cost shared by more).
   */
  writeGatherMs: 5,
};

const LOGGED_BODY = 1024;

/**
 * Events fanned out per transaction: the job's event and the unpublished ones after it. 500 rather than
 * 200: a backlog (events recorded one by one, each with its publication job) is fanned out in fewer
 * transactions, so fewer publication jobs are claimed and run, and fewer pump wake-ups. Bench webhooks
 * (2,000 events, alternated, 2 x 3 processes of 3 rounds): PostgreSQL Node CPU per event 153-162 ->
 * 127-140 us, server 90 -> 75-80; SQLite 159 -> 152. A transaction holds the events it takes (and on
 * SQLite the write lock) a little longer: a few ms for 500.
 */
export const PUBLISH_BATCH = 500;

/**
 * Fans the job's event out to its account's endpoints, and with it the unpublished events recorded after
 * it (seq order, up to PUBLISH_BATCH, whatever their account): their deliveries in one multi-row insert,
 * the delivery jobs of their endpoints in another, all marked published in one statement. The queued
 * publication jobs of the events taken along are removed in one statement (one claimed meanwhile
 * finds its event published and does nothing). PostgreSQL skips events another publication holds.
 */
export async function publishEvent(env: CommandEnv, eventId: string): Promise<number> {
  const now = env.now();
  let taken = 0;
  const queued = await env.db.transaction().execute(async (trx) => {
    const first = await trx.selectFrom('events').select(['seq', 'published_at']).where('id', '=', eventId).executeTakeFirst();
    if (!first || first.published_at !== null) return 0;
    let q = trx.selectFrom('events').selectAll().where('seq', '>=', first.seq).where('published_at', 'is', null).orderBy('seq').limit(PUBLISH_BATCH);
    if (env.dialect === 'postgres') q = q.forUpdate().skipLocked();
    const evs = await q.execute();
    taken = evs.length;
    if (!evs.length) return 0;
    // Each endpoint's event types read once per fan-out, not once per event.
    const byAccount = new Map<string, { id: string; types: string[]; enabled: number }[]>();
    for (const accountId of new Set(evs.map((e) => e.account_id))) {
      const rows = await trx.selectFrom('webhook_endpoints').select(['id', 'event_types', 'enabled']).where('account_id', '=', accountId).execute();
      byAccount.set(
        accountId,
        rows.map((e) => ({ id: e.id, types: readJson('webhook_endpoints.event_types', e.event_types, json.stringArray, ['*']), enabled: e.enabled })),
      );
    }
    const deliveries: NewDelivery[] = [];
    for (const ev of evs) {
      let endpoints = byAccount.get(ev.account_id) ?? [];
      if (ev.type === 'webhook.test') {
        const target = readJson('events.data', ev.data, json.record, {}).endpointId;
        endpoints = endpoints.filter((e) => e.id === target);
      } else {
        endpoints = endpoints.filter((e) => e.enabled === 1 && wants(e.types, ev.type));
      }
      for (const e of endpoints) {
        deliveries.push({ id: newId('msg'), account_id: ev.account_id, endpoint_id: e.id, event_id: ev.id, event_seq: Number(ev.seq), ordering_key: orderingKey(ev.subject_type, ev.subject_id) });
      }
    }
    const ids = evs.map((e) => e.id);
    await trx.updateTable('events').set({ published_at: now }).where('id', 'in', ids).where('published_at', 'is', null).execute();
    // The publication jobs of the events taken along have nothing left to do: removed without a claim each.
    // Queued to run at their events' times (recordEvent): only that stretch of the queue is looked at.
    // (Events recorded together by recordEvents share one job naming them all: it finds them published.)
    const along = evs.filter((e) => e.id !== eventId);
    if (along.length) {
      const times = along.map((e) => Number(e.created_at));
      const payloads = along.map((e) => JSON.stringify({ eventId: e.id }));
      await dropQueuedJobs(trx, env.dialect, 'default', PUBLISH_EVENT_JOB, payloads, { from: Math.min(...times), to: Math.max(...times) });
    }
    if (!deliveries.length) return 0;
    await insertDeliveries(trx, env.dialect, deliveries, now);
    // Later events of these subjects fanned out before these ones (their transactions committed first) wait
    // for them in the claim; waking their endpoints' pumps (below) lets them go.
    await wakeEndpoints(trx, env.dialect, [...new Set(deliveries.map((d) => d.endpoint_id))], now);
    return deliveries.length;
  });
  if (queued) env.onJobsQueued?.();
  return taken;
}

/** A delivery as a fan-out makes it: the rest of its row is the same for all (pending, due now, no attempt). */
type NewDelivery = Pick<WebhookDeliveriesTable, 'id' | 'account_id' | 'endpoint_id' | 'event_id' | 'event_seq' | 'ordering_key'>;

const INSERT_DELIVERIES_PG = `insert into webhook_deliveries (id, account_id, endpoint_id, event_id, event_seq, ordering_key, state, attempts, next_attempt_at, last_status, last_error, created_at, finished_at, locked_by, locked_until)
  select id, account_id, endpoint_id, event_id, event_seq, ordering_key, 'pending', 0, $7::bigint, null, null, $7::bigint, null, null, null
  from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[]) as d (id, account_id, endpoint_id, event_id, event_seq, ordering_key)
  on conflict (endpoint_id, event_seq) do nothing`;

/** Deliveries per insert statement on SQLite (8 parameters each). */
const DELIVERIES_PER_INSERT = 500;

/**
 * The fan-out's deliveries in multi-row inserts, a delivery's parameters only what differs between them
 * (its ids, event and subject, and the time; the state and the empty columns are written in the text), with
 * the dialect's placeholders: 8 parameters a row instead of 15 (insertRows binds every column of a row
 * object, after checking each row's keys); on PostgreSQL one array per column. A delivery already made (a
 * fan-out run again) is left as it is.
 */
async function insertDeliveries(trx: Executor, dialect: Dialect, deliveries: readonly NewDelivery[], now: number): Promise<void> {
  if (dialect === 'postgres') {
    // One array per column: the same text for any number of deliveries, prepared once per connection.
    const columns: unknown[][] = [[], [], [], [], [], []];
    for (const d of deliveries) {
      columns[0]!.push(d.id);
      columns[1]!.push(d.account_id);
      columns[2]!.push(d.endpoint_id);
      columns[3]!.push(d.event_id);
      columns[4]!.push(d.event_seq);
      columns[5]!.push(d.ordering_key);
    }
    await trx.executeQuery(CompiledQuery.raw(INSERT_DELIVERIES_PG, [...columns, now]));
    return;
  }
  for (let at = 0; at < deliveries.length; at += DELIVERIES_PER_INSERT) {
    const part = deliveries.slice(at, at + DELIVERIES_PER_INSERT);
    const values: Array<string | number> = [];
    for (const d of part) values.push(d.id, d.account_id, d.endpoint_id, d.event_id, d.event_seq, d.ordering_key, now, now);
    await trx.executeQuery(CompiledQuery.raw(sqliteText('deliveries', part.length, insertDeliveriesSqlite), values));
  }
}

const insertDeliveriesSqlite = (n: number) =>
  `insert into webhook_deliveries (id, account_id, endpoint_id, event_id, event_seq, ordering_key, state, attempts, next_attempt_at, last_status, last_error, created_at, finished_at, locked_by, locked_until)
    values ${Array.from({ length: n }, () => "(?, ?, ?, ?, ?, ?, 'pending', 0, ?, null, null, ?, null, null, null)").join(', ')} on conflict (endpoint_id, event_id) do nothing`;

/**
 * SQLite: the text of a multi-row statement for n rows, made once per (kind, n) and kept (the same string
 * each time: no text built per batch, and the statement cache finds it without hashing it again).
 */
const sqliteTexts = new Map<string, string>();
function sqliteText(kind: string, n: number, make: (n: number) => string): string {
  const key = `${kind}:${n}`;
  let text = sqliteTexts.get(key);
  if (text === undefined) {
    text = make(n);
    if (sqliteTexts.size >= 2000) sqliteTexts.clear();
    sqliteTexts.set(key, text);
  }
  return text;
}

/**
 * The publication job of several events recorded together (`recordEvents`: one job per transaction, not
 * one per event): the first one's publication takes the others along (seq order); what it did not take
 * (more than PUBLISH_BATCH, or others in between) is published in further rounds. A round that takes
 * nothing ends it: another publication holds those events (PostgreSQL) and publishes them.
 */
export async function publishEvents(env: CommandEnv, eventIds: readonly string[]): Promise<void> {
  let left = [...eventIds];
  while (left.length) {
    if ((await publishEvent(env, left[0]!)) === 0) return;
    const unpublished = new Set((await env.db.selectFrom('events').select('id').where('id', 'in', left).where('published_at', 'is', null).execute()).map((r) => r.id));
    left = left.filter((id) => unpublished.has(id));
  }
}

/**
 * Queues the delivery job (the pump) of each endpoint, or brings a queued one forward to now. A running
 * one is left running, but its row is locked until this transaction ends (an upsert locks the row it
 * meets): the pump, before it ends, locks its job row and looks for pending deliveries, so it either sees
 * these or has ended (its dedupe key cleared) and a new job is queued here.
 */
export async function wakeEndpoints(trx: Executor, dialect: Dialect, endpointIds: readonly string[], now: number): Promise<void> {
  if (!endpointIds.length) return;
  const least = dialect === 'postgres' ? 'least' : 'min';
  await insertRows(
    trx,
    dialect,
    'jobs',
    endpointIds.map((id) => pumpJobRow(id, now)),
    `on conflict ("dedupe_key") do update set "run_at" = ${least}("jobs"."run_at", excluded."run_at") where "jobs"."state" = 'queued'`,
  );
}

function pumpJobRow(endpointId: string, now: number): JobsTable {
  return {
    id: newId('job'),
    queue: WEBHOOKS_QUEUE,
    kind: DELIVER_JOB,
    payload: JSON.stringify({ endpointId }),
    dedupe_key: `${DELIVER_JOB}:${endpointId}`,
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
  const timestamp = new Date(ev.created_at).toISOString();
  // A thin body takes the event's data as stored: recordEvent(s) store it as JSON.stringify of an object,
  // which parsed and serialised again gives the same text (parsing it for every attempt cost more than
  // the rest of the body: ~2.5 -> ~0.8 us). Text not of that form is read and checked as before ({} if
  // it is not an object); text of that form that is not JSON (only a hand edit could store it) would be
  // sent as it is.
  if (object === undefined && isStoredObject(ev.data)) {
    return `{"type":${JSON.stringify(ev.type)},"version":${version},"timestamp":"${timestamp}","eventId":${JSON.stringify(ev.id)},"data":${ev.data}}`;
  }
  const data = readJson('events.data', ev.data, json.record, {});
  return JSON.stringify({ type: ev.type, version, timestamp, eventId: ev.id, data: object === undefined ? data : { ...data, object } });
}

/**
 * Whether `text` is an object as JSON.stringify writes it (no whitespace outside strings): `{`, a key or
 * `}` first, `}` last. What recordEvent(s) store; the full check (a parse) is left to the other path.
 */
function isStoredObject(text: string): boolean {
  return text.length >= 2 && text.charCodeAt(0) === 0x7b && text.charCodeAt(text.length - 1) === 0x7d && (text.length === 2 || text.charCodeAt(1) === 0x22);
}

/** The endpoint's signing secrets now, opened by `open`: its secret, and the previous one during a rotation's overlap. */
function signingSecrets(open: (sealed: string) => string, endpoint: { secret: string; previous_secret: string | null; previous_secret_until: number | null }, now: number): string[] {
  const secrets = [open(endpoint.secret)];
  if (endpoint.previous_secret && endpoint.previous_secret_until !== null && Number(endpoint.previous_secret_until) > now) secrets.push(open(endpoint.previous_secret));
  return secrets;
}

/** Disables an endpoint (once, whoever races) and tells the account's admins why. */
export async function disableEndpoint(trx: Executor, endpoint: { id: string; account_id: string; url: string }, reason: string, message: string, now: number): Promise<void> {
  const r = await trx.updateTable('webhook_endpoints').set({ enabled: 0, disabled_reason: reason, updated_at: now }).where('id', '=', endpoint.id).where('enabled', '=', 1).executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) return;
  await notifyUsers(trx, { accountId: endpoint.account_id, userIds: await adminIds(trx, endpoint.account_id), kind: 'webhook.endpoint_disabled', message, data: { endpointId: endpoint.id }, at: now });
}


/** What an attempt needs, as a claim returns it: the delivery, its event and its endpoint (columns as stored). */
export type ClaimedDelivery = Pick<WebhookDeliveriesTable, 'id' | 'account_id' | 'endpoint_id' | 'event_id' | 'event_seq' | 'ordering_key' | 'attempts'> &
  Pick<EventsTable, 'subject_type' | 'subject_id'> &
  Pick<WebhookEndpointsTable, 'url' | 'enabled' | 'payload' | 'secret' | 'previous_secret' | 'previous_secret_until' | 'failing_since'> & {
    ev_account_id: string;
    ev_type: string;
    ev_data: string;
    ev_created_at: number;
    ep_account_id: string;
  };

const CLAIMED_COLUMNS = sql.raw(
  [
    'd.id',
    'd.account_id',
    'd.endpoint_id',
    'd.event_id',
    'd.event_seq',
    'd.ordering_key',
    'd.attempts',
    'e.account_id as ev_account_id',
    'e.type as ev_type',
    'e.subject_type',
    'e.subject_id',
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
  ].join(', '),
);

/**
 * `p.state = 'pending'` for the look-up of an earlier delivery of the same subject, written so that no
 * index is used for it: SQLite would otherwise walk the pending index (every earlier pending delivery of
 * the endpoint, quadratic in a backlog) instead of the ordering index (the subject's few).
 */
const EARLIER_PENDING = sql.raw(`p.state || '' = 'pending'`);

/**
 * Ends the `not exists` look-ups below: with an offset, PostgreSQL does not turn the subquery into an
 * anti-join (a plain `limit 1` it drops) and runs it per candidate with all its conditions in the index
 * scan. As an anti-join, once the statistics had the endpoint at a row or two (an analyze before its
 * backlog arrived), it was planned as a scan of all the endpoint's deliveries per candidate, subject and
 * order left to a filter: ~50 ms for a claim of 48 instead of ~2 ms. SQLite runs it per candidate anyway.
 */
const ONE = sql.raw('limit 1 offset 0');

/**
 * SQLite: the claim walks the endpoint's pending deliveries (the partial index, migration 034), named
 * here because the planner, statistics or not, took `webhook_deliveries_endpoint_seq_idx` (the same
 * columns, every delivery of the endpoint) for `endpoint_id = ? and state = 'pending' order by
 * event_seq`: each claim then walked the endpoint's whole history in event order, every delivered one
 * read from the table to find its state, a cost growing with all the endpoint ever received.
 */
const PENDING_INDEX = sql.raw(' indexed by webhook_deliveries_pending_idx');

/**
 * The ids of up to `limit` deliveries of the endpoint that may be sent now, in event order: due, pending,
 * not leased (or the lease expired), no earlier delivery of the same subject pending for this endpoint,
 * no earlier event of the subject still to be fanned out.
 */
function claimable(dialect: Dialect, endpointId: string, limit: number, now: number) {
  return sql`
    select d.id from webhook_deliveries d${dialect === 'sqlite' ? PENDING_INDEX : sql``}
    where d.endpoint_id = ${endpointId} and d.state = 'pending' and d.next_attempt_at <= ${now}
      and (d.locked_until is null or d.locked_until < ${now})
      and not exists (
        select 1 from webhook_deliveries p
        where p.endpoint_id = d.endpoint_id and p.ordering_key = d.ordering_key and p.event_seq < d.event_seq and ${EARLIER_PENDING} ${ONE})
      and not exists (
        select 1 from events e join events u
          on u.account_id = e.account_id and u.subject_type = e.subject_type and u.subject_id = e.subject_id and u.seq < e.seq
        where e.id = d.event_id and u.published_at is null ${ONE})
    order by d.event_seq
    limit ${limit}`;
}

/**
 * Leases up to `limit` deliveries of the endpoint that may be sent now (see `claimable`) to `workerId`
 * until `now + leaseMs`, and returns them with their events and endpoint. The update re-checks the lease,
 * so two claimers never both get a delivery (PostgreSQL re-reads a row another claim just changed); on
 * PostgreSQL claim and read are one statement; on SQLite the update returns the deliveries, and their
 * events and the endpoint (once) are read beside them.
 */
/** The claim's lease: the update of the claimable deliveries (exported for the test of its plan). */
export function leaseStatement(dialect: Dialect, c: { endpointId: string; workerId: string; limit: number; now: number; leaseMs: number }) {
  // PostgreSQL: the claimable ids as an array, computed once (an InitPlan) and looked up by primary key. As
  // `id in (select ...)`, after an analyse that saw the endpoint without a backlog (autovacuum's, once the
  // previous burst was delivered), the update was planned as a walk of every pending delivery re-running the
  // whole claim for each: ~50 events/s instead of thousands, a claim taking seconds (bench/webhooks.ts, which
  // analyses after its warm-up). SQLite evaluates `in (select ...)` once anyway.
  const ids = claimable(dialect, c.endpointId, c.limit, c.now);
  return sql`
    update webhook_deliveries set locked_by = ${c.workerId}, locked_until = ${c.now + c.leaseMs}
    where ${dialect === 'postgres' ? sql`id = any(array(${ids}))` : sql`id in (${ids})`}
      and state = 'pending' and (locked_until is null or locked_until < ${c.now})`;
}

export async function claimDeliveries(db: Executor, dialect: Dialect, c: { endpointId: string; workerId: string; limit: number; now: number; leaseMs: number }): Promise<ClaimedDelivery[]> {
  if (c.limit <= 0) return [];
  const lease = leaseStatement(dialect, c);
  if (dialect === 'postgres') {
    // Unprepared: a plan cached while the table was nearly empty walks it whole per candidate once it has grown.
    const r = await sql<ClaimedDelivery>`${sql.raw(UNPREPARED)}
      with d as (${lease} returning *)
      select ${CLAIMED_COLUMNS} from d join events e on e.id = d.event_id join webhook_endpoints w on w.id = d.endpoint_id
      order by d.event_seq`.execute(db);
    return r.rows;
  }
  // SQLite: the leased rows as the update returns them, their events, and the endpoint read once (not
  // repeated on every row of a join, its sealed secrets included), put together here.
  const leased = (await sql<LeasedRow>`${lease} returning ${LEASED_COLUMNS}`.execute(db)).rows;
  if (!leased.length) return [];
  const endpoint = (await sql<EndpointColumns>`select ${ENDPOINT_COLUMNS} from webhook_endpoints where id = ${c.endpointId}`.execute(db)).rows[0];
  if (!endpoint) return [];
  const events = await sql<EventColumns>`select ${EVENT_COLUMNS} from events where id in (select value from json_each(${JSON.stringify(leased.map((d) => d.event_id))}))`.execute(db);
  const byId = new Map(events.rows.map((e) => [e.id, e]));
  const claimed: ClaimedDelivery[] = [];
  for (const d of leased) {
    const e = byId.get(d.event_id);
    if (!e) continue;
    claimed.push({
      id: d.id,
      account_id: d.account_id,
      endpoint_id: c.endpointId,
      event_id: d.event_id,
      event_seq: d.event_seq,
      ordering_key: d.ordering_key,
      attempts: d.attempts,
      ev_account_id: e.account_id,
      ev_type: e.type,
      subject_type: e.subject_type,
      subject_id: e.subject_id,
      ev_data: e.data,
      ev_created_at: e.created_at,
      ep_account_id: endpoint.account_id,
      url: endpoint.url,
      enabled: endpoint.enabled,
      payload: endpoint.payload,
      secret: endpoint.secret,
      previous_secret: endpoint.previous_secret,
      previous_secret_until: endpoint.previous_secret_until,
      failing_since: endpoint.failing_since,
    });
  }
  return claimed.sort((a, b) => Number(a.event_seq) - Number(b.event_seq));
}

type LeasedRow = Pick<ClaimedDelivery, 'id' | 'account_id' | 'event_id' | 'event_seq' | 'ordering_key' | 'attempts'>;
/** The endpoint's id is the claim's own (not read back on every row). */
const LEASED_COLUMNS = sql.raw('id, account_id, event_id, event_seq, ordering_key, attempts');
type EndpointColumns = Pick<WebhookEndpointsTable, 'account_id' | 'url' | 'enabled' | 'payload' | 'secret' | 'previous_secret' | 'previous_secret_until' | 'failing_since'>;
const ENDPOINT_COLUMNS = sql.raw('account_id, url, enabled, payload, secret, previous_secret, previous_secret_until, failing_since');
type EventColumns = Pick<EventsTable, 'id' | 'account_id' | 'type' | 'subject_type' | 'subject_id' | 'data' | 'created_at'>;
const EVENT_COLUMNS = sql.raw('id, account_id, type, subject_type, subject_id, data, created_at');

export interface PumpOptions {
  workerId: string;
  signal?: AbortSignal;
  /** Stop claiming after this long (wall clock); default `deliverySettings.sliceMs`. */
  sliceMs?: number;
}

/**
 * Sends what the endpoint has to send now. It keeps up to its capacity (pacing.ts) of POSTs in flight,
 * and `deliverySettings.claimAhead` times as many claimed deliveries ready beside them (none while the
 * endpoint is slow), so a place that frees up is taken at once while the next claim runs. A place frees
 * up when its answer comes, before the outcome is written (the delivery stays leased, and pending, until
 * then). It claims (one claim at a time, beside the POSTs) when only one capacity's worth is left ready
 * (a claim walks the endpoint's leased deliveries before it finds new ones: a few large claims cost less
 * than many small ones), or when nothing is in flight, unless the last claim found too little and no
 * outcome was written since (a settled delivery lets the next one of its subject go). It stops when
 * nothing more can be claimed and every outcome is written, when the slice is over, or when the signal
 * aborts (what was claimed and not sent is released). Returns whether it stopped early, and how many
 * outcomes it wrote.
 *
 * Its loop sleeps on one wake-up that every answer, write and claim calls (not a race over the promises
 * in flight, which would add a reaction to each of them at every turn).
 */
export async function pumpEndpoint(env: CommandEnv, endpointId: string, o: PumpOptions): Promise<{ cutShort: boolean; sent: number }> {
  const t0 = performance.now();
  const slice = o.sliceMs ?? deliverySettings.sliceMs;
  const ready: ClaimedDelivery[] = [];
  let inFlight = 0;
  let writing = 0;
  let claiming = false;
  let failure: unknown = null;
  let sent = 0;
  let written = 0;
  /** `written` when a claim last got fewer than it asked for: claiming again before more is written finds nothing new. */
  let starvedAt = -1;
  let stop = false;
  let wake: (() => void) | null = null;
  const poke = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const onWritten: Settle = (err) => {
    writing -= 1;
    if (err === null) {
      sent += 1;
      written += 1;
    } else failure ??= err;
    poke();
  };
  const onAnswer = (outcome: Outcome) => {
    inFlight -= 1;
    writing += 1;
    writeOutcome(env, outcome, onWritten);
    poke();
  };
  const onAttemptFailed = (err: unknown) => {
    inFlight -= 1;
    failure ??= err;
    poke();
  };
  const leaseMs = deliverySettings.timeoutMs + deliverySettings.leaseMarginMs;
  for (;;) {
    stop = failure !== null || Boolean(o.signal?.aborted) || performance.now() - t0 > slice;
    const cap = endpointCapacity(endpointId, deliverySettings.endpointConcurrency, deliverySettings.timeoutMs);
    if (!stop) {
      while (inFlight < cap && ready.length) {
        inFlight += 1;
        attempt(env, ready.shift()!, o.workerId, o.signal).then(onAnswer, onAttemptFailed);
      }
    }
    const ahead = cap > pacingSettings.slowEndpointAttempts ? deliverySettings.claimAhead * cap : 0;
    const want = cap - inFlight + ahead - ready.length;
    const claimAt = Math.max(1, ahead - cap);
    if (!stop && !claiming && want > 0 && (inFlight === 0 || want >= claimAt) && written !== starvedAt) {
      const at = written;
      claiming = true;
      claimDeliveries(env.db, env.dialect, { endpointId, workerId: o.workerId, limit: want, now: env.now(), leaseMs }).then(
        (rows) => {
          claiming = false;
          if (rows.length < want) starvedAt = at;
          for (const r of rows) ready.push(r);
          poke();
        },
        (err) => {
          claiming = false;
          failure ??= err;
          poke();
        },
      );
    }
    if (stop && !claiming && ready.length) await releaseDeliveries(env.db, ready.splice(0).map((r) => r.id), o.workerId);
    if (!inFlight && !writing && !claiming) {
      // Ready ones not launched (the capacity dropped meanwhile): launch them; otherwise nothing more to do.
      if (!stop && ready.length) continue;
      break;
    }
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
  }
  if (failure !== null) throw failure;
  return { cutShort: stop, sent };
}

/** Gives back leases not used (claimed, never sent): claimable again at once. */
async function releaseDeliveries(db: Executor, ids: readonly string[], workerId: string): Promise<void> {
  await db.updateTable('webhook_deliveries').set({ locked_by: null, locked_until: null }).where('id', 'in', [...ids]).where('locked_by', '=', workerId).execute();
}

/**
 * The `webhooks.deliver` job: the endpoint's pump, then either back to the queue (until the next retry
 * or lease expiry is due; at once after a slice, or when work came while it finished) or done when
 * nothing is pending. The end is decided with the job's row locked (see `wakeEndpoints`), so a fan-out
 * that comes meanwhile is never missed.
 */
export async function deliverEndpointJob(env: CommandEnv, endpointId: string, job: { id: string }, workerId: string, signal?: AbortSignal): Promise<void> {
  const { cutShort, sent } = await pumpEndpoint(env, endpointId, { workerId, signal });
  if (cutShort) throw new RunAgain(0);
  const delay = await env.db.transaction().execute(async (trx) => {
    if (env.dialect === 'postgres') await sql`select id from jobs where id = ${job.id} for update`.execute(trx);
    const now = env.now();
    const next = await nextDue(trx, endpointId, now);
    // Due now: new deliveries came as the pump ended (again at once), or what is due cannot go yet, an
    // earlier event of its subject not fanned out (look again shortly).
    if (next !== null) return next > now ? next - now : sent > 0 ? 0 : deliverySettings.orderWaitMs;
    await trx.updateTable('jobs').set({ state: 'done', finished_at: now, locked_by: null, locked_until: null, dedupe_key: null }).where('id', '=', job.id).where('locked_by', '=', workerId).execute();
    return null;
  });
  if (delay !== null) throw new RunAgain(delay);
}

/**
 * When the endpoint's first pending delivery of each subject can next be claimed (its next attempt, or
 * its lease's end), the earliest; null when nothing is pending.
 */
async function nextDue(db: Executor, endpointId: string, now: number): Promise<number | null> {
  const r = await sql<{ due: number | string | null; pending: number | string }>`${sql.raw(UNPREPARED)}
    select min(case when d.locked_until is not null and d.locked_until >= ${now} then d.locked_until else d.next_attempt_at end) as due,
      count(*) as pending
    from webhook_deliveries d
    where d.endpoint_id = ${endpointId} and d.state = 'pending'
      and not exists (
        select 1 from webhook_deliveries p
        where p.endpoint_id = d.endpoint_id and p.ordering_key = d.ordering_key and p.event_seq < d.event_seq and ${EARLIER_PENDING} ${ONE})`.execute(db);
  const row = r.rows[0];
  if (!row || Number(row.pending) === 0) return null;
  return row.due === null ? now : Number(row.due);
}

/** Sends what is pending for the endpoint now, without a job (tests, tools): one pump to the end. */
export async function deliverEndpoint(env: CommandEnv, endpointId: string, workerId = `direct:${process.pid}`): Promise<number> {
  return (await pumpEndpoint(env, endpointId, { workerId, sliceMs: Number.POSITIVE_INFINITY })).sent;
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
 * One attempt of a claimed delivery: signs and POSTs; returns the outcome to write. A delivery whose
 * endpoint is disabled (not a test event) fails without a request.
 */
async function attempt(env: CommandEnv, d: ClaimedDelivery, workerId: string, signal?: AbortSignal): Promise<Outcome> {
  const now = env.now();
  if (d.ep_account_id !== d.ev_account_id || (d.enabled !== 1 && d.ev_type !== 'webhook.test')) {
    const error = d.enabled !== 1 ? 'endpoint_disabled: the endpoint is disabled; replay once it is enabled.' : 'account_mismatch: the event is not of the endpoint\'s account.';
    return { d, now, workerId, outcome: 'fail', attemptRow: null, update: { state: 'failed', attempts: d.attempts, last_status: null, last_error: error, next_attempt_at: null, finished_at: now } };
  }
  const attemptNo = d.attempts + 1;
  const object = d.payload === 'full' && hasFullObject(d.subject_type) ? await loadObject(env, d.ev_account_id, d.subject_type, d.subject_id) : undefined;
  const body = deliveryBody({ id: d.event_id, type: d.ev_type, created_at: Number(d.ev_created_at), data: d.ev_data }, object);
  const timestamp = Math.floor(now / 1000);
  const headers = webhookHeaders(d.id, timestamp, signatures(signingSecrets((sealed) => openSecret(env, sealed), d, now), d.id, timestamp, body));
  const started = Date.now();
  const end = beginAttempt(d.endpoint_id, deliverySettings.timeoutMs);
  let status: number | null = null;
  let error: string | null = null;
  let responseBody: string | null = null;
  let retryAfter: number | null = null;
  let reached = true;
  try {
    const res = await postWebhook(d.url, headers, body, { timeoutMs: deliverySettings.timeoutMs, maxResponseBytes: deliverySettings.maxResponseBytes, signal });
    status = res.status;
    responseBody = res.body.slice(0, LOGGED_BODY);
    const ra = res.headers['retry-after'];
    retryAfter = parseRetryAfter(Array.isArray(ra) ? ra[0] : ra, now);
    if (status >= 300 && status < 400) error = `redirect: ${status} is not followed (Location: ${String(res.headers.location ?? '').slice(0, 200)})`;
  } catch (err) {
    error = err instanceof SendError ? `${err.code}: ${err.message}` : `connection_error: ${(err as Error).message}`;
    // Refused before sending (host guard, URL): nothing learnt about the endpoint's speed.
    reached = !(err instanceof SendError) || err.code === 'timeout' || err.code === 'connection_error';
  } finally {
    end(undefined, reached);
  }
  const latency = Date.now() - started;
  const outcome = status === null ? 'retry' : outcomeOfStatus(status);
  const delay = outcome === 'retry' ? nextAttemptDelay(attemptNo, deliverySettings.random(), retryAfter) : null;
  const done = outcome !== 'retry' || delay === null;
  return {
    d,
    now,
    workerId,
    outcome,
    attemptRow: {
      id: newId('wha'),
      delivery_id: d.id,
      endpoint_id: d.endpoint_id,
      account_id: d.account_id,
      attempt: attemptNo,
      started_at: now,
      latency_ms: latency,
      status,
      error,
      response_body: responseBody,
      // Every header sent but the length (as before: the one object the request was sent with).
      request_headers: JSON.stringify(headers),
    },
    update: {
      state: outcome === 'success' ? 'succeeded' : done ? 'failed' : 'pending',
      attempts: attemptNo,
      last_status: status,
      last_error: error ?? (outcome === 'success' ? null : `status ${status}`),
      next_attempt_at: done ? null : now + delay!,
      finished_at: done ? now : null,
    },
  };
}

interface Outcome {
  d: ClaimedDelivery;
  now: number;
  workerId: string;
  outcome: ReturnType<typeof outcomeOfStatus>;
  /** The attempt's log row; null when no request was made (disabled endpoint). */
  attemptRow: WebhookAttemptsTable | null;
  update: Pick<WebhookDeliveriesTable, 'state' | 'attempts' | 'last_status' | 'last_error' | 'next_attempt_at' | 'finished_at'>;
}

/** Told when an outcome is written (`err` null) or its batch failed. */
type Settle = (err: unknown) => void;
interface Writer {
  items: Outcome[];
  /** Each item's settle, at the same index. */
  settles: Settle[];
  running: boolean;
}
/** Outcomes waiting to be written, per database. */
const writers = new WeakMap<object, Writer>();
/** Outcomes written per transaction, at most. */
const WRITE_BATCH = 128;
/**
 * Endpoints whose failure streak this process started: a later 2xx ends it even when the claim that
 * returned it read the endpoint before the streak began.
 */
const markedFailing = new Set<string>();

/**
 * Records an attempt's outcome. Outcomes of the attempts in flight (all endpoints of the process) are
 * written together (group commit): while one transaction writes, the next outcomes wait and go in the
 * next one. `settle` is called once committed (with null), or with the error of its batch: no promise,
 * copy of the outcome or pair of callbacks per outcome.
 */
function writeOutcome(env: CommandEnv, o: Outcome, settle: Settle): void {
  let writer = writers.get(env.db);
  if (!writer) {
    writer = { items: [], settles: [], running: false };
    writers.set(env.db, writer);
  }
  writer.items.push(o);
  writer.settles.push(settle);
  if (writer.running) return;
  writer.running = true;
  void runWriter(env, writer);
}

async function runWriter(env: CommandEnv, writer: Writer): Promise<void> {
  while (writer.items.length) {
    // Answers come one by one: a moment's wait lets the ones in flight join this transaction.
    if (writer.items.length < WRITE_BATCH) await new Promise((r) => setTimeout(r, deliverySettings.writeGatherMs));
    const batch = writer.items.splice(0, WRITE_BATCH);
    const settles = writer.settles.splice(0, WRITE_BATCH);
    let failure: unknown = null;
    try {
      if (env.dialect === 'postgres' && !touchesStreaks(batch)) await writeBatchAsOneStatement(env.db, batch);
      else await env.db.transaction().execute((trx) => writeBatch(trx, env, batch));
    } catch (err) {
      failure = err ?? new Error('writing outcomes failed');
    }
    for (const settle of settles) settle(failure);
  }
  writer.running = false;
}

/** The parameters of one statement, with the dialect's placeholders (`?`, or `$1`, `$2`... with a cast). */
class Params {
  readonly values: Array<string | number | null> = [];
  constructor(private readonly dialect: Dialect) {}
  /** The placeholder of `value`; `pgType` casts it on PostgreSQL (a VALUES list's parameters are text otherwise). */
  add(value: string | number | null, pgType?: string): string {
    this.values.push(value);
    if (this.dialect !== 'postgres') return '?';
    return pgType ? `$${this.values.length}::${pgType}` : `$${this.values.length}`;
  }
}

const ATTEMPT_COLUMNS = ['id', 'delivery_id', 'endpoint_id', 'account_id', 'attempt', 'started_at', 'latency_ms', 'status', 'error', 'response_body', 'request_headers'] as const satisfies ReadonlyArray<keyof WebhookAttemptsTable>;

/** The attempts' multi-row insert (SQL text, parameters in `p`). */
function attemptsInsert(p: Params, attempts: readonly WebhookAttemptsTable[]): string {
  const tuples = attempts.map((a) => `(${ATTEMPT_COLUMNS.map((c) => p.add(a[c])).join(', ')})`);
  return `insert into webhook_attempts (${ATTEMPT_COLUMNS.join(', ')}) values ${tuples.join(', ')}`;
}

const attemptsInsertSqlite = (n: number) => attemptsInsert(new Params('sqlite'), Array.from({ length: n }, () => PLACEHOLDER_ATTEMPT));
const deliveriesUpdateSqlite = (n: number) => {
  const { cte, update } = deliveriesUpdate(new Params('sqlite'), Array.from({ length: n }, () => PLACEHOLDER_OUTCOME));
  return `with ${cte} ${update}`;
};
/** Rows whose values are not used: on SQLite a text depends on the row count only (every placeholder is `?`). */
const PLACEHOLDER_ATTEMPT = {} as WebhookAttemptsTable;
const PLACEHOLDER_OUTCOME = { d: {}, update: {} } as Outcome;

/**
 * The deliveries' updates of a batch as one statement: each row gets its outcome (from a VALUES list) and
 * gives back its lease, only if still leased to its writer. Prefixed by `with` (its own, or the caller's
 * WITH list continued: `cte` is the VALUES part, `update` the statement).
 */
function deliveriesUpdate(p: Params, batch: readonly Outcome[]): { cte: string; update: string } {
  const rows = batch.map((b) => {
    const u = b.update;
    return `(${p.add(b.d.id)}, ${p.add(u.state, 'text')}, ${p.add(u.attempts, 'integer')}, ${p.add(u.last_status, 'integer')}, ${p.add(u.last_error, 'text')}, ${p.add(u.next_attempt_at, 'bigint')}, ${p.add(u.finished_at, 'bigint')}, ${p.add(b.workerId, 'text')})`;
  });
  return {
    cte: `v (id, state, attempts, last_status, last_error, next_attempt_at, finished_at, locked_by) as (values ${rows.join(', ')})`,
    update: `update webhook_deliveries set state = v.state, attempts = v.attempts, last_status = v.last_status, last_error = v.last_error,
        next_attempt_at = v.next_attempt_at, finished_at = v.finished_at, locked_by = null, locked_until = null
      from v where webhook_deliveries.id = v.id and webhook_deliveries.locked_by = v.locked_by`,
  };
}

/**
 * Whether the batch touches an endpoint's failure streak (a failure, or a 2xx after one): when it does
 * not (the usual batch of 2xx), the batch is the attempts and the deliveries only.
 */
function touchesStreaks(batch: readonly Outcome[]): boolean {
  return batch.some((b) => b.attemptRow !== null && (b.outcome !== 'success' || b.d.failing_since !== null || markedFailing.has(b.d.endpoint_id)));
}

/**
 * PostgreSQL, a batch that touches no streak: the attempt insert and the deliveries' update as one
 * statement (data-modifying WITH parts, atomic as a statement), one round trip instead of a transaction's
 * four. Its values go as one array per column (unnest): the text is the same for every batch, so it is
 * prepared once per connection (pg-prepared) instead of parsed and planned for each batch, its ~19
 * placeholders a row making a new text for every batch size (and one of more than 8 KB, never prepared).
 */
const OUTCOMES_AS_ONE_STATEMENT = `with v as (
    select * from unnest($1::text[], $2::text[], $3::integer[], $4::integer[], $5::text[], $6::bigint[], $7::bigint[], $8::text[])
      as v (id, state, attempts, last_status, last_error, next_attempt_at, finished_at, locked_by)),
  a as (
    insert into webhook_attempts (${ATTEMPT_COLUMNS.join(', ')})
    select * from unnest($9::text[], $10::text[], $11::text[], $12::text[], $13::integer[], $14::bigint[], $15::integer[], $16::integer[], $17::text[], $18::text[], $19::text[])),
  u as (
    update webhook_deliveries set state = v.state, attempts = v.attempts, last_status = v.last_status, last_error = v.last_error,
        next_attempt_at = v.next_attempt_at, finished_at = v.finished_at, locked_by = null, locked_until = null
      from v where webhook_deliveries.id = v.id and webhook_deliveries.locked_by = v.locked_by)
  select 1`;

async function writeBatchAsOneStatement(db: Executor, batch: readonly Outcome[]): Promise<void> {
  const deliveries: unknown[][] = [[], [], [], [], [], [], [], []];
  const attempts: unknown[][] = ATTEMPT_COLUMNS.map(() => []);
  for (const b of batch) {
    const u = b.update;
    const row = [b.d.id, u.state, u.attempts, u.last_status, u.last_error, u.next_attempt_at, u.finished_at, b.workerId];
    for (let i = 0; i < row.length; i++) deliveries[i]!.push(row[i]);
    const a = b.attemptRow;
    if (a) for (let i = 0; i < ATTEMPT_COLUMNS.length; i++) attempts[i]!.push(a[ATTEMPT_COLUMNS[i]!]);
  }
  await db.executeQuery(CompiledQuery.raw(OUTCOMES_AS_ONE_STATEMENT, [...deliveries, ...attempts]));
}

/**
 * One batch of outcomes: the attempts in one insert; the deliveries in one update (each row its own
 * outcome, from a VALUES list), each releasing its lease and only if still leased to its writer; the
 * endpoints' failure streaks; 410 and five-day disabling.
 */
async function writeBatch(trx: Executor, env: CommandEnv, batch: readonly Outcome[]): Promise<void> {
  const attempts = batch.flatMap((b) => (b.attemptRow ? [b.attemptRow] : []));
  if (env.dialect === 'sqlite') {
    // The same texts as below, made once per row count (sqliteText); the values in order.
    if (attempts.length) {
      const values: Array<string | number | null> = [];
      for (const a of attempts) for (const c of ATTEMPT_COLUMNS) values.push(a[c]);
      await trx.executeQuery(CompiledQuery.raw(sqliteText('attempts', attempts.length, attemptsInsertSqlite), values));
    }
    const values: Array<string | number | null> = [];
    for (const b of batch) {
      const u = b.update;
      values.push(b.d.id, u.state, u.attempts, u.last_status, u.last_error, u.next_attempt_at, u.finished_at, b.workerId);
    }
    await trx.executeQuery(CompiledQuery.raw(sqliteText('outcomes', batch.length, deliveriesUpdateSqlite), values));
  } else {
    if (attempts.length) {
      const p = new Params(env.dialect);
      await trx.executeQuery(CompiledQuery.raw(attemptsInsert(p, attempts), p.values));
    }
    const p = new Params(env.dialect);
    const { cte, update } = deliveriesUpdate(p, batch);
    await trx.executeQuery(CompiledQuery.raw(`with ${cte} ${update}`, p.values));
  }
  // The failure streak: started by the first failure after a 2xx, ended by the next 2xx (in attempt order).
  const streaks = new Map<string, { d: ClaimedDelivery; start: number | null; sawSuccess: boolean; at: number; gone: boolean }>();
  for (const b of batch) {
    if (!b.attemptRow) continue;
    const s = streaks.get(b.d.endpoint_id) ?? { d: b.d, start: null, sawSuccess: false, at: b.now, gone: false };
    if (b.outcome === 'success') {
      s.start = null;
      s.sawSuccess = true;
    } else s.start ??= b.now;
    s.at = b.now;
    s.gone ||= b.outcome === 'gone';
    streaks.set(b.d.endpoint_id, s);
  }
  for (const [endpointId, s] of streaks) {
    let since: number | null = null;
    if (s.start === null) {
      // Nothing to end (as far as this process knows): no statement on the hot path.
      if (s.d.failing_since !== null || markedFailing.has(endpointId)) {
        markedFailing.delete(endpointId);
        await trx.updateTable('webhook_endpoints').set({ failing_since: null }).where('id', '=', endpointId).where('failing_since', 'is not', null).execute();
      }
    } else if (s.sawSuccess) {
      since = s.start;
      markedFailing.add(endpointId);
      await trx.updateTable('webhook_endpoints').set({ failing_since: since }).where('id', '=', endpointId).execute();
    } else {
      since = s.d.failing_since === null ? s.start : Math.min(Number(s.d.failing_since), s.start);
      const start = s.start;
      markedFailing.add(endpointId);
      await trx.updateTable('webhook_endpoints').set((eb) => ({ failing_since: eb.fn.coalesce('failing_since', eb.val(start)) })).where('id', '=', endpointId).execute();
    }
    const endpoint = { id: endpointId, account_id: s.d.ep_account_id, url: s.d.url };
    if (s.d.enabled !== 1) continue;
    if (s.gone) {
      await disableEndpoint(trx, endpoint, `The endpoint answered 410 Gone on ${new Date(s.at).toISOString()}: disabled. Enable it again to resume deliveries.`, `The webhook endpoint ${s.d.url} answered 410 Gone and was disabled.`, s.at);
    } else if (since !== null && s.at - since >= deliverySettings.disableAfterFailingMs) {
      await disableEndpoint(trx, endpoint, failingTooLongReason(since, s.at), `The webhook endpoint ${s.d.url} has failed every delivery since ${new Date(since).toISOString()} and was disabled.`, s.at);
    }
  }
}

export function failingTooLongReason(failingSince: number, now: number): string {
  const days = Math.floor((now - failingSince) / (24 * 3600_000));
  return `No delivery succeeded since ${new Date(failingSince).toISOString()} (${days} days): disabled. Enable it again to resume deliveries.`;
}

/** Sends deliveries of one endpoint again (same webhook-ids): back to pending, due now, the endpoint's pump woken. */
export async function requeueDeliveries(trx: Executor, dialect: Dialect, now: number, endpointId: string, deliveryIds: readonly string[]): Promise<void> {
  if (!deliveryIds.length) return;
  await trx
    .updateTable('webhook_deliveries')
    .set({ state: 'pending', next_attempt_at: now, finished_at: null, locked_by: null, locked_until: null })
    .where('endpoint_id', '=', endpointId)
    .where('id', 'in', [...deliveryIds])
    .execute();
  await wakeEndpoints(trx, dialect, [endpointId], now);
}
