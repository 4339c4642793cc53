/**
 * Webhooks end to end, against a real HTTP receiver on 127.0.0.1 (allowed through the test's private-host
 * setting), on SQLite or PostgreSQL (DATABASE_URL). Jobs are run by a small loop at an injected clock, so
 * the retry schedule is exact. Signatures are checked with an independent implementation of the Standard
 * Webhooks spec (WebCrypto, not our signer).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { webcrypto } from 'node:crypto';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { setPrivateHostsForTest } from '../support/local-hosts.js';
import { addUser } from '../crm/helpers.js';
import { claimJobs, completeJob, failJob, requeueJob } from '../../src/platform/jobs/queue.js';
import { RunAgain, type JobHandler } from '../../src/platform/jobs/worker.js';
import { recordEvent, recordEvents, type AnyEventInput } from '../../src/platform/events.js';
import { deliverySettings, webhooksFeature } from '../../src/features/webhooks/index.js';
import { cleanupWebhooks, expiredEvents } from '../../src/features/webhooks/cleanup.js';
import { sqlitePlan } from '../support/plan.js';
import { claimDeliveries, leaseStatement, PUBLISH_BATCH, publishEvent, pumpEndpoint, wakeEndpoints } from '../../src/features/webhooks/delivery.js';
import { usingPostgres } from '../support/db.js';
import { sql } from 'kysely';

// ---------------------------------------------------------------------------------------------
// An independent Standard Webhooks verifier (spec: https://www.standardwebhooks.com)

async function verify(secret: string, headers: http.IncomingHttpHeaders, body: string, nowSeconds: number): Promise<boolean> {
  const id = String(headers['webhook-id'] ?? '');
  const ts = String(headers['webhook-timestamp'] ?? '');
  const sigs = String(headers['webhook-signature'] ?? '').split(' ');
  if (!id || !/^\d+$/.test(ts) || Math.abs(nowSeconds - Number(ts)) > 300) return false;
  const raw = Uint8Array.from(atob(secret.replace(/^whsec_/, '')), (c) => c.charCodeAt(0));
  const key = await webcrypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await webcrypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${id}.${ts}.${body}`)));
  const expected = btoa(String.fromCharCode(...mac));
  return sigs.some((s) => s.startsWith('v1,') && s.slice(3) === expected);
}

// ---------------------------------------------------------------------------------------------
// The receiver

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  json: { type: string; data: Record<string, unknown> };
}
let received: Received[] = [];
/** Answers to give, in order; then 200. */
let answers: Array<{ status: number; headers?: Record<string, string>; body?: string }> = [];
/** When set, decides the answer instead of `answers`. */
let respond: ((r: Received) => number) | null = null;
let server: http.Server;
let receiverUrl = '';

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ headers: req.headers, body, json: JSON.parse(body) });
      const a: (typeof answers)[number] = respond ? { status: respond(received.at(-1)!) } : (answers.shift() ?? { status: 200 });
      res.writeHead(a.status, a.headers ?? {});
      res.end(a.body ?? 'ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

// ---------------------------------------------------------------------------------------------
// The app, its clock and a job loop

let t: TestApp;
let clock = Date.UTC(2026, 2, 1, 9, 0, 0);
let restoreHosts: () => void;
const handlers: Record<string, JobHandler> = webhooksFeature().jobs();
const log = pino({ level: 'silent' });

/** Runs every job due at the clock (other features' jobs are completed unrun), until none is left. */
async function drain(): Promise<void> {
  for (let round = 0; round < 200; round++) {
    const jobs = await claimJobs(t.env.db, t.env.dialect, { queues: ['default', 'webhooks'], workerId: 'test', lockMs: 60_000, limit: 20, now: clock });
    if (!jobs.length) return;
    for (const job of jobs) {
      const handler = handlers[job.kind];
      try {
        if (handler) await handler(JSON.parse(job.payload), { env: t.env, job, workerId: 'test', log, signal: new AbortController().signal });
        await completeJob(t.env.db, job.id, 'test', clock);
      } catch (err) {
        if (err instanceof RunAgain) await requeueJob(t.env.db, job, 'test', clock + err.delayMs);
        else await failJob(t.env.db, job, 'test', clock, String(err));
      }
    }
  }
  throw new Error('jobs never settled');
}

async function setup() {
  const acc = await t.account();
  const created = await t.api(acc.token, 'POST', '/api/v1/webhooks', { url: receiverUrl, description: 'CRM sync', eventTypes: ['*'] });
  expect(created.statusCode, created.body).toBe(201);
  const endpoint = created.json();
  expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
  return { ...acc, endpoint, secret: endpoint.secret as string };
}

async function createContact(token: string, name: string) {
  const r = await t.api(token, 'POST', '/api/v1/contacts', { name, emails: [`${name.toLowerCase().replace(/\W/g, '')}-${Math.random().toString(36).slice(2, 7)}@example.org`] });
  expect(r.statusCode, r.body).toBe(201);
  return r.json().id as string;
}

beforeAll(async () => {
  t = await createTestApp({ now: () => clock });
});
afterAll(async () => {
  await t.close();
});
beforeEach(() => {
  received = [];
  answers = [];
  respond = null;
  deliverySettings.random = () => 0;
  restoreHosts = setPrivateHostsForTest(['127.0.0.1']);
});
afterEach(() => restoreHosts());

describe('webhooks', () => {
  it('delivers a contact.created event, signed to the Standard Webhooks spec', async () => {
    const { token, secret, endpoint } = await setup();
    const contactId = await createContact(token, 'Grace Hopper');
    await drain();
    expect(received).toHaveLength(1);
    const r = received[0]!;
    expect(r.json).toMatchObject({ type: 'contact.created', version: 1, data: { contactId, source: 'manual' } });
    expect(r.headers['content-type']).toBe('application/json');
    expect(await verify(secret, r.headers, r.body, Math.floor(clock / 1000))).toBe(true);
    expect(await verify(secret, r.headers, r.body.replace('Grace', 'Grate') + ' ', Math.floor(clock / 1000))).toBe(false);
    const log = await t.api(token, 'GET', `/api/v1/webhooks/${endpoint.id}/deliveries`);
    expect(log.json().deliveries).toMatchObject([{ id: r.headers['webhook-id'], eventType: 'contact.created', state: 'succeeded', attempts: 1, lastStatus: 200 }]);
    // The log has the request as sent: its body, and every header but the length, in the order sent.
    const detail = (await t.api(token, 'GET', `/api/v1/webhooks/${endpoint.id}/deliveries/${String(r.headers['webhook-id'])}`)).json();
    expect(detail.requestBody).toBe(r.body);
    const sent = ['content-type', 'user-agent', 'webhook-id', 'webhook-timestamp', 'webhook-signature'];
    expect(Object.entries(detail.log[0].requestHeaders)).toEqual(sent.map((h) => [h, r.headers[h]]));
    expect(r.headers['user-agent']).toBe('Mailroom-Webhooks/1');
    // The secret is shown once.
    expect((await t.api(token, 'GET', `/api/v1/webhooks/${endpoint.id}`)).json().secret).toBeUndefined();
  });

  it('the log keeps each answer as received (any text), cut at 1 KB', async () => {
    const { token, endpoint } = await setup();
    const tricky = 'a "quoted" {brace}, back\\slash \\" NULL null, tab\t newline\n é 😀 \'single\'';
    answers = [{ status: 200, body: tricky }, { status: 200, body: `${'x'.repeat(1000)}${tricky}` }];
    await createContact(token, 'Edsger Dijkstra');
    await createContact(token, 'Tony Hoare');
    await drain();
    expect(received).toHaveLength(2);
    const bodies = [];
    for (const r of received) {
      const d = (await t.api(token, 'GET', `/api/v1/webhooks/${endpoint.id}/deliveries/${String(r.headers['webhook-id'])}`)).json();
      bodies.push(d.log[0].responseBody);
      expect(d.log[0].requestHeaders['webhook-signature']).toBe(r.headers['webhook-signature']);
    }
    expect(bodies.sort()).toEqual([tricky, `${'x'.repeat(1000)}${tricky}`.slice(0, 1024)].sort());
  });

  it('retries after 500s with the same webhook-id and fresh timestamps, on the schedule', async () => {
    const { token, secret, endpoint } = await setup();
    answers = [{ status: 500 }, { status: 503 }];
    await createContact(token, 'Ada Lovelace');
    await drain();
    // Attempt 1 failed, attempt 2 went at once (the schedule's "immediately"), attempt 3 waits 5 s.
    expect(received).toHaveLength(2);
    clock += 4_000;
    await drain();
    expect(received).toHaveLength(2);
    clock += 1_000;
    await drain();
    expect(received).toHaveLength(3);
    const ids = new Set(received.map((r) => r.headers['webhook-id']));
    expect(ids.size).toBe(1);
    expect(Number(received[2]!.headers['webhook-timestamp'])).toBeGreaterThan(Number(received[0]!.headers['webhook-timestamp']));
    for (const r of received) expect(await verify(secret, r.headers, r.body, Math.floor(clock / 1000))).toBe(true);
    const deliveryId = [...ids][0] as string;
    const d = (await t.api(token, 'GET', `/api/v1/webhooks/${endpoint.id}/deliveries/${deliveryId}`)).json();
    expect(d).toMatchObject({ state: 'succeeded', attempts: 3, lastStatus: 200 });
    expect(d.log.map((a: { status: number }) => a.status)).toEqual([200, 503, 500]);
    expect(d.log[0].latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('delivers the events of one contact in order: a later one waits while an earlier one is retried; other contacts do not wait', async () => {
    const { token } = await setup();
    let failuresLeft = 2;
    respond = (r) => (r.json.data.contactId === a && failuresLeft-- > 0 ? 500 : 200);
    const a = await createContact(token, 'Alan Turing');
    const upd = await t.api(token, 'PATCH', `/api/v1/contacts/${a}`, { firstName: 'Alan M.' });
    expect(upd.statusCode, upd.body).toBe(200);
    const b = await createContact(token, 'Barbara Liskov');
    await drain();
    const of = (id: string) => received.filter((r) => r.json.data.contactId === id).map((r) => r.json.type);
    expect(of(a)).toEqual(['contact.created', 'contact.created']);
    expect(of(b)).toEqual(['contact.created']);
    clock += 6_000;
    await drain();
    expect(of(a)).toEqual(['contact.created', 'contact.created', 'contact.created', 'contact.updated']);
    expect(received.at(-1)!.json.data).toMatchObject({ contactId: a, changed: ['firstName'] });
  });

  it('refuses a private host unless the operator allows it, without sending a packet', async () => {
    const { token, endpoint } = await setup();
    restoreHosts();
    restoreHosts = setPrivateHostsForTest([]);
    await createContact(token, 'Edsger Dijkstra');
    await drain();
    expect(received).toHaveLength(0);
    const [d] = (await t.api(token, 'GET', `/api/v1/webhooks/${endpoint.id}/deliveries`)).json().deliveries;
    expect(d).toMatchObject({ state: 'pending', lastStatus: null });
    expect(d.lastError).toMatch(/^host_not_allowed: /);
    // Allowed later: the scheduled retry goes through.
    restoreHosts();
    restoreHosts = setPrivateHostsForTest(['127.0.0.1']);
    clock += 6_000;
    await drain();
    expect(received).toHaveLength(1);
  });

  it('a rolled-back change leaves no event; a refused command neither', async () => {
    const { token, accountId } = await setup();
    const before = await t.env.db.selectFrom('events').select('id').where('account_id', '=', accountId).execute();
    await expect(
      t.env.db.transaction().execute(async (trx) => {
        await recordEvent(trx, { accountId, type: 'contact.deleted', subject: { type: 'contact', id: 'con_x' }, data: { contactId: 'con_x' }, at: clock });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    const email = `dup-${Math.random().toString(36).slice(2, 8)}@example.org`;
    expect((await t.api(token, 'POST', '/api/v1/contacts', { name: 'One', emails: [email] })).statusCode).toBe(201);
    expect((await t.api(token, 'POST', '/api/v1/contacts', { name: 'Two', emails: [email] })).statusCode).toBe(409);
    const after = await t.env.db.selectFrom('events').select(['id', 'type']).where('account_id', '=', accountId).execute();
    expect(after.length - before.length).toBe(1);
    expect(after.map((e) => e.type)).toEqual(['contact.created']);
    await drain();
    expect(received.map((r) => r.json.type)).toEqual(['contact.created']);
  });

  it('410 disables the endpoint and notifies the admins; a redirect is a failure, not followed', async () => {
    const { token, endpoint, adminUserId } = await setup();
    answers = [{ status: 302, headers: { location: 'http://169.254.169.254/latest' } }];
    await createContact(token, 'Radia Perlman');
    await drain();
    expect(received).toHaveLength(1);
    let [d] = (await t.api(token, 'GET', `/api/v1/webhooks/${endpoint.id}/deliveries`)).json().deliveries;
    expect(d).toMatchObject({ state: 'failed', lastStatus: 302 });
    expect(d.lastError).toMatch(/^redirect/);
    // Replay: same webhook-id, delivered this time.
    const replay = await t.api(token, 'POST', `/api/v1/webhooks/${endpoint.id}/deliveries/${d.id}/replay`);
    expect(replay.statusCode, replay.body).toBe(200);
    await drain();
    expect(received).toHaveLength(2);
    expect(received[1]!.headers['webhook-id']).toBe(d.id);
    [d] = (await t.api(token, 'GET', `/api/v1/webhooks/${endpoint.id}/deliveries`)).json().deliveries;
    expect(d).toMatchObject({ state: 'succeeded', attempts: 2 });

    answers = [{ status: 410 }];
    await createContact(token, 'Frances Allen');
    await drain();
    const ep = (await t.api(token, 'GET', `/api/v1/webhooks/${endpoint.id}`)).json();
    expect(ep.enabled).toBe(false);
    expect(ep.disabledReason).toMatch(/410/);
    const notes = await t.env.db.selectFrom('notifications').selectAll().where('user_id', '=', adminUserId).where('kind', '=', 'webhook.endpoint_disabled').execute();
    expect(notes).toHaveLength(1);
    // Disabled: nothing more is sent.
    await createContact(token, 'Shafi Goldwasser');
    await drain();
    expect(received).toHaveLength(3);
  });

  it('a worker killed mid-delivery: its leases and its job\'s lock expire, and the event is delivered with the same webhook-id', async () => {
    const { token, endpoint } = await setup();
    await createContact(token, 'Leslie Lamport');
    // Fan out, then a worker claims the endpoint's job, leases the delivery, and dies before the POST.
    const [publish] = await claimJobs(t.env.db, t.env.dialect, { queues: ['default', 'webhooks'], workerId: 'w1', lockMs: 60_000, limit: 1, now: clock });
    await handlers[publish!.kind]!(JSON.parse(publish!.payload), { env: t.env, job: publish!, workerId: 'w1', log, signal: new AbortController().signal });
    await completeJob(t.env.db, publish!.id, 'w1', clock);
    const [deliver] = await claimJobs(t.env.db, t.env.dialect, { queues: ['default', 'webhooks'], workerId: 'dead', lockMs: 30_000, limit: 1, now: clock });
    expect(deliver!.kind).toBe('webhooks.deliver');
    expect(JSON.parse(deliver!.payload)).toEqual({ endpointId: endpoint.id });
    const leased = await claimDeliveries(t.env.db, t.env.dialect, { endpointId: endpoint.id, workerId: 'dead', limit: 10, now: clock, leaseMs: 45_000 });
    expect(leased).toHaveLength(1);
    await drain();
    expect(received).toHaveLength(0);
    // The job's lock has expired, the delivery's lease not yet: nothing is sent twice.
    clock += 31_000;
    await drain();
    expect(received).toHaveLength(0);
    clock += 15_000;
    await drain();
    expect(received).toHaveLength(1);
    expect(received[0]!.headers['webhook-id']).toBe(leased[0]!.id);
    const [d] = (await t.api(token, 'GET', `/api/v1/webhooks/${endpoint.id}/deliveries`)).json().deliveries;
    expect(d).toMatchObject({ id: leased[0]!.id, state: 'succeeded', attempts: 1 });
  });

  it('one fan-out takes up to 500 waiting events (a backlog in few transactions)', async () => {
    const { accountId, endpoint } = await setup();
    expect(PUBLISH_BATCH).toBe(500);
    const events: AnyEventInput[] = Array.from({ length: 450 }, (_, i) => ({ accountId, type: 'contact.updated', subject: { type: 'contact', id: `con_b${i}` }, data: { contactId: `con_b${i}`, changed: ['name'] }, at: clock }));
    const ids = await t.env.db.transaction().execute((trx) => recordEvents(trx, t.env.dialect, events));
    expect(await publishEvent(t.env, ids[0]!)).toBe(450);
    const unpublished = await t.env.db.selectFrom('events').select('id').where('account_id', '=', accountId).where('published_at', 'is', null).execute();
    expect(unpublished).toEqual([]);
    expect(await t.env.db.selectFrom('webhook_deliveries').select('id').where('account_id', '=', accountId).execute()).toHaveLength(450);
    // Nothing left for the tests after this one: the deliveries, the endpoint's pump, the publication jobs.
    await t.env.db.deleteFrom('webhook_deliveries').where('account_id', '=', accountId).execute();
    await t.env.db.deleteFrom('jobs').where('dedupe_key', '=', `webhooks.deliver:${endpoint.id}`).execute();
    const publications = [0, 200, 400].map((i) => JSON.stringify({ eventIds: ids.slice(i, i + 200) }));
    await t.env.db.deleteFrom('jobs').where('kind', '=', 'events.publish').where('payload', 'in', publications).execute();
  });

  it('one fan-out publishes the waiting events in order; one job per endpoint sends a subject\'s events one after the other, and ends when nothing is pending', async () => {
    const { token, accountId, endpoint } = await setup();
    const a = await createContact(token, 'Grace Hopper');
    for (const name of ['Grace B.', 'Grace M.', 'Grace M. H.']) {
      const r = await t.api(token, 'PATCH', `/api/v1/contacts/${a}`, { firstName: name });
      expect(r.statusCode, r.body).toBe(200);
    }
    const worker = { env: t.env, workerId: 'w1', log, signal: new AbortController().signal };
    // The first publication job fans out every waiting event; the others find theirs published.
    const publishes = await t.env.db.selectFrom('jobs').selectAll().where('kind', '=', 'events.publish').where('state', '=', 'queued').orderBy('created_at').execute();
    expect(publishes.length).toBeGreaterThanOrEqual(4);
    const [first] = await claimJobs(t.env.db, t.env.dialect, { queues: ['default'], workerId: 'w1', lockMs: 60_000, limit: 1, now: clock });
    await handlers[first!.kind]!(JSON.parse(first!.payload), { ...worker, job: first! });
    await completeJob(t.env.db, first!.id, 'w1', clock);
    const unpublished = await t.env.db.selectFrom('events').select('id').where('account_id', '=', accountId).where('published_at', 'is', null).execute();
    expect(unpublished).toHaveLength(0);
    // The publication jobs of the events it took along are gone without running.
    const left = await t.env.db.selectFrom('jobs').select(['id', 'state']).where('id', 'in', publishes.map((p) => p.id)).where('id', '!=', first!.id).execute();
    expect(left).toEqual([]);
    const deliveries = await t.env.db.selectFrom('webhook_deliveries').select(['id', 'event_seq']).where('account_id', '=', accountId).orderBy('event_seq').execute();
    expect(deliveries).toHaveLength(4);
    // One delivery job for the endpoint, not one per delivery; it sends all four, in order.
    const jobs = await t.env.db.selectFrom('jobs').selectAll().where('kind', '=', 'webhooks.deliver').where('payload', '=', JSON.stringify({ endpointId: endpoint.id })).execute();
    expect(jobs).toHaveLength(1);
    const job = jobs[0]!;
    expect(job.dedupe_key).toBe(`webhooks.deliver:${endpoint.id}`);
    await t.env.db.updateTable('jobs').set({ state: 'running', locked_by: 'w1', locked_until: clock + 60_000, attempts: 1 }).where('id', '=', job.id).execute();
    await handlers[job.kind]!(JSON.parse(job.payload), { ...worker, job });
    expect(received.map((r) => r.json.type)).toEqual(['contact.created', 'contact.updated', 'contact.updated', 'contact.updated']);
    expect(received.map((r) => r.headers['webhook-id'])).toEqual(deliveries.map((d) => d.id));
    // Nothing pending: the job ended itself (its dedupe key freed for the next fan-out).
    expect(await t.env.db.selectFrom('jobs').select(['state', 'dedupe_key']).where('id', '=', job.id).executeTakeFirstOrThrow()).toEqual({ state: 'done', dedupe_key: null });
    const leases = await t.env.db.selectFrom('webhook_deliveries').select(['locked_by', 'state']).where('account_id', '=', accountId).execute();
    expect(leases.every((l) => l.locked_by === null && l.state === 'succeeded')).toBe(true);
    await drain();
    expect(received).toHaveLength(4);
  });

  it('events recorded together (an ingest batch) get one publication job per 200, which publishes all of them, around events recorded between', async () => {
    const { accountId, endpoint } = await setup();
    const batch = (tag: string, n: number): AnyEventInput[] =>
      Array.from({ length: n }, (_, i) => ({ accountId, type: 'contact.updated' as const, subject: { type: 'contact', id: `con_${tag}${i % 7}` }, data: { contactId: `con_${tag}${i % 7}`, changed: ['name'] }, at: clock }));
    const before = new Set((await t.env.db.selectFrom('jobs').select('id').where('kind', '=', 'events.publish').execute()).map((j) => j.id));
    const ids = await t.env.db.transaction().execute((trx) => recordEvents(trx, t.env.dialect, batch('a', 450)));
    // One recorded alone between, and a second batch: their own jobs.
    await t.env.db.transaction().execute((trx) => recordEvent(trx, { accountId, type: 'contact.deleted', subject: { type: 'contact', id: 'con_between' }, data: { contactId: 'con_between' }, at: clock }));
    await t.env.db.transaction().execute((trx) => recordEvents(trx, t.env.dialect, batch('b', 5)));
    const jobs = (await t.env.db.selectFrom('jobs').selectAll().where('kind', '=', 'events.publish').orderBy('created_at').execute()).filter((j) => !before.has(j.id));
    const payloads = jobs.map((j) => JSON.parse(j.payload) as { eventIds?: string[]; eventId?: string });
    expect(payloads.map((p) => p.eventIds?.length ?? 'one')).toEqual([200, 200, 50, 'one', 5]);
    expect(payloads.slice(0, 3).flatMap((p) => p.eventIds)).toEqual(ids);
    // The publication jobs, last first: each publishes what it names (and what follows it), none is left.
    const worker = { env: t.env, workerId: 'w1', log, signal: new AbortController().signal };
    for (const job of [...jobs].reverse()) await handlers[job.kind]!(JSON.parse(job.payload), { ...worker, job });
    const unpublished = await t.env.db.selectFrom('events').select('id').where('account_id', '=', accountId).where('published_at', 'is', null).execute();
    expect(unpublished).toHaveLength(0);
    const deliveries = await t.env.db.selectFrom('webhook_deliveries').select('event_id').where('endpoint_id', '=', endpoint.id).execute();
    expect(deliveries).toHaveLength(456);
    expect(new Set(deliveries.map((d) => d.event_id)).size).toBe(456);
    // Not sent here: the other tests' receiver stays theirs.
    await t.env.db.deleteFrom('webhook_deliveries').where('endpoint_id', '=', endpoint.id).execute();
    await t.env.db.deleteFrom('jobs').where('id', 'in', jobs.map((j) => j.id)).execute();
    await t.env.db.deleteFrom('jobs').where('dedupe_key', '=', `webhooks.deliver:${endpoint.id}`).execute();
  });

  it('two pumps of one endpoint at once (a job whose lock expired while it ran): each delivery is sent once, each subject in order', async () => {
    const { token, accountId, endpoint } = await setup();
    const contacts = [await createContact(token, 'Ken Thompson'), await createContact(token, 'Dennis Ritchie'), await createContact(token, 'Brian Kernighan')];
    for (const id of contacts) {
      for (const name of ['One', 'Two']) expect((await t.api(token, 'PATCH', `/api/v1/contacts/${id}`, { firstName: name })).statusCode).toBe(200);
    }
    // Fan-out only (the delivery job is not run by drain here: the pumps are called directly).
    for (;;) {
      const [job] = await claimJobs(t.env.db, t.env.dialect, { queues: ['default'], workerId: 'w1', lockMs: 60_000, limit: 1, now: clock });
      if (!job) break;
      if (handlers[job.kind]) await handlers[job.kind]!(JSON.parse(job.payload), { env: t.env, job, workerId: 'w1', log, signal: new AbortController().signal });
      await completeJob(t.env.db, job.id, 'w1', clock);
    }
    const sent = await Promise.all([pumpEndpoint(t.env, endpoint.id, { workerId: 'p1' }), pumpEndpoint(t.env, endpoint.id, { workerId: 'p2' })]);
    expect(sent[0]!.sent + sent[1]!.sent).toBe(9);
    const ids = received.map((r) => r.headers['webhook-id']);
    expect(new Set(ids).size).toBe(9);
    for (const id of contacts) expect(received.filter((r) => r.json.data.contactId === id).map((r) => r.json.type)).toEqual(['contact.created', 'contact.updated', 'contact.updated']);
    const rows = await t.env.db.selectFrom('webhook_deliveries').select(['state', 'attempts', 'locked_by']).where('account_id', '=', accountId).execute();
    expect(rows.every((r) => r.state === 'succeeded' && r.attempts === 1 && r.locked_by === null)).toBe(true);
    await drain();
    expect(received).toHaveLength(9);
  });

  it.skipIf(usingPostgres)('SQLite: a claim walks the endpoint\'s pending deliveries (partial index), not every delivery it ever had', async () => {
    const plan = await sql<{ detail: string }>`explain query plan ${leaseStatement('sqlite', { endpointId: 'whe_x', workerId: 'w', limit: 48, now: clock, leaseMs: 45_000 })}`.execute(t.env.db);
    const walk = plan.rows.map((r) => r.detail).filter((d) => /^(SEARCH|SCAN) d\b/.test(d));
    expect(walk).toEqual([expect.stringContaining('USING INDEX webhook_deliveries_pending_idx (endpoint_id=?)')]);
  });

  it.skipIf(!usingPostgres)('PostgreSQL: a claim computes the claimable deliveries once and leases them by id, whatever the statistics say', async () => {
    // As `id in (select ...)`, statistics taken while the endpoint had no backlog (autovacuum's analyse after the
    // previous burst) planned the update as a walk of every pending delivery re-running the whole claim for each
    // (bench/webhooks.ts: ~50 events/s after an analyse).
    await sql`analyze webhook_deliveries`.execute(t.env.db);
    await sql`analyze events`.execute(t.env.db);
    type PlanNode = { 'Node Type': string; 'Parent Relationship'?: string; Plans?: PlanNode[] };
    const r = await sql<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>`explain (format json) ${leaseStatement('postgres', { endpointId: 'whe_x', workerId: 'w', limit: 48, now: clock, leaseMs: 45_000 })}`.execute(t.env.db);
    const update = r.rows[0]!['QUERY PLAN'][0]!.Plan;
    expect(update['Node Type']).toBe('ModifyTable');
    expect((update.Plans ?? []).filter((p) => p['Parent Relationship'] === 'InitPlan')).toHaveLength(1);
    const rows = JSON.stringify((update.Plans ?? []).find((p) => p['Parent Relationship'] === 'Outer'));
    expect(rows).not.toContain('"Join Type"');
    expect(rows).not.toContain('SubPlan');
  });

  it.skipIf(usingPostgres)("SQLite: the retention's look-up of expired events finds an event's deliveries by endpoint and seq, not by scanning every delivery", async () => {
    const plan = await sqlitePlan(t.env.db, expiredEvents(t.env.db, 'acc_x', clock, 1000).compile());
    expect(plan.filter((d) => /\bwebhook_deliveries\b/.test(d))).toEqual([expect.stringMatching(/^SEARCH webhook_deliveries USING (COVERING )?INDEX webhook_deliveries_endpoint_seq_idx \(endpoint_id=\? AND event_seq=\?\)$/)]);
  });

  it.skipIf(!usingPostgres)('PostgreSQL: a delivery writes four index entries at its fan-out and four at its outcome (unique on endpoint and event seq, no second index on the same columns; retention\'s index holds finished ones only)', async () => {
    const rows = await sql<{ indexname: string; indexdef: string }>`select indexname, indexdef from pg_indexes where schemaname = current_schema() and tablename = 'webhook_deliveries' order by indexname`.execute(t.env.db);
    const defs = rows.rows.map((r) => r.indexdef.replace(/^.* USING btree /, `${r.indexname} `).replace(/ ON [^ ]+ /, ' '));
    expect(defs).toEqual([
      "webhook_deliveries_account_created_idx (account_id, created_at) WHERE (state <> 'pending'::text)",
      "webhook_deliveries_endpoint_seq_uq (endpoint_id, event_seq)",
      "webhook_deliveries_failed_idx (endpoint_id, event_seq) WHERE (state = 'failed'::text)",
      "webhook_deliveries_order_idx (endpoint_id, ordering_key, event_seq)",
      "webhook_deliveries_pending_idx (endpoint_id, event_seq) WHERE (state = 'pending'::text)",
      'webhook_deliveries_pkey (id)',
    ]);
    const options = await sql<{ reloptions: string[] | null }>`select reloptions from pg_class where oid = 'webhook_deliveries'::regclass`.execute(t.env.db);
    expect(options.rows[0]!.reloptions).toEqual(['fillfactor=50']);
  });

  it('a fan-out that commits while the endpoint\'s job is ending is not missed (PostgreSQL: the job row stays locked meanwhile)', async () => {
    if (t.env.dialect !== 'postgres') return; // SQLite: one writer, the two cannot interleave
    const { token, accountId, endpoint } = await setup();
    await createContact(token, 'Barbara Simons');
    // Fan out, and take the endpoint's job as a worker would.
    const [publish] = await claimJobs(t.env.db, t.env.dialect, { queues: ['default'], workerId: 'w1', lockMs: 60_000, limit: 1, now: clock });
    await handlers[publish!.kind]!(JSON.parse(publish!.payload), { env: t.env, job: publish!, workerId: 'w1', log, signal: new AbortController().signal });
    await completeJob(t.env.db, publish!.id, 'w1', clock);
    const [job] = await claimJobs(t.env.db, t.env.dialect, { queues: ['webhooks'], workerId: 'w1', lockMs: 60_000, limit: 1, now: clock });
    expect(JSON.parse(job!.payload)).toEqual({ endpointId: endpoint.id });
    // Another fan-out writes a delivery and wakes the endpoint (its job row now locked), then waits.
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const fanOut = t.env.db.transaction().execute(async (trx) => {
      const eventId = await recordEvent(trx, { accountId, type: 'contact.updated', subject: { type: 'contact', id: 'con_late' }, data: { contactId: 'con_late', changed: ['name'] }, at: clock });
      const ev = await trx.selectFrom('events').select('seq').where('id', '=', eventId).executeTakeFirstOrThrow();
      await trx
        .insertInto('webhook_deliveries')
        .values({ id: 'msg_late', account_id: accountId, endpoint_id: endpoint.id, event_id: eventId, event_seq: Number(ev.seq), ordering_key: 'contact:con_late', state: 'pending', attempts: 0, next_attempt_at: clock, last_status: null, last_error: null, created_at: clock, finished_at: null, locked_by: null, locked_until: null })
        .execute();
      await wakeEndpoints(trx, t.env.dialect, [endpoint.id], clock);
      locked();
      await gate;
    });
    await isLocked;
    // The job sends what it sees, then, deciding whether to end, waits for the fan-out's commit.
    const ran = handlers[job!.kind]!(JSON.parse(job!.payload), { env: t.env, job: job!, workerId: 'w1', log, signal: new AbortController().signal }).then(
      () => 'ended',
      (err) => (err instanceof RunAgain ? `again in ${err.delayMs}` : String(err)),
    );
    await new Promise((r) => setTimeout(r, 300));
    release();
    await fanOut;
    expect(await ran).toBe('again in 0');
    expect(received.map((r) => r.json.data.contactId)).not.toContain('con_late');
    await requeueJob(t.env.db, job!, 'w1', clock);
    await drain();
    expect(received.filter((r) => r.headers['webhook-id'] === 'msg_late')).toHaveLength(1);
  });

  it('only admins manage webhooks; event types are checked', async () => {
    const { token } = await setup();
    const member = await addUser(t, token, { role: 'member' });
    const r = await t.api(member.token, 'GET', '/api/v1/webhooks');
    expect(r.statusCode).toBe(403);
    expect(r.json().error.code).toBe('permission_denied');
    const bad = await t.api(token, 'POST', '/api/v1/webhooks', { url: receiverUrl, eventTypes: ['contact.exploded'] });
    expect(bad.statusCode).toBe(400);
    const ftp = await t.api(token, 'POST', '/api/v1/webhooks', { url: 'ftp://example.com/x' });
    expect(ftp.statusCode).toBe(400);
    const types = (await t.api(token, 'GET', '/api/v1/webhooks/event-types')).json().eventTypes.map((e: { type: string }) => e.type);
    expect(types).toContain('conversation.message.created');
  });

  it('an endpoint subscribed to some types gets only those; the test event reaches one endpoint', async () => {
    const { token, endpoint } = await setup();
    const only = await t.api(token, 'POST', '/api/v1/webhooks', { url: receiverUrl + '?only=deleted', eventTypes: ['contact.deleted'] });
    const contact = await createContact(token, 'Donald Knuth');
    expect((await t.api(token, 'DELETE', `/api/v1/contacts/${contact}`)).statusCode).toBe(204);
    await drain();
    expect(only.statusCode).toBe(201);
    expect(received.map((r) => r.json.type).sort()).toEqual(['contact.created', 'contact.deleted', 'contact.deleted']);
    received = [];
    expect((await t.api(token, 'POST', `/api/v1/webhooks/${endpoint.id}/test`)).statusCode).toBe(202);
    await drain();
    expect(received.map((r) => r.json.type)).toEqual(['webhook.test']);
  });
});

describe('secret rotation', () => {
  it('returns a new whsec_ secret once; both signatures are sent during the overlap, then only the new one', async () => {
    const { token, secret: oldSecret, endpoint } = await setup();
    const r = await t.api(token, 'POST', `/api/v1/webhooks/${endpoint.id}/rotate-secret`);
    expect(r.statusCode, r.body).toBe(200);
    const newSecret = r.json().secret as string;
    expect(newSecret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(newSecret).not.toBe(oldSecret);
    expect(r.json().previousSecretExpiresAt).toBe(new Date(clock + 24 * 3600_000).toISOString());
    const shown = (await t.api(token, 'GET', `/api/v1/webhooks/${endpoint.id}`)).json();
    expect(shown.secret).toBeUndefined();
    expect(shown.previousSecretExpiresAt).toBe(r.json().previousSecretExpiresAt);

    await createContact(token, 'Whitfield Diffie');
    await drain();
    expect(received).toHaveLength(1);
    const during = received[0]!;
    const sigs = String(during.headers['webhook-signature']).split(' ');
    expect(sigs).toHaveLength(2);
    for (const s of sigs) expect(s).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    // A receiver that still has the old secret, and one that has the new one, both accept it.
    expect(await verify(oldSecret, during.headers, during.body, Math.floor(clock / 1000))).toBe(true);
    expect(await verify(newSecret, during.headers, during.body, Math.floor(clock / 1000))).toBe(true);
    expect(await verify(`whsec_${Buffer.alloc(32, 7).toString('base64')}`, during.headers, during.body, Math.floor(clock / 1000))).toBe(false);

    clock += 24 * 3600_000 + 1000;
    await createContact(token, 'Martin Hellman');
    await drain();
    const after = received.at(-1)!;
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(await verify(oldSecret, after.headers, after.body, Math.floor(clock / 1000))).toBe(false);
    expect(await verify(newSecret, after.headers, after.body, Math.floor(clock / 1000))).toBe(true);
    expect((await t.api(token, 'GET', `/api/v1/webhooks/${endpoint.id}`)).json().previousSecretExpiresAt).toBeNull();

    // overlapHours 0 drops the old secret at once; out of range is refused.
    const now = await t.api(token, 'POST', `/api/v1/webhooks/${endpoint.id}/rotate-secret`, { overlapHours: 0 });
    expect(now.json().previousSecretExpiresAt).toBeNull();
    expect((await t.api(token, 'POST', `/api/v1/webhooks/${endpoint.id}/rotate-secret`, { overlapHours: 1000 })).statusCode).toBe(400);
  });
});

describe('full payloads', () => {
  it('a full endpoint gets the object in data.object, loaded at delivery time within the account; thin ones do not', async () => {
    const { token, endpoint } = await setup();
    const full = await t.api(token, 'POST', '/api/v1/webhooks', { url: `${receiverUrl}?full`, payload: 'full', eventTypes: ['contact.created', 'contact.deleted', 'company.created'] });
    expect(full.statusCode, full.body).toBe(201);
    expect(full.json().payload).toBe('full');
    expect(endpoint.payload).toBe('thin');
    const contactId = await createContact(token, 'Barbara Liskov');
    const company = await t.api(token, 'POST', '/api/v1/companies', { name: 'MIT', domains: [`mit-${Math.random().toString(36).slice(2, 8)}.test`] });
    await drain();
    const toFull = received.filter((r) => r.headers['webhook-id'] && r.json.data.object !== undefined);
    const thin = received.filter((r) => r.json.data.object === undefined);
    expect(thin.map((r) => r.json.type).sort()).toEqual(['company.created', 'contact.created']);
    expect(toFull.map((r) => r.json.type).sort()).toEqual(['company.created', 'contact.created']);
    const contactView = (await t.api(token, 'GET', `/api/v1/contacts/${contactId}`)).json();
    expect(toFull.find((r) => r.json.type === 'contact.created')!.json.data).toMatchObject({ contactId, object: { id: contactId, firstName: 'Barbara', lastName: 'Liskov', emails: contactView.emails } });
    expect(toFull.find((r) => r.json.type === 'company.created')!.json.data.object).toMatchObject({ id: company.json().id, name: 'MIT' });

    // Deleted since: the object is null.
    received = [];
    expect((await t.api(token, 'DELETE', `/api/v1/contacts/${contactId}`)).statusCode).toBe(204);
    await drain();
    expect(received.find((r) => r.json.type === 'contact.deleted' && 'object' in r.json.data)!.json.data.object).toBeNull();

    // Another account's event never loads this account's objects, even naming its ids.
    const other = await t.account();
    const otherFull = await t.api(other.token, 'POST', '/api/v1/webhooks', { url: `${receiverUrl}?other`, payload: 'full' });
    expect(otherFull.statusCode).toBe(201);
    const victim = await createContact(token, 'Alice Secret');
    received = [];
    await t.env.db.transaction().execute((trx) =>
      recordEvent(trx, { accountId: other.accountId, type: 'contact.updated', subject: { type: 'contact', id: victim }, data: { contactId: victim, changed: ['name'] }, at: clock }),
    );
    await drain();
    const leak = received.find((r) => r.json.type === 'contact.updated');
    expect(leak!.json.data).toEqual({ contactId: victim, changed: ['name'], object: null });
    expect(received.filter((r) => JSON.stringify(r.json).includes('Alice Secret') && r.json.type === 'contact.updated')).toHaveLength(0);
  });
});

describe('failing endpoints and the delivery log retention', () => {
  const DAY = 24 * 3600_000;

  it('an endpoint with no 2xx for 5 days since the first failure of its streak is disabled and the admins notified; a 2xx resets the streak', async () => {
    const { token, endpoint, adminUserId } = await setup();
    respond = () => 500;
    await createContact(token, 'Failing One');
    await drain();
    const ep = async () => (await t.api(token, 'GET', `/api/v1/webhooks/${endpoint.id}`)).json();
    const start = clock;
    expect((await ep()).failingSince).toBe(new Date(start).toISOString());
    // Day 3: one success resets the streak.
    clock += 3 * DAY;
    respond = () => 200;
    await createContact(token, 'Passing');
    await drain();
    expect((await ep()).failingSince).toBeNull();
    // Failing again from day 3.5; at day 8 (4.5 days of failures) still enabled, at day 8.6 disabled.
    respond = () => 503;
    clock += DAY / 2;
    await createContact(token, 'Failing Two');
    await drain();
    const streak = clock;
    clock = streak + 4.5 * DAY;
    await createContact(token, 'Failing Three');
    await drain();
    expect((await ep()).enabled).toBe(true);
    clock = streak + 5 * DAY + 60_000;
    await createContact(token, 'Failing Four');
    await drain();
    const disabled = await ep();
    expect(disabled.enabled).toBe(false);
    expect(disabled.disabledReason).toMatch(/No delivery succeeded since/);
    const notes = await t.env.db.selectFrom('notifications').selectAll().where('user_id', '=', adminUserId).where('kind', '=', 'webhook.endpoint_disabled').execute();
    expect(notes).toHaveLength(1);
    expect(notes[0]!.message).toMatch(/has failed every delivery since/);
    // Enabled again: a new streak.
    expect((await t.api(token, 'PATCH', `/api/v1/webhooks/${endpoint.id}`, { enabled: true })).json()).toMatchObject({ enabled: true, failingSince: null });
  });

  it('the cleanup job disables an endpoint whose streak passed 5 days without a later attempt', async () => {
    const { token, endpoint, adminUserId } = await setup();
    await t.env.db.updateTable('webhook_endpoints').set({ failing_since: clock - 5 * DAY - 1000 }).where('id', '=', endpoint.id).execute();
    const r = await cleanupWebhooks(t.env);
    expect(r.disabled).toBeGreaterThanOrEqual(1);
    expect((await t.api(token, 'GET', `/api/v1/webhooks/${endpoint.id}`)).json().enabled).toBe(false);
    expect(await t.env.db.selectFrom('notifications').select('id').where('user_id', '=', adminUserId).where('kind', '=', 'webhook.endpoint_disabled').execute()).toHaveLength(1);
  });

  it('the cleanup job queues again the delivery job of an endpoint with pending deliveries whose job died', async () => {
    const { token, endpoint } = await setup();
    answers = [{ status: 500 }, { status: 500 }];
    await createContact(token, 'Mary Shaw');
    await drain();
    expect(received).toHaveLength(2);
    // The pump's job ran out of attempts (say the database kept failing it): nothing would send the retry.
    await t.env.db.updateTable('jobs').set({ state: 'dead', dedupe_key: null }).where('dedupe_key', '=', `webhooks.deliver:${endpoint.id}`).execute();
    clock += 6_000;
    await drain();
    expect(received).toHaveLength(2);
    expect((await cleanupWebhooks(t.env)).woken).toBeGreaterThanOrEqual(1);
    await drain();
    expect(received).toHaveLength(3);
    expect(new Set(received.map((r) => r.headers['webhook-id'])).size).toBe(1);
  });

  it('deliveries, attempts and events older than the retention (30 days by default, per account) are deleted; pending ones stay', async () => {
    const { token, endpoint, accountId } = await setup();
    expect((await t.api(token, 'GET', '/api/v1/webhooks/settings')).json()).toEqual({ logRetentionDays: 30 });
    expect((await t.api(token, 'PATCH', '/api/v1/webhooks/settings', { logRetentionDays: 0 })).statusCode).toBe(400);
    const set = await t.api(token, 'PATCH', '/api/v1/webhooks/settings', { logRetentionDays: 7 });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json()).toEqual({ logRetentionDays: 7 });
    const count = async () => ({
      deliveries: (await t.env.db.selectFrom('webhook_deliveries').select('id').where('endpoint_id', '=', endpoint.id).execute()).length,
      attempts: (await t.env.db.selectFrom('webhook_attempts').select('id').where('endpoint_id', '=', endpoint.id).execute()).length,
      events: (await t.env.db.selectFrom('events').select('id').where('account_id', '=', accountId).execute()).length,
    });
    const keepTrying = deliverySettings.disableAfterFailingMs;
    deliverySettings.disableAfterFailingMs = 365 * DAY; // the stuck delivery's streak must not disable the endpoint here
    try {
      const old = await createContact(token, 'Old One');
      const stuck = await createContact(token, 'Old Stuck');
      respond = (r) => (r.json.data.contactId === stuck ? 500 : 200);
      await drain();
      const before = await count();
      expect(before.deliveries).toBe(2);
      clock += 8 * DAY;
      await createContact(token, 'New One');
      // The cleanup job (queued with the settings) runs in the worker loop; run it once more by hand: nothing left to do.
      await drain();
      await cleanupWebhooks(t.env);
      const after = await count();
      // The old delivered one went (with its attempt and its event); the old one still retrying stays, as does the new one.
      expect(after.deliveries).toBe(2);
      expect(after.events).toBe(before.events);
      const deliveries = (await t.api(token, 'GET', `/api/v1/webhooks/${endpoint.id}/deliveries`)).json().deliveries;
      expect(deliveries.map((d: { state: string }) => d.state).sort()).toEqual(['pending', 'succeeded']);
      expect(await t.env.db.selectFrom('events').select('id').where('subject_id', '=', old).execute()).toHaveLength(0);
      expect((await t.env.db.selectFrom('events').select('id').where('subject_id', '=', stuck).execute()).length).toBe(1);
    } finally {
      deliverySettings.disableAfterFailingMs = keepTrying;
    }
    const kept = (await t.api(token, 'GET', `/api/v1/webhooks/${endpoint.id}/deliveries`)).json().deliveries;
    expect(kept.map((d: { state: string }) => d.state).sort()).toEqual(['pending', 'succeeded']);
  });
});
