/**
 * Sequences end to end, on SQLite or PostgreSQL (DATABASE_URL): a real Dovecot and a real submission
 * server, the API, the scheduler (clock injected), the outbox, replies through the real IMAP sync.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contact, dsn, log, mailboxOf, rawMail, startWorld, syncSeller, timeline, uniq, type World } from '../personal/support.js';
import { insertConnection } from '../support/connections.js';
import { runDueSteps, runEnrollmentStep } from '../../src/features/sequences/commands/runDueSteps.js';
import { sendOutboxMessage } from '../../src/features/outbox/sender.js';
import { openDatabase, type Database } from '../../src/platform/database/database.js';
import type { CommandEnv } from '../../src/platform/context.js';
import { usingPostgres } from '../support/db.js';
import { sequencesFeature } from '../../src/features/sequences/index.js';
import { ingestBatch } from '../../src/features/ingest/index.js';
import type { KyselyPlugin } from 'kysely';
import { DateTime } from 'luxon';
import { spreadSeconds } from '../../src/features/sequences/domain/variants.js';
import { flushTrackingHits } from '../../src/features/personal/routes/tracking.js';

let w: World;
const DAY = 24 * 3600_000;

beforeAll(async () => {
  w = await startWorld();
}, 60_000);
afterAll(async () => {
  await w?.stop();
});

void log;
const deps = () => ({ putBlob: (raw: Buffer) => w.ingestor.blobs.put(raw), replyTokenSecret: w.ingestor.replyTokenSecret });
const envAt = (ms: number, base: CommandEnv = w.t.env): CommandEnv => ({ ...base, now: () => ms });
const allDay = { timeZone: 'UTC', window: { start: '00:00', end: '23:59' }, weekdays: [1, 2, 3, 4, 5, 6, 7] };

async function createSequence(body: Record<string, unknown>, token = w.seller.token) {
  const r = await w.t.api(token, 'POST', '/api/v1/sequences', body);
  expect(r.statusCode, r.body).toBe(201);
  return r.json() as { id: string; version: number; steps: Array<{ id: string }> };
}

async function enroll(sequenceId: string, contactId: string, extra: Record<string, unknown> = {}) {
  return w.t.api(w.seller.token, 'POST', `/api/v1/sequences/${sequenceId}/enrollments`, { contactId, ...extra });
}

async function enrollment(id: string) {
  const r = await w.t.api(w.seller.token, 'GET', `/api/v1/sequence-enrollments/${id}`);
  expect(r.statusCode, r.body).toBe(200);
  return r.json();
}

/** Sends every queued outbox row of the seller that is due at `at` (what the outbox job does). */
async function flushOutbox(at = Date.now()) {
  const when = Math.max(at, Date.now());
  const rows = await w.t.database.db.selectFrom('outbox').select('id').where('connection_id', '=', w.seller.connectionId).where('state', 'in', ['queued', 'scheduled']).where('send_at', '<=', when).execute();
  const ingestor = { ...w.ingestor, env: envAt(when) };
  for (const r of rows) expect(await sendOutboxMessage(ingestor, r.id)).toBe('sent');
  return rows.length;
}

const twoSteps = (subject: string) => ({
  name: `Intro ${uniq()}`,
  settings: allDay,
  steps: [
    { type: 'email', subject, html: '<p>Hi {{ contact.firstName | "there" }}, a quick intro.</p>' },
    { type: 'email', delay: { unit: 'business_days', value: 2 }, html: '<p>Following up.</p>' },
    { type: 'call', delay: { unit: 'business_days', value: 1 }, note: 'Call them' },
  ],
});

describe('sequences', () => {
  it('sends step 1 now, the follow-up threaded two business days later, then a call task; each once', async () => {
    const email = `ann-${uniq()}@client.test`;
    const ann = await contact(w, { firstName: 'Ann', emails: [email], mailbox: true });
    const subject = `Intro ${uniq()}`;
    const seq = await createSequence(twoSteps(subject));
    const r = await enroll(seq.id, ann.id);
    expect(r.statusCode, r.body).toBe(201);
    const e = r.json();
    expect(e).toMatchObject({ state: 'active', stepIndex: 0, steps: 3, contactEmail: email });

    const t0 = Date.now();
    expect(await runEnrollmentStep(envAt(t0), deps(), e.id)).toBe('queued');
    expect(await flushOutbox()).toBe(1);
    // Not due again before two days.
    expect(await runEnrollmentStep(envAt(t0 + DAY), deps(), e.id)).toBe('skipped');
    expect(await runEnrollmentStep(envAt(t0 + 2 * DAY + 600_000), deps(), e.id)).toBe('queued');
    expect(await flushOutbox(t0 + 2 * DAY + 600_000)).toBe(1);

    const inbox = await mailboxOf(w, email);
    expect(inbox.map((m) => m.parsed.subject)).toEqual([subject, `Re: ${subject}`]);
    const [first, second] = inbox;
    expect(first!.raw.toString()).toMatch(/^List-Unsubscribe:\s*<https:\/\/crm\.mailroom\.test\/unsubscribe\/[^>]+>/im);
    expect(first!.raw.toString()).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click/im);
    expect(first!.parsed.text).toContain('Hi Ann');
    expect(second!.parsed.inReplyTo).toBe(first!.parsed.messageId);
    expect(second!.parsed.references).toContain(first!.parsed.messageId!);

    expect(await runEnrollmentStep(envAt(t0 + 3 * DAY + 1_200_000), deps(), e.id)).toBe('task');
    const tasks = (await w.t.api(w.seller.token, 'GET', '/api/v1/sequence-tasks')).json().tasks;
    expect(tasks.find((x: { enrollmentId: string }) => x.enrollmentId === e.id)).toMatchObject({ type: 'call', state: 'open', stepIndex: 2 });
    const done = await enrollment(e.id);
    expect(done).toMatchObject({ state: 'finished', reason: 'completed' });
    expect(done.history.map((h: { kind: string }) => h.kind)).toEqual(['enrolled', 'step_queued', 'step_queued', 'task_created', 'finished']);
    const ok = await w.t.api(w.seller.token, 'POST', `/api/v1/sequence-enrollments/${e.id}/tasks`, { stepIndex: 2, outcome: 'done' });
    expect(ok.statusCode, ok.body).toBe(200);
  });

  it('refuses a team address, a second sequence for a contact, an unsubscribed contact, and a plan without sequences', async () => {
    const bob = await contact(w, { firstName: 'Bob', emails: [`bob-${uniq()}@client.test`] });
    const seq = await createSequence(twoSteps('Hello'));
    const team = await insertConnection(w.t, { accountId: w.accountId, userId: w.seller.userId, type: 'team', address: `sales-${uniq()}@sales.test` });
    const refused = await enroll(seq.id, bob.id, { connectionId: team.id });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe('team_connection_not_allowed');

    expect((await enroll(seq.id, bob.id)).statusCode).toBe(201);
    const other = await createSequence(twoSteps('Other'));
    const twice = await enroll(other.id, bob.id);
    expect(twice.statusCode).toBe(409);
    expect(twice.json().error.code).toBe('already_enrolled');

    const free = await w.t.account('free');
    const none = await w.t.api(free.token, 'POST', '/api/v1/sequences', twoSteps('x'));
    expect(none.statusCode).toBe(409);
    expect(none.json().error).toMatchObject({ code: 'plan_limit_reached', details: { limit: { name: 'sequences', max: 0 } } });
  });

  it('edits apply to new enrollments only', async () => {
    const seq = await createSequence(twoSteps('Version one'));
    const a = await contact(w, { firstName: 'Cy', emails: [`cy-${uniq()}@client.test`] });
    const b = await contact(w, { firstName: 'Di', emails: [`di-${uniq()}@client.test`] });
    const ea = (await enroll(seq.id, a.id)).json();
    const patched = await w.t.api(w.seller.token, 'PATCH', `/api/v1/sequences/${seq.id}`, { steps: [{ type: 'email', subject: 'Version two', html: '<p>New</p>' }] });
    expect(patched.json().version).toBe(2);
    const eb = (await enroll(seq.id, b.id)).json();
    expect([ea.sequenceVersion, ea.steps, eb.sequenceVersion, eb.steps]).toEqual([1, 3, 2, 1]);
  });

  it('a reply from another address of the contact unenrolls; an unsubscribe link unenrolls and blocks enrolling again', async () => {
    const main = `eve-${uniq()}@client.test`;
    const alt = `eve.private-${uniq()}@client.test`;
    const eve = await contact(w, { firstName: 'Eve', emails: [main, alt], mailbox: true });
    const seq = await createSequence(twoSteps(`Hello Eve ${uniq()}`));
    const e = (await enroll(seq.id, eve.id)).json();
    await runEnrollmentStep(w.t.env, deps(), e.id);
    await flushOutbox();
    const sent = (await mailboxOf(w, main))[0]!;
    await w.dovecot.deliver(w.seller.address, rawMail({ from: alt, to: w.seller.address, subject: `Re: ${sent.parsed.subject}`, inReplyTo: sent.parsed.messageId!, body: 'Yes, let us talk.' }));
    await syncSeller(w);
    expect(await enrollment(e.id)).toMatchObject({ state: 'unenrolled', reason: 'replied' });
    // The sequence email and the reply are on the contact's timeline, once each.
    const events = (await timeline(w, eve.id)).filter((x) => x.kind === 'email_sent' || x.kind === 'email_received');
    expect(events.map((x) => x.kind).sort()).toEqual(['email_received', 'email_sent']);
    expect(events.find((x) => x.kind === 'email_sent')!.data).toMatchObject({ source: 'sequence', subject: sent.parsed.subject });

    const fay = await contact(w, { firstName: 'Fay', emails: [`fay-${uniq()}@client.test`], mailbox: true });
    const f = (await enroll(seq.id, fay.id)).json();
    await runEnrollmentStep(w.t.env, deps(), f.id);
    await flushOutbox();
    const raw = (await mailboxOf(w, f.contactEmail))[0]!.raw.toString();
    const url = /^List-Unsubscribe:\s*<([^>]+)>/im.exec(raw)![1]!;
    const path = new URL(url).pathname;
    const forged = await w.t.app.inject({ method: 'POST', url: `${path.slice(0, -3)}AAA`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'List-Unsubscribe=One-Click' });
    expect(forged.statusCode).toBe(404);
    const oneClick = await w.t.app.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'List-Unsubscribe=One-Click' });
    expect(oneClick.statusCode).toBe(200);
    expect(await enrollment(f.id)).toMatchObject({ state: 'unenrolled', reason: 'unsubscribed' });
    const again = await enroll(seq.id, fay.id);
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({ code: 'contact_not_enrollable', details: { reason: 'unsubscribed' } });
  });

  it('a hard bounce unenrolls; a colleague\'s reply unenrolls when the sequence asks', async () => {
    const seq = await createSequence({ ...twoSteps(`Bounce ${uniq()}`), settings: { ...allDay, unenrollOnCompanyReply: true } });
    const gil = await contact(w, { firstName: 'Gil', emails: [`gil-${uniq()}@acme-${uniq()}.test`] });
    const g = (await enroll(seq.id, gil.id)).json();
    await runEnrollmentStep(w.t.env, deps(), g.id);
    const out = await w.t.database.db.selectFrom('sequence_steps_run').select('message_id').where('enrollment_id', '=', g.id).executeTakeFirstOrThrow();
    await w.dovecot.deliver(w.seller.address, dsn({ to: w.seller.address, recipient: g.contactEmail, originalMessageId: out.message_id! }));
    await syncSeller(w);
    expect(await enrollment(g.id)).toMatchObject({ state: 'unenrolled', reason: 'bounced' });

    const domain = `corp-${uniq()}.test`;
    const hal = await contact(w, { firstName: 'Hal', emails: [`hal@${domain}`] });
    const h = (await enroll(seq.id, hal.id)).json();
    await w.dovecot.deliver(w.seller.address, rawMail({ from: `boss@${domain}`, to: w.seller.address, subject: 'About your email to Hal', body: 'Hal forwarded me your note.' }));
    await syncSeller(w);
    expect(await enrollment(h.id)).toMatchObject({ state: 'unenrolled', reason: 'colleague_replied' });
  });

  it('an out-of-office pauses, and resumes one business day after the stated return date', async () => {
    const ivy = await contact(w, { firstName: 'Ivy', emails: [`ivy-${uniq()}@client.test`] });
    const seq = await createSequence({ ...twoSteps(`OOO ${uniq()}`), settings: { ...allDay, weekdays: [1, 2, 3, 4, 5] } });
    const e = (await enroll(seq.id, ivy.id)).json();
    const now = new Date();
    const back = new Date(now.getTime() + 7 * DAY).toISOString().slice(0, 10);
    await w.dovecot.deliver(
      w.seller.address,
      rawMail({ from: e.contactEmail, to: w.seller.address, subject: 'Automatic reply: Hello', body: `Thank you for your message. I am out of the office and will be back on ${back}.` }),
    );
    await syncSeller(w);
    const paused = await enrollment(e.id);
    expect(paused).toMatchObject({ state: 'paused', reason: 'out_of_office' });
    const resumesAt = Date.parse(paused.nextStep.dueAt);
    expect(resumesAt).toBeGreaterThan(Date.parse(`${back}T00:00:00Z`) + DAY - 1);
    expect(await runEnrollmentStep(envAt(resumesAt - 1000), deps(), e.id)).toBe('skipped');
    expect(await runEnrollmentStep(envAt(resumesAt + 1000), deps(), e.id)).toBe('queued');
    const resumed = await enrollment(e.id);
    expect(resumed.state).toBe('active');
    expect(resumed.history.map((x: { kind: string }) => x.kind)).toEqual(['enrolled', 'paused', 'resumed', 'step_queued']);
  });

  it('two schedulers at once run each due step exactly once', async () => {
    const seq = await createSequence(twoSteps(`Race ${uniq()}`));
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const c = await contact(w, { firstName: `R${i}`, emails: [`r${i}-${uniq()}@client.test`] });
      ids.push((await enroll(seq.id, c.id)).json().id);
    }
    // A second, separate database handle (PostgreSQL: its own pool, truly concurrent); on SQLite one
    // process has one writer, so the two schedulers interleave at every await.
    let second: Database | null = null;
    let env2: CommandEnv = w.t.env;
    if (usingPostgres) {
      second = await openDatabase({ databaseUrl: process.env.DATABASE_URL!, pgSchema: w.t.database.pgSchema!, poolSize: 10 });
      env2 = { ...w.t.env, db: second.db };
    }
    try {
      const now = Date.now() + 1000;
      const count = async () => Number((await w.t.database.db.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
      const before = await count();
      const [a, b] = await Promise.all([runDueSteps(envAt(now), deps()), runDueSteps(envAt(now, env2), deps())]);
      const queued = [...a.outcomes, ...b.outcomes].filter((x) => x === 'queued').length;
      expect(queued).toBeGreaterThanOrEqual(12);
      // Both saw the same due enrollments; every one ran once, by one of them.
      expect((await count()) - before).toBe(queued);
      expect(a.outcomes.filter((x) => x === 'skipped').length + b.outcomes.filter((x) => x === 'skipped').length).toBeGreaterThan(0);
      const runs = await w.t.database.db.selectFrom('sequence_steps_run').select(['enrollment_id', 'outbox_id']).where('enrollment_id', 'in', ids).execute();
      expect(runs).toHaveLength(12);
      const outbox = await w.t.database.db.selectFrom('outbox').select('id').where('id', 'in', runs.map((r) => r.outbox_id!)).execute();
      expect(outbox).toHaveLength(12);
    } finally {
      await second?.close();
    }
  });

  it('at the send limit a step waits (never dropped) until a slot frees; the enrollment shows when', async () => {
    const seq = await createSequence(twoSteps(`Limit ${uniq()}`));
    const a = await contact(w, { firstName: 'Jo', emails: [`jo-${uniq()}@client.test`] });
    const b = await contact(w, { firstName: 'Kim', emails: [`kim-${uniq()}@client.test`] });
    const ea = (await enroll(seq.id, a.id)).json();
    const eb = (await enroll(seq.id, b.id)).json();
    await flushOutbox();
    // What counts against the rolling 24 hours: sent, or on its way.
    const sentToday = Number(
      (
        await w.t.database.db
          .selectFrom('outbox')
          .select((eb2) => eb2.fn.countAll<number>().as('n'))
          .where('connection_id', '=', w.seller.connectionId)
          .where((eb2) => eb2.or([eb2('sent_at', '>', Date.now() - DAY), eb2('state', 'in', ['queued', 'sending'])]))
          .executeTakeFirstOrThrow()
      ).n,
    );
    await w.t.database.db.updateTable('connections').set({ send_limit_day: sentToday + 1 }).where('id', '=', w.seller.connectionId).execute();
    try {
      const at = Date.now() + 1000;
      expect(await runEnrollmentStep(envAt(at), deps(), ea.id)).toBe('queued');
      expect(await runEnrollmentStep(envAt(at), deps(), eb.id)).toBe('waiting');
      const waiting = await enrollment(eb.id);
      expect(waiting).toMatchObject({ state: 'active', stepIndex: 0 });
      expect(Date.parse(waiting.nextStep.dueAt)).toBeGreaterThan(at + 12 * 3600_000);
      expect(waiting.history.at(-1)).toMatchObject({ kind: 'waiting', reason: 'send_limit' });
    } finally {
      await w.t.database.db.updateTable('connections').set({ send_limit_day: null }).where('id', '=', w.seller.connectionId).execute();
    }
  });

  it('a booked meeting (the meetingBooked reactions wired in src/app/features.ts) and a deleted contact stop the sequence', async () => {
    const seq = await createSequence(twoSteps(`Meet ${uniq()}`));
    const lee = await contact(w, { firstName: 'Lee', emails: [`lee-${uniq()}@client.test`] });
    const e = (await enroll(seq.id, lee.id)).json();
    // The reactions as the meetings feature runs them, inside its booking's transaction.
    expect(w.t.env.reactions.meetingBooked.length).toBeGreaterThan(0);
    await w.t.database.db.transaction().execute(async (trx) => {
      for (const h of w.t.env.reactions.meetingBooked) await h(trx, { accountId: w.accountId, contactId: lee.id, meetingId: 'mtg_test' }, w.t.env);
    });
    expect(await enrollment(e.id)).toMatchObject({ state: 'unenrolled', reason: 'meeting_booked' });
    // Domain events (webhooks subscribed to every event receive them), about the contact.
    const events = await w.t.database.db.selectFrom('events').select(['type', 'subject_type', 'data']).where('subject_id', '=', lee.id).orderBy('seq').execute();
    expect(events.filter((x) => x.type.startsWith('sequence.')).map((x) => [x.type, x.subject_type, JSON.parse(x.data).reason])).toEqual([
      ['sequence.enrollment.created', 'contact', null],
      ['sequence.enrollment.unenrolled', 'contact', 'meeting_booked'],
    ]);
    // Enrolled again (a meeting is no refusal), then the contact is deleted.
    const again = (await enroll(seq.id, lee.id)).json();
    const del = await w.t.api(w.adminToken, 'DELETE', `/api/v1/contacts/${lee.id}`);
    expect(del.statusCode, del.body).toBeLessThan(300);
    const row = await w.t.database.db.selectFrom('sequence_enrollments').select(['state', 'reason']).where('id', '=', again.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ state: 'unenrolled', reason: 'contact_deleted' });
  });

  it('pause without a return date, then resume by hand', async () => {
    const seq = await createSequence(twoSteps(`Resume ${uniq()}`));
    const max = await contact(w, { firstName: 'Max', emails: [`max-${uniq()}@client.test`] });
    const e = (await enroll(seq.id, max.id)).json();
    await w.dovecot.deliver(w.seller.address, rawMail({ from: e.contactEmail, to: w.seller.address, subject: 'Out of Office', headers: ['Auto-Submitted: auto-replied'], body: 'I am away with limited access to email.' }));
    await syncSeller(w);
    const paused = await enrollment(e.id);
    expect(paused).toMatchObject({ state: 'paused', reason: 'out_of_office' });
    expect(paused.nextStep.dueAt).toBeNull();
    expect(paused.history.map((h: { kind: string }) => h.kind)).toEqual(['enrolled', 'paused', 'task_created']);
    const r = await w.t.api(w.seller.token, 'POST', `/api/v1/sequence-enrollments/${e.id}/resume`);
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({ state: 'active' });
    const wrong = await w.t.api(w.seller.token, 'POST', `/api/v1/sequence-enrollments/${e.id}/resume`);
    expect(wrong.statusCode).toBe(409);
  });

  it('the scheduler is a durable job: enrolling queues it; it runs due steps and goes back to the queue', async () => {
    const seq = await createSequence(twoSteps(`Job ${uniq()}`));
    const nia = await contact(w, { firstName: 'Nia', emails: [`nia-${uniq()}@client.test`] });
    const e = (await enroll(seq.id, nia.id)).json();
    const job = await w.t.database.db.selectFrom('jobs').selectAll().where('kind', '=', 'sequences.tick').where('state', 'in', ['queued', 'running']).executeTakeFirst();
    expect(job).toBeDefined();
    const handler = sequencesFeature().jobs(w.ingestor)['sequences.tick']!;
    const ctx = { env: envAt(Date.now() + 1000), job: job!, workerId: 'test', log: undefined as never, signal: new AbortController().signal };
    await expect(handler({}, ctx)).rejects.toMatchObject({ message: 'run again' });
    expect((await enrollment(e.id)).stepIndex).toBe(1);
  });

  it('A/B variants: each enrollment gets one variant, the same every time; stats count per variant', async () => {
    const seq = await createSequence({
      name: `AB ${uniq()}`,
      settings: allDay,
      steps: [{ type: 'email', variants: [{ subject: 'Variant A', html: '<p>A</p>' }, { subject: 'Variant B', html: '<p>B</p>' }] }],
    });
    const ids: string[] = [];
    for (let i = 0; i < 16; i++) {
      const c = await contact(w, { firstName: `V${i}`, emails: [`v${i}-${uniq()}@client.test`] });
      ids.push((await enroll(seq.id, c.id)).json().id);
    }
    const at = Date.now() + 1000;
    for (const id of ids) expect(await runEnrollmentStep(envAt(at), deps(), id)).toBe('queued');
    const runs = await w.t.database.db.selectFrom('sequence_steps_run').select(['enrollment_id', 'variant', 'subject']).where('enrollment_id', 'in', ids).execute();
    for (const r of runs) expect(r.subject).toBe(r.variant === 0 ? 'Variant A' : 'Variant B');
    const stats = (await w.t.api(w.seller.token, 'GET', `/api/v1/sequences/${seq.id}`)).json().stats;
    expect(stats.steps.map((x: { variant: number }) => x.variant)).toEqual([0, 1]);
    expect(stats.steps.reduce((n: number, x: { queued: number }) => n + x.queued, 0)).toBe(16);
    expect(stats).toMatchObject({ enrolled: 16, finished: 16 });
  });

  it('a reply that arrives after a step was queued but before it left cancels that email', async () => {
    const seq = await createSequence(twoSteps(`Late ${uniq()}`));
    const ola = await contact(w, { firstName: 'Ola', emails: [`ola-${uniq()}@client.test`] });
    const e = (await enroll(seq.id, ola.id)).json();
    expect(await runEnrollmentStep(envAt(Date.now() + 1000), deps(), e.id)).toBe('queued');
    await w.dovecot.deliver(w.seller.address, rawMail({ from: e.contactEmail, to: w.seller.address, subject: 'Re: earlier note', body: 'Not interested, thanks.' }));
    await syncSeller(w);
    expect(await enrollment(e.id)).toMatchObject({ state: 'unenrolled', reason: 'replied' });
    const run = await w.t.database.db.selectFrom('sequence_steps_run').innerJoin('outbox', 'outbox.id', 'sequence_steps_run.outbox_id').select(['sequence_steps_run.state as run', 'outbox.state as outbox']).where('enrollment_id', '=', e.id).executeTakeFirstOrThrow();
    expect(run).toEqual({ run: 'skipped', outbox: 'cancelled' });
  });

  it('the reply hook reads once per ingest batch, whatever its size; replies in one batch stop each enrollment once', async () => {
    const seq = await createSequence({ ...twoSteps(`Batch ${uniq()}`), settings: { ...allDay, unenrollOnCompanyReply: true } });
    const domain = `batch-${uniq()}.test`;
    // P0 and P2 work together; P1 elsewhere.
    const people = await Promise.all([0, 1, 2].map((i) => contact(w, { firstName: `P${i}`, emails: [`p${i}-${uniq()}@${i === 1 ? `elsewhere-${uniq()}.test` : domain}`] })));
    const enrolled = await Promise.all(people.map(async (p) => (await enroll(seq.id, p.id)).json() as { id: string; contactEmail: string }));
    // Sequence emails of the batch go out (stored as outbound, one timeline entry each).
    const ids: string[] = [];
    for (const e of enrolled) {
      expect(await runEnrollmentStep(w.t.env, deps(), e.id)).toBe('queued');
      ids.push((await w.t.database.db.selectFrom('sequence_steps_run').select('outbox_id').where('enrollment_id', '=', e.id).executeTakeFirstOrThrow()).outbox_id!);
    }
    const conn = await w.t.database.db.selectFrom('connections').selectAll().where('id', '=', w.seller.connectionId).executeTakeFirstOrThrow();
    // Counts the statements that touch the sequences' tables (and company domains, for colleagues).
    let reads = 0;
    let writes = 0;
    const counter = {
      transformQuery(a: { node: { kind: string } }) {
        const text = JSON.stringify(a.node);
        if (/"name":"(sequence_\w+|company_domains)"/.test(text)) {
          if (a.node.kind === 'SelectQueryNode') reads += 1;
          else writes += 1;
        }
        return a.node;
      },
      async transformResult(a: { result: unknown }) {
        return a.result;
      },
    } as unknown as KyselyPlugin;
    const counted = { ...w.ingestor, env: { ...w.t.env, db: w.t.env.db.withPlugin(counter) } };
    const ingest = async (items: Array<{ raw: string; direction: 'inbound' | 'outbound'; outboxId?: string }>) => {
      reads = 0;
      writes = 0;
      await ingestBatch(counted, conn, items.map((x) => ({ raw: Buffer.from(x.raw), source: x.outboxId ? ('outbox' as const) : ('imap' as const), direction: x.direction, receivedAt: Date.now(), ...(x.outboxId ? { outboxId: x.outboxId } : {}) })));
      return { reads, writes };
    };
    const strangers = (n: number) => Array.from({ length: n }, (_, i) => ({ raw: rawMail({ from: `s${i}-${uniq()}@other-${uniq()}.test`, to: w.seller.address, subject: `Hello ${i}` }), direction: 'inbound' as const }));
    // Messages that change nothing: the same reads for 2 messages as for 20, no writes.
    const small = await ingest(strangers(2));
    const large = await ingest(strangers(20));
    expect(small.reads).toBeGreaterThan(0);
    expect(large).toEqual(small);
    expect(small.writes).toBe(0);
    // Sent sequence emails: one read for the three.
    const sent = await ingest(ids.map((id, i) => ({ raw: rawMail({ from: w.seller.address, to: enrolled[i]!.contactEmail, subject: `Batch sent ${i}` }), direction: 'outbound' as const, outboxId: id })));
    expect(sent.reads).toBe(1);
    // Two replies from P0 and one from P1 in one batch: each stops once (P2 stops as their colleague).
    const replies = [enrolled[0]!, enrolled[0]!, enrolled[1]!].map((e, i) => ({ raw: rawMail({ from: e.contactEmail, to: w.seller.address, subject: `Re: batch ${i}`, body: 'Sure, call me.' }), direction: 'inbound' as const }));
    const r = await ingest(replies);
    // The batch's reads, plus one per stop (the stopped enrollment's unsent emails, to cancel them).
    expect(r.reads).toBe(small.reads + 3);
    const states = await Promise.all(enrolled.map((e) => enrollment(e.id)));
    expect(states.map((e) => [e.state, e.reason])).toEqual([
      ['unenrolled', 'replied'],
      ['unenrolled', 'replied'],
      ['unenrolled', 'colleague_replied'],
    ]);
    expect(states[0].history.filter((h: { kind: string }) => h.kind === 'unenrolled')).toHaveLength(1);
    const received = (await timeline(w, people[0]!.id)).filter((x) => x.kind === 'email_received');
    expect(received).toHaveLength(1);
    expect((await timeline(w, people[1]!.id)).filter((x) => x.kind === 'email_sent')).toHaveLength(1);
  });

  it('stats per step and variant: sent, delivered, replies credited to the variant each contact got, bounces, unsubscribes', async () => {
    const seq = await createSequence({
      name: `AB ${uniq()}`,
      settings: allDay,
      steps: [
        { type: 'email', variants: [{ subject: `Variant A ${uniq()}`, html: '<p>A</p>' }, { subject: `Variant B ${uniq()}`, html: '<p>B</p>' }] },
        { type: 'email', delay: { unit: 'business_days', value: 2 }, html: '<p>Follow-up</p>' },
      ],
    });
    const people = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => contact(w, { firstName: `S${i}`, emails: [`s${i}-${uniq()}@stats-${uniq()}.test`], mailbox: true })));
    const es = await Promise.all(people.map(async (p) => (await enroll(seq.id, p.id)).json() as { id: string; contactEmail: string }));
    for (const e of es) expect(await runEnrollmentStep(w.t.env, deps(), e.id)).toBe('queued');
    const runs = await w.t.database.db.selectFrom('sequence_steps_run').select(['enrollment_id', 'variant', 'message_id', 'outbox_id']).where('enrollment_id', 'in', es.map((e) => e.id)).execute();
    // Sent a month on, a minute apart: clear of the send limits the earlier tests of this file used up (some sent days ahead).
    const later = Date.now() + 30 * DAY;
    for (const [i, r] of runs.entries()) expect(await sendOutboxMessage({ ...w.ingestor, env: envAt(later + i * 61_000) }, r.outbox_id!)).toBe('sent');
    const variantOf = (id: string) => Number(runs.find((r) => r.enrollment_id === id)!.variant);
    // Deterministic per enrollment, and both variants used by six enrollments (fixed by their ids; retry if not).
    // S0 replies, S1 bounces, S2 unsubscribes (manually through the API here).
    await w.dovecot.deliver(w.seller.address, rawMail({ from: es[0]!.contactEmail, to: w.seller.address, subject: 'Re: hi', body: 'Yes please.' }));
    await w.dovecot.deliver(w.seller.address, dsn({ to: w.seller.address, recipient: es[1]!.contactEmail, originalMessageId: runs.find((r) => r.enrollment_id === es[1]!.id)!.message_id! }));
    await syncSeller(w);
    const stats = (await w.t.api(w.seller.token, 'GET', `/api/v1/sequences/${seq.id}`)).json().stats;
    const v = (i: number) => stats.steps.find((s: { stepIndex: number; variant: number }) => s.stepIndex === 0 && s.variant === i) ?? { sent: 0, replied: 0, bounced: 0, delivered: 0 };
    const count = (i: number) => es.filter((e) => variantOf(e.id) === i).length;
    expect(v(0).sent + v(1).sent).toBe(6);
    expect([v(0).sent, v(1).sent]).toEqual([count(0), count(1)]);
    const replied = variantOf(es[0]!.id);
    const bounced = variantOf(es[1]!.id);
    expect(v(replied).replied).toBe(1);
    expect(v(1 - replied).replied).toBe(0);
    expect(v(bounced).bounced).toBe(1);
    expect(v(bounced).delivered).toBe(v(bounced).sent - 1);
    expect(v(replied).replyRate).toBe(Math.round((1 / v(replied).delivered) * 1000) / 1000);
    // Tracked by the sender's default (on), none opened or clicked yet. Read on the replier's variant, which
    // certainly sent: variants come from the enrollments' random ids, and all six take the same one about
    // one run in 32 (variant 0 then has no row, and its stand-in above no tracking counts).
    expect(v(replied)).toMatchObject({ tracked: v(replied).sent, opened: 0, clicked: 0 });
    expect(stats).toMatchObject({ enrolled: 6, replied: 1, bounced: 1 });
  });

  it('bulk enroll: each contact enrolled or refused with its reason; one sequence per contact; the request refused whole for an archived sequence', async () => {
    const seq = await createSequence(twoSteps(`Bulk ${uniq()}`));
    const other = await createSequence(twoSteps(`Other ${uniq()}`));
    const ok1 = await contact(w, { firstName: 'Ok1', emails: [`ok1-${uniq()}@bulk.test`] });
    const ok2 = await contact(w, { firstName: 'Ok2', emails: [`ok2-${uniq()}@bulk.test`] });
    const busy = await contact(w, { firstName: 'Busy', emails: [`busy-${uniq()}@bulk.test`] });
    expect((await enroll(other.id, busy.id)).statusCode).toBe(201);
    const noEmail = await contact(w, { firstName: 'Nomail', emails: [] });
    const r = await w.t.api(w.seller.token, 'POST', `/api/v1/sequences/${seq.id}/enrollments/bulk`, { contactIds: [ok1.id, busy.id, noEmail.id, ok2.id, 'con_missing', ok1.id] });
    expect(r.statusCode, r.body).toBe(200);
    const body = r.json();
    expect(body).toMatchObject({ enrolled: 2, refused: 3 });
    const by = (id: string) => body.results.find((x: { contactId: string }) => x.contactId === id);
    expect(by(ok1.id)).toMatchObject({ enrolled: true });
    expect(by(ok2.id)).toMatchObject({ enrolled: true });
    expect(by(busy.id)).toMatchObject({ enrolled: false, code: 'already_enrolled' });
    expect(by(noEmail.id)).toMatchObject({ enrolled: false, code: 'contact_not_enrollable', reason: 'no_email' });
    expect(by('con_missing')).toMatchObject({ enrolled: false, code: 'not_found' });
    expect(body.results).toHaveLength(5);
    expect((await enrollment(by(ok1.id).enrollmentId)).state).toBe('active');
    // Enrolling the same people again: all already in a sequence.
    const again = (await w.t.api(w.seller.token, 'POST', `/api/v1/sequences/${seq.id}/enrollments/bulk`, { contactIds: [ok1.id, ok2.id] })).json();
    expect(again.results.map((x: { code: string }) => x.code)).toEqual(['already_enrolled', 'already_enrolled']);
    const tooMany = await w.t.api(w.seller.token, 'POST', `/api/v1/sequences/${seq.id}/enrollments/bulk`, { contactIds: Array.from({ length: 201 }, (_, i) => `con_${i}`) });
    expect(tooMany.statusCode).toBe(400);
    const none = await w.t.api(w.seller.token, 'POST', `/api/v1/sequences/${seq.id}/enrollments/bulk`, { contactIds: [] });
    expect(none.statusCode).toBe(400);
    expect(none.json().error).toMatchObject({ code: 'invalid_request', details: { field: 'contactIds' } });
    await w.t.api(w.seller.token, 'POST', `/api/v1/sequences/${seq.id}/archive`, {});
    const archived = await w.t.api(w.seller.token, 'POST', `/api/v1/sequences/${seq.id}/enrollments/bulk`, { contactIds: [busy.id] });
    expect(archived.statusCode).toBe(409);
    expect(archived.json().error.code).toBe('sequence_archived');
  });
  it("steps keep the enrollment's time of day in the contact's time zone (Asia/Kathmandu, +05:45) while the owner is in New York; without one, the owner's zone", async () => {
    const owner = 'America/New_York';
    const setHours = async (workingHours: unknown) => {
      const r = await w.t.api(w.adminToken, 'PATCH', `/api/v1/users/${w.seller.userId}`, { workingHours });
      expect(r.statusCode, r.body).toBe(200);
    };
    await setHours({ timezone: owner, days: { mon: [['09:00', '17:00']] } });
    try {
      // A send window of three hours around the present time of day in Kathmandu: inside it there, outside it
      // in New York (9h45 or 10h45 behind), so the two zones give different due times.
      const k = DateTime.now().setZone('Asia/Kathmandu');
      const nowMin = k.hour * 60 + k.minute;
      const clock = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
      const window = { start: clock(Math.max(0, nowMin - 60)), end: clock(Math.min(23 * 60 + 59, nowMin + 120)) };
      const seq = await createSequence({
        name: `Zones ${uniq()}`,
        settings: { timeZone: 'UTC', window, weekdays: [1, 2, 3, 4, 5, 6, 7] },
        steps: [
          { type: 'email', subject: `Namaste ${uniq()}`, html: '<p>Hello {{ contact.firstName | "there" }}</p>' },
          { type: 'email', delay: { unit: 'business_days', value: 1 }, html: '<p>Following up.</p>' },
        ],
      });
      const email = `ram-${uniq()}@kathmandu.test`;
      const ram = await contact(w, { firstName: 'Ram', emails: [email], mailbox: true });
      const zoned = await w.t.api(w.seller.token, 'PATCH', `/api/v1/contacts/${ram.id}`, { timeZone: 'Asia/Kathmandu' });
      expect(zoned.json().timeZone).toBe('Asia/Kathmandu');
      const bob = await contact(w, { firstName: 'Bob', emails: [`bob-${uniq()}@newyork.test`] });

      const e = (await enroll(seq.id, ram.id)).json();
      expect(e.timeZone).toBe('Asia/Kathmandu');
      const enrolledAt = Date.parse(e.enrolledAt);
      // Step 1 is due at once: the present is inside the window in Kathmandu.
      expect(Date.parse(e.nextStep.dueAt)).toBe(enrolledAt);
      // The contact without a zone is scheduled in the owner's: outside the window there, so later, at its start.
      const eb = (await enroll(seq.id, bob.id)).json();
      expect(eb.timeZone).toBe(owner);
      const bobDue = DateTime.fromISO(eb.nextStep.dueAt).setZone(owner);
      expect(bobDue.toMillis()).toBeGreaterThan(Date.parse(eb.enrolledAt));
      expect(bobDue.toFormat('HH:mm')).toBe(window.start);

      // Sent 50 days on: clear of the per-minute send limit, which counts what earlier tests of this file sent
      // at the present time and ahead of it (it failed when the file ran fast enough to send 10 in a minute).
      const sendStep = async (index: number, at: number) => {
        const run = await w.t.database.db.selectFrom('sequence_steps_run').select('outbox_id').where('enrollment_id', '=', e.id).where('step_index', '=', index).executeTakeFirstOrThrow();
        expect(await sendOutboxMessage({ ...w.ingestor, env: envAt(Math.max(at, Date.now()) + 50 * DAY) }, run.outbox_id!)).toBe('sent');
      };
      expect(await runEnrollmentStep(envAt(enrolledAt), deps(), e.id)).toBe('queued');
      await sendStep(0, enrolledAt);
      // Step 2: the next day in Kathmandu at the enrollment's local time of day there (plus the mailbox's spread of a few minutes).
      const after = await enrollment(e.id);
      const due = Date.parse(after.nextStep.dueAt);
      const local = DateTime.fromMillis(due - spreadSeconds(e.id) * 1000).setZone('Asia/Kathmandu');
      const enrolledLocal = DateTime.fromMillis(enrolledAt).setZone('Asia/Kathmandu');
      expect(local.toFormat('yyyy-MM-dd HH:mm:ss')).toBe(`${enrolledLocal.plus({ days: 1 }).toFormat('yyyy-MM-dd HH:mm')}:00`);
      expect(await runEnrollmentStep(envAt(due - 1000), deps(), e.id)).toBe('skipped');
      expect(await runEnrollmentStep(envAt(due), deps(), e.id)).toBe('queued');
      await sendStep(1, due);
      expect((await mailboxOf(w, email)).length).toBe(2);
      expect((await enrollment(e.id)).history.find((h: { kind: string }) => h.kind === 'enrolled').data.timeZone).toBe('Asia/Kathmandu');
    } finally {
      await setHours(null);
    }
  });
  it('sequence emails are tracked like one-to-one email (the sender\'s default, or the sequence\'s setting); a real open and click count in the step\'s stats', async () => {
    const PUBLIC = 'https://crm.mailroom.test';
    const chrome = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';
    const body = '<p>Hi {{ contact.firstName | "there" }}, our <a href="https://portal.example/pricing?plan=pro">pricing</a>.</p>';
    const seq = await createSequence({ name: `Tracked ${uniq()}`, settings: allDay, steps: [{ type: 'email', subject: `Tracked ${uniq()}`, html: body }] });
    expect((await w.t.api(w.seller.token, 'GET', `/api/v1/sequences/${seq.id}`)).json().settings).toMatchObject({ trackOpens: null, trackClicks: null });
    const reader = await contact(w, { firstName: 'Rea', emails: [`rea-${uniq()}@track.test`], mailbox: true });
    const silent = await contact(w, { firstName: 'Sil', emails: [`sil-${uniq()}@track.test`], mailbox: true });
    const er = (await enroll(seq.id, reader.id)).json();
    const es = (await enroll(seq.id, silent.id)).json();
    // Sent a month on, a minute apart: clear of the send limits earlier tests used up.
    const later = Date.now() + 40 * DAY;
    for (const [i, e] of [er, es].entries()) {
      expect(await runEnrollmentStep(envAt(later + i * 61_000), deps(), e.id)).toBe('queued');
      const run = await w.t.database.db.selectFrom('sequence_steps_run').select('outbox_id').where('enrollment_id', '=', e.id).executeTakeFirstOrThrow();
      expect(await sendOutboxMessage({ ...w.ingestor, env: envAt(later + i * 61_000 + 1000) }, run.outbox_id!)).toBe('sent');
      // Read a minute after it was sent (not a prefetch right after delivery).
      await w.t.database.db.updateTable('outbox').set({ sent_at: Date.now() - 120_000 }).where('id', '=', run.outbox_id!).execute();
    }
    const got = (await mailboxOf(w, er.contactEmail))[0]!;
    const html = got.parsed.html ?? '';
    const link = new RegExp(`href="(${PUBLIC}/t/c/[^"]+)"`).exec(html)?.[1];
    const pixel = new RegExp(`src="(${PUBLIC}/t/o/[^"]+)"`).exec(html)?.[1];
    expect(link, html).toBeDefined();
    expect(pixel, html).toBeDefined();
    expect(html).not.toContain('portal.example'); // the destination is stored, not in the mail
    expect(got.parsed.text).toContain('https://portal.example/pricing?plan=pro'); // the text part keeps the real link

    const open = await w.t.app.inject({ method: 'GET', url: pixel!.slice(PUBLIC.length), headers: { 'user-agent': chrome } });
    expect(open.statusCode).toBe(200);
    expect(open.headers['content-type']).toBe('image/gif');
    const click = await w.t.app.inject({ method: 'GET', url: link!.slice(PUBLIC.length), headers: { 'user-agent': chrome } });
    expect(click.statusCode).toBe(302);
    expect(click.headers.location).toBe('https://portal.example/pricing?plan=pro');
    await flushTrackingHits(w.t.env);

    const stats = (await w.t.api(w.seller.token, 'GET', `/api/v1/sequences/${seq.id}`)).json().stats;
    expect(stats.steps.find((x: { stepIndex: number; variant: number }) => x.stepIndex === 0 && x.variant === 0)).toMatchObject({ sent: 2, tracked: 2, opened: 1, clicked: 1 });
    expect(stats.tracking).toMatch(/indicative/i);

    // The sender's default off, the sequence asking for clicks only: links tracked, no pixel; opens come from clicks.
    const prefs = await w.t.api(w.seller.token, 'PATCH', '/api/v1/email-preferences', { trackOpens: false, trackClicks: false });
    expect(prefs.statusCode, prefs.body).toBe(200);
    try {
      const clicksOnly = await createSequence({ name: `Clicks ${uniq()}`, settings: { ...allDay, trackClicks: true }, steps: [{ type: 'email', subject: `Clicks ${uniq()}`, html: body }] });
      const none = await createSequence({ name: `Untracked ${uniq()}`, settings: allDay, steps: [{ type: 'email', subject: `Untracked ${uniq()}`, html: body }] });
      const c1 = await contact(w, { firstName: 'Cli', emails: [`cli-${uniq()}@track.test`], mailbox: true });
      const c2 = await contact(w, { firstName: 'Non', emails: [`non-${uniq()}@track.test`], mailbox: true });
      const e1 = (await enroll(clicksOnly.id, c1.id)).json();
      const e2 = (await enroll(none.id, c2.id)).json();
      for (const [i, e] of [e1, e2].entries()) {
        const at = later + (5 + i) * 61_000;
        expect(await runEnrollmentStep(envAt(at), deps(), e.id)).toBe('queued');
        const run = await w.t.database.db.selectFrom('sequence_steps_run').select('outbox_id').where('enrollment_id', '=', e.id).executeTakeFirstOrThrow();
        expect(await sendOutboxMessage({ ...w.ingestor, env: envAt(at + 1000) }, run.outbox_id!)).toBe('sent');
      }
      const h1 = (await mailboxOf(w, e1.contactEmail))[0]!.parsed.html ?? '';
      expect(h1).toContain(`${PUBLIC}/t/c/`);
      expect(h1).not.toContain('/t/o/');
      const h2 = (await mailboxOf(w, e2.contactEmail))[0]!.parsed.html ?? '';
      expect(h2).toContain('href="https://portal.example/pricing?plan=pro"');
      expect(h2).not.toContain('/t/');
      const s2 = (await w.t.api(w.seller.token, 'GET', `/api/v1/sequences/${none.id}`)).json().stats.steps[0];
      expect(s2).toMatchObject({ sent: 1, tracked: 0, opened: null, clicked: null });
    } finally {
      await w.t.api(w.seller.token, 'PATCH', '/api/v1/email-preferences', { trackOpens: true, trackClicks: true });
    }
  });
});
