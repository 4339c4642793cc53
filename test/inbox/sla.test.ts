/**
 * Service-level targets (issue 21, item 9) through the API and the real ingest pipeline, with a clock the
 * test moves: settings and their validation, due times in the inbox's business hours, met by our reply
 * (not a comment), paused while waiting on the customer and while snoozed, met by closing; the
 * "breaching soon" and "breached" views; the check that tells the assignee once per target, even when two
 * checks race (two workers), with its webhook event.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { deliver, inboxFixture, ingestorOf, member, ok, rawMail, type TeamConnection } from './support.js';
import { ingestBatch } from '../../src/features/ingest/ingest.js';
import { checkSla, inboxesWithRunningTargets, slaCheckJob, stillDueCount } from '../../src/features/inbox/sla.js';
import { sqlitePlan } from '../support/plan.js';
import { usingPostgres } from '../support/db.js';
import { RunAgain } from '../../src/platform/jobs/worker.js';

let clock = Date.parse('2026-03-02T13:00:00Z'); // Monday 08:00 in New York
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ now: () => clock });
});
afterAll(async () => {
  await t?.close();
});

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const NY_WEEK = { timezone: 'America/New_York', days: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, [['09:00', '17:00']]])) };

/** Our reply, stored as the outbox stores the sent copy (outbound, through the same ingest pipeline). */
async function replyStored(conn: TeamConnection, conversationId: string, subject: string, sentAt: number) {
  const raw = rawMail({ subject: `Re: ${subject}`, from: conn.address, to: 'carla@example.org', body: 'We are on it.', date: new Date(sentAt) });
  await ingestBatch(ingestorOf(t), conn, [{ raw: Buffer.from(raw), source: 'outbox', direction: 'outbound', receivedAt: sentAt, conversationId }]);
}

const slaOf = async (token: string, id: string) => (await ok(t, token, 'GET', `/api/v1/conversations/${id}`)).sla;
/** The `sla` of a conversation in the inbox's open list (the list reads the SLA columns only for an inbox with targets). */
const listedSlaOf = async (token: string, inboxId: string, id: string) => (await ok(t, token, 'GET', `/api/v1/inboxes/${inboxId}/conversations?view=open`)).conversations.find((c: { id: string }) => c.id === id).sla;
const listIds = async (token: string, inboxId: string, view: string) => (await ok(t, token, 'GET', `/api/v1/inboxes/${inboxId}/conversations?view=${view}`)).conversations.map((c: { id: string }) => c.id);

describe('SLA settings', () => {
  it('are set, read back, validated and kept to the account-access permission', async () => {
    const s = await inboxFixture(t);
    expect(await ok(t, s.a.token, 'GET', `/api/v1/inboxes/${s.inbox.id}/sla`)).toEqual({ inboxId: s.inbox.id, firstResponseMinutes: null, resolutionMinutes: null, soonMinutes: 60, workingHours: null });
    const set = await ok(t, s.a.token, 'PUT', `/api/v1/inboxes/${s.inbox.id}/sla`, { firstResponseMinutes: 60, resolutionMinutes: 480, soonMinutes: 30, workingHours: NY_WEEK });
    expect(set).toEqual({ inboxId: s.inbox.id, firstResponseMinutes: 60, resolutionMinutes: 480, soonMinutes: 30, workingHours: NY_WEEK });
    expect(await ok(t, s.a.token, 'GET', `/api/v1/inboxes/${s.inbox.id}/sla`)).toEqual(set);

    const bad = await t.api(s.a.token, 'PUT', `/api/v1/inboxes/${s.inbox.id}/sla`, { firstResponseMinutes: 60, workingHours: { timezone: 'Mars/Olympus', days: { mon: [['09:00', '17:00']] } } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'invalid_request', details: { field: 'workingHours' } });
    expect(bad.json().error.message).toContain('Mars/Olympus');
    const zero = await t.api(s.a.token, 'PUT', `/api/v1/inboxes/${s.inbox.id}/sla`, { firstResponseMinutes: 0 });
    expect(zero.json().error).toMatchObject({ code: 'invalid_request', details: { field: 'firstResponseMinutes' } });

    const agent = await member(t, s.a, { name: 'Agent', permissions: { accountAccess: false } });
    const denied = await t.api(agent.token, 'PUT', `/api/v1/inboxes/${s.inbox.id}/sla`, { firstResponseMinutes: 5 });
    expect(denied.statusCode).toBe(403);
    expect((await ok(t, agent.token, 'GET', `/api/v1/inboxes/${s.inbox.id}/sla`)).firstResponseMinutes).toBe(60);

    // Both targets null: the inbox has no SLA any more.
    expect(await ok(t, s.a.token, 'PUT', `/api/v1/inboxes/${s.inbox.id}/sla`, { firstResponseMinutes: null, resolutionMinutes: null })).toMatchObject({ firstResponseMinutes: null, resolutionMinutes: null, workingHours: null });
  });
});

describe('SLA clocks of a conversation', () => {
  it('run in business hours, are met by a reply (not a comment) and by closing, and pause while waiting on the customer or snoozed', async () => {
    clock = at('2026-03-02T13:00:00Z'); // Monday 08:00 New York, before opening
    const s = await inboxFixture(t);
    await ok(t, s.a.token, 'PUT', `/api/v1/inboxes/${s.inbox.id}/sla`, { firstResponseMinutes: 60, resolutionMinutes: 480, soonMinutes: 30, workingHours: NY_WEEK });
    const id = await deliver(t, s.conn, rawMail({ subject: 'Where is my order?', date: new Date(clock) }), clock);

    // The clock starts at 09:00: first response due 10:00 (15:00Z), resolution at 17:00 (22:00Z).
    let sla = await slaOf(s.a.token, id);
    expect(sla).toMatchObject({ firstResponse: { dueAt: '2026-03-02T15:00:00.000Z', metAt: null, breached: false }, resolution: { dueAt: '2026-03-02T22:00:00.000Z', metAt: null }, paused: null, state: 'on_track' });

    clock = at('2026-03-02T14:20:00Z');
    await ok(t, s.a.token, 'POST', `/api/v1/conversations/${id}/comments`, { body: 'Checking with the warehouse' });
    expect((await slaOf(s.a.token, id)).firstResponse.metAt).toBeNull();

    // 09:30: due within the 30-minute "soon" threshold.
    clock = at('2026-03-02T14:30:00Z');
    expect((await slaOf(s.a.token, id)).state).toBe('breaching_soon');

    // Our reply at 09:40 meets first response; waiting on the customer pauses resolution.
    clock = at('2026-03-02T14:40:00Z');
    await replyStored(s.conn, id, 'Where is my order?', clock);
    sla = await slaOf(s.a.token, id);
    expect(sla).toMatchObject({ firstResponse: { dueAt: '2026-03-02T15:00:00.000Z', metAt: '2026-03-02T14:40:00.000Z', breached: false }, resolution: { dueAt: null, metAt: null }, paused: 'waiting_on_customer', nextDueAt: null, state: 'paused' });

    // The customer answers the next morning at 10:00: the wait held 8h20 of business time (Mon 09:40-17:00, Tue 09:00-10:00).
    clock = at('2026-03-03T15:00:00Z');
    await deliver(t, s.conn, rawMail({ subject: 'Re: Where is my order?', date: new Date(clock) }), clock);
    sla = await slaOf(s.a.token, id);
    // Resolution: 40 minutes were used before the wait; the other 440 run from Tue 10:00: 420 that day, 20 on Wednesday: 09:20 New York.
    expect(sla).toMatchObject({ paused: null, resolution: { dueAt: '2026-03-04T14:20:00.000Z', metAt: null } });

    // Snoozed for an hour at 11:00: paused; woken at 12:00, due moved by the hour.
    clock = at('2026-03-03T16:00:00Z');
    await ok(t, s.a.token, 'POST', `/api/v1/conversations/${id}/status`, { status: 'snoozed', snoozedUntil: '2026-03-03T17:00:00Z' });
    expect(await slaOf(s.a.token, id)).toMatchObject({ paused: 'snoozed', resolution: { dueAt: null } });
    clock = at('2026-03-03T17:30:00Z');
    await ok(t, s.a.token, 'GET', `/api/v1/inboxes/${s.inbox.id}/conversations`); // a reader wakes it (half an hour late)
    expect(await slaOf(s.a.token, id)).toMatchObject({ paused: null, resolution: { dueAt: '2026-03-04T15:20:00.000Z' } });

    // Closing meets resolution.
    clock = at('2026-03-03T18:00:00Z');
    await ok(t, s.a.token, 'POST', `/api/v1/conversations/${id}/status`, { status: 'closed' });
    expect(await slaOf(s.a.token, id)).toMatchObject({ resolution: { dueAt: '2026-03-04T15:20:00.000Z', metAt: '2026-03-03T18:00:00.000Z', breached: false }, nextDueAt: null, state: 'none' });

    // Reopened by the customer: a new cycle, first response due again.
    clock = at('2026-03-03T19:00:00Z');
    await deliver(t, s.conn, rawMail({ subject: 'Re: Where is my order?', date: new Date(clock) }), clock);
    expect(await slaOf(s.a.token, id)).toMatchObject({ firstResponse: { dueAt: '2026-03-03T20:00:00.000Z', metAt: null }, resolution: { metAt: null } });
  });

  it('an inbox without targets shows none; setting them computes the open conversations', async () => {
    clock = at('2026-03-02T15:00:00Z');
    const s = await inboxFixture(t);
    const id = await deliver(t, s.conn, rawMail({ subject: 'No SLA yet', date: new Date(clock) }), clock);
    expect(await slaOf(s.a.token, id)).toBeNull();
    expect(await listedSlaOf(s.a.token, s.inbox.id, id)).toBeNull();
    await ok(t, s.a.token, 'PUT', `/api/v1/inboxes/${s.inbox.id}/sla`, { firstResponseMinutes: 30 });
    expect(await slaOf(s.a.token, id)).toMatchObject({ firstResponse: { dueAt: '2026-03-02T15:30:00.000Z' }, resolution: null });
    expect(await listedSlaOf(s.a.token, s.inbox.id, id)).toEqual(await slaOf(s.a.token, id));
    await ok(t, s.a.token, 'PUT', `/api/v1/inboxes/${s.inbox.id}/sla`, { firstResponseMinutes: null });
    expect(await slaOf(s.a.token, id)).toBeNull();
    expect(await listedSlaOf(s.a.token, s.inbox.id, id)).toBeNull();
    expect(await t.database.db.selectFrom('conversation_sla').select('conversation_id').where('inbox_id', '=', s.inbox.id).execute()).toEqual([]);
  });

  it('follow a conversation moved to another inbox: its targets, or none', async () => {
    clock = at('2026-03-02T15:00:00Z');
    const s = await inboxFixture(t);
    await ok(t, s.a.token, 'PUT', `/api/v1/inboxes/${s.inbox.id}/sla`, { firstResponseMinutes: 30 });
    const billing = await ok(t, s.a.token, 'POST', '/api/v1/inboxes', { name: 'Billing' });
    await ok(t, s.a.token, 'PUT', `/api/v1/inboxes/${billing.id}/sla`, { firstResponseMinutes: 120 });
    const plain = await ok(t, s.a.token, 'POST', '/api/v1/inboxes', { name: 'Plain' });
    const id = await deliver(t, s.conn, rawMail({ subject: 'Moving', date: new Date(clock) }), clock);
    expect((await slaOf(s.a.token, id)).firstResponse.dueAt).toBe('2026-03-02T15:30:00.000Z');
    await ok(t, s.a.token, 'POST', `/api/v1/conversations/${id}/move`, { inboxId: billing.id });
    expect((await slaOf(s.a.token, id)).firstResponse.dueAt).toBe('2026-03-02T17:00:00.000Z');
    await ok(t, s.a.token, 'POST', `/api/v1/conversations/${id}/move`, { inboxId: plain.id });
    expect(await slaOf(s.a.token, id)).toBeNull();
  });
});

describe('breaching soon and breached', () => {
  it('are views of the list, and the assignee is told once each, however many checks run', async () => {
    clock = at('2026-03-02T15:00:00Z');
    const s = await inboxFixture(t);
    await ok(t, s.a.token, 'PUT', `/api/v1/inboxes/${s.inbox.id}/sla`, { firstResponseMinutes: 60, soonMinutes: 15 }); // around the clock
    const ana = await member(t, s.a, { name: 'Ana' });
    const late = await deliver(t, s.conn, rawMail({ subject: 'Late one', date: new Date(clock) }), clock);
    await ok(t, s.a.token, 'POST', `/api/v1/conversations/${late}/assign`, { assigneeId: ana.user.id });
    clock = at('2026-03-02T15:30:00Z');
    const fresh = await deliver(t, s.conn, rawMail({ subject: 'Fresh one', date: new Date(clock) }), clock);
    expect(await listIds(ana.token, s.inbox.id, 'breaching_soon')).toEqual([]);

    // 15:50: "Late one" is due in 10 minutes (within 15), "Fresh one" in 40.
    clock = at('2026-03-02T15:50:00Z');
    expect(await listIds(ana.token, s.inbox.id, 'breaching_soon')).toEqual([late]);
    expect(await listIds(ana.token, s.inbox.id, 'breached')).toEqual([]);
    const counts = await Promise.all([checkSla(t.env, clock), checkSla(t.env, clock), checkSla(t.env, clock)]);
    expect(counts.reduce((n, c) => n + c.soon, 0)).toBe(1);
    const notes = async (kind: string) => (await ok(t, ana.token, 'GET', '/api/v1/notifications')).notifications.filter((n: { kind: string }) => n.kind === kind);
    expect(await notes('conversation.sla_breaching_soon')).toHaveLength(1);
    expect((await notes('conversation.sla_breaching_soon'))[0].message).toBe('The first response target of "Late one" is due at 2026-03-02T16:00:00.000Z: it will breach soon.');

    // 16:05: breached.
    clock = at('2026-03-02T16:05:00Z');
    expect(await listIds(ana.token, s.inbox.id, 'breached')).toEqual([late]);
    expect(await listIds(ana.token, s.inbox.id, 'breaching_soon')).toEqual([]);
    const list = (await ok(t, ana.token, 'GET', `/api/v1/inboxes/${s.inbox.id}/conversations?view=breached`)).conversations;
    expect(list[0].sla).toMatchObject({ state: 'breached', firstResponse: { dueAt: '2026-03-02T16:00:00.000Z', breached: true } });
    const again = await Promise.all([checkSla(t.env, clock), checkSla(t.env, clock)]);
    expect(again.reduce((n, c) => n + c.breached, 0)).toBe(1);
    expect(await notes('conversation.sla_breached')).toHaveLength(1);
    await checkSla(t.env, clock + 60_000);
    expect(await notes('conversation.sla_breached')).toHaveLength(1);
    expect(await notes('conversation.sla_breaching_soon')).toHaveLength(1);
    const events = await t.database.db.selectFrom('events').select(['type', 'data']).where('account_id', '=', s.a.accountId).where('type', '=', 'conversation.sla_breached').execute();
    expect(events).toHaveLength(1);
    expect(JSON.parse(events[0]!.data)).toMatchObject({ conversationId: late, target: 'first_response', assigneeId: ana.user.id });

    // "Fresh one" is unassigned: nobody to tell, and the job keeps coming back while it is due.
    await expect(slaCheckJob({}, { env: t.env } as never)).rejects.toBeInstanceOf(RunAgain);
    const before = (await checkSla(t.env, clock)).due;
    // Answering both: nothing of this inbox is due any more (the other tests' conversations still are).
    await replyStored(s.conn, fresh, 'Fresh one', clock);
    await replyStored(s.conn, late, 'Late one', clock);
    expect(await listIds(ana.token, s.inbox.id, 'breached')).toEqual([]);
    expect((await checkSla(t.env, clock)).due).toBe(before - 1);
    const rows = await t.database.db.selectFrom('conversation_sla').select(['conversation_id', 'next_due_at']).where('inbox_id', '=', s.inbox.id).execute();
    expect(rows.map((r) => r.next_due_at)).toEqual([null, null]);
    expect(iso(clock)).toBe('2026-03-02T16:05:00.000Z');
  });
});

describe.skipIf(usingPostgres)('SQLite plans of the SLA check', () => {
  it('reads the running targets by their partial index, not every conversation that ever had one', async () => {
    for (const q of [inboxesWithRunningTargets(t.env.db).compile(), stillDueCount(t.env.db).compile()]) {
      const plan = await sqlitePlan(t.env.db, q);
      expect(plan.filter((d) => /\bconversation_sla\b/.test(d))).toEqual([expect.stringMatching(/^SCAN conversation_sla USING (COVERING )?INDEX conversation_sla_active_idx$/)]);
    }
  });
});
