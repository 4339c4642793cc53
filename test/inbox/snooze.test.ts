/**
 * Snooze end: snoozing queues a job at the snooze's time; the job opens the conversation again, records
 * why, tells the assignee (once) and publishes the change, without anyone reading the inbox. A snooze
 * moved later is not ended by the earlier job.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobWorker } from '../../src/platform/jobs/worker.js';
import { createIngestor, jobHandlersFor } from '../../src/app/engine.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { deliver, inboxFixture, member, ok, rawMail } from './support.js';

let t: TestApp;
let worker: JobWorker;
beforeAll(async () => {
  t = await createTestApp();
  worker = new JobWorker({ env: t.env, handlers: jobHandlersFor(createIngestor(t.env)), queues: ['default'], pollMs: 25, log: pino({ level: 'silent' }) });
  worker.start();
});
afterAll(async () => {
  await worker?.stop();
  await t?.close();
});

const statusOf = async (id: string) => (await t.database.db.selectFrom('conversations').select(['status', 'snoozed_until']).where('id', '=', id).executeTakeFirstOrThrow()).status;

async function until(what: string, cond: () => Promise<boolean>) {
  for (let k = 0; k < 200; k++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('snooze end', () => {
  it('opens the conversation at its time and tells the assignee once', async () => {
    const s = await inboxFixture(t);
    const ana = await member(t, s.a, { name: 'Ana' });
    const id = await deliver(t, s.conn, rawMail({ subject: 'Call me back next week' }));
    await ok(t, s.a.token, 'POST', `/api/v1/conversations/${id}/assign`, { assigneeId: ana.user.id });
    const at = Date.now() + 400;
    await ok(t, ana.token, 'POST', `/api/v1/conversations/${id}/status`, { status: 'snoozed', snoozedUntil: new Date(at).toISOString() });
    const job = await t.database.db.selectFrom('jobs').select(['kind', 'run_at', 'state']).where('dedupe_key', '=', `snooze:${id}:${at}`).executeTakeFirstOrThrow();
    expect(job).toMatchObject({ kind: 'inbox.snooze_ended' });
    expect(Number(job.run_at)).toBe(at);
    expect(await statusOf(id)).toBe('snoozed');

    await until('the conversation to open', async () => (await statusOf(id)) === 'open');
    expect(Date.now()).toBeGreaterThanOrEqual(at);
    const notes = (await ok(t, ana.token, 'GET', '/api/v1/notifications')).notifications.filter((n: any) => n.kind === 'conversation.snooze_ended');
    expect(notes).toHaveLength(1);
    expect(notes[0].message).toBe('The snooze ended on "Call me back next week": it is open again.');
    const thread = await ok(t, ana.token, 'GET', `/api/v1/conversations/${id}`);
    expect(thread.activity.at(-1).data).toMatchObject({ reason: 'snooze_ended', to: 'open' });
    // Reading the inbox afterwards wakes nothing again and notifies nobody again.
    await ok(t, ana.token, 'GET', `/api/v1/inboxes/${s.inbox.id}/conversations`);
    expect((await ok(t, ana.token, 'GET', '/api/v1/notifications')).notifications.filter((n: any) => n.kind === 'conversation.snooze_ended')).toHaveLength(1);
  });

  it('a snooze moved later is not ended by the earlier time', async () => {
    const s = await inboxFixture(t);
    const id = await deliver(t, s.conn, rawMail({ subject: 'Later' }));
    const soon = Date.now() + 200;
    await ok(t, s.a.token, 'POST', `/api/v1/conversations/${id}/status`, { status: 'snoozed', snoozedUntil: new Date(soon).toISOString() });
    const first = await t.database.db.selectFrom('jobs').select('id').where('dedupe_key', '=', `snooze:${id}:${soon}`).executeTakeFirstOrThrow();
    const later = Date.now() + 3_600_000;
    await ok(t, s.a.token, 'POST', `/api/v1/conversations/${id}/status`, { status: 'snoozed', snoozedUntil: new Date(later).toISOString() });
    await until('the first job to finish', async () => (await t.database.db.selectFrom('jobs').select('state').where('id', '=', first.id).executeTakeFirstOrThrow()).state === 'done');
    expect(await statusOf(id)).toBe('snoozed');
  });
});
