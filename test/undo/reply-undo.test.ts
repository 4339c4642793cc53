/**
 * Undo send of team inbox replies (issue 21 item 1), against the real submission server and Dovecot, on
 * SQLite or PostgreSQL (DATABASE_URL): a reply with `undo: true` waits for the agent's delay (the outbox
 * row's send time); Undo inside it cancels it (nothing reaches the server, the conversation gets no
 * outbound message); after it Undo is refused with 409 too_late_to_undo and the reply goes out once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createTestApp, type TestApp } from '../support/app.js';
import { insertConnection } from '../support/connections.js';
import { startDovecot, type TestDovecot } from '../harness/dovecot.js';
import { startSubmissionServer, type TestSubmissionServer } from '../harness/submission.js';
import { sendOutboxMessage } from '../../src/features/outbox/sender.js';
import { RunAgain } from '../../src/platform/jobs/worker.js';
import { setPrivateHostsForTest } from '../support/local-hosts.js';
import { deliver, ingestorOf, ok, rawMail, uniq } from '../inbox/support.js';

let t: TestApp;
let dovecot: TestDovecot;
let smtp: TestSubmissionServer;
let restoreAllow: (() => void) | undefined;
const procs: ChildProcess[] = [];
beforeAll(async () => {
  restoreAllow = setPrivateHostsForTest(['127.0.0.1']);
  dovecot = await startDovecot();
  smtp = await startSubmissionServer({ dovecot });
  t = await createTestApp();
}, 60_000);
afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await t?.close();
  await smtp?.stop();
  await dovecot?.stop();
  restoreAllow?.();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function setup() {
  const tag = uniq();
  const team = `support-${tag}@acme.test`;
  const customer = `carla-${tag}@customer.test`;
  await dovecot.addUser(team, 'team-pw');
  await dovecot.addUser(customer, 'carla-pw');
  const a = await t.account('enterprise');
  const inbox = await ok(t, a.token, 'POST', '/api/v1/inboxes', { name: 'Support' });
  const conn = await insertConnection(t, {
    accountId: a.accountId,
    userId: a.adminUserId,
    type: 'team',
    address: team,
    inboxId: inbox.id,
    smtp: { host: '127.0.0.1', port: smtp.port, username: team, password: 'team-pw' },
  });
  const conversationId = await deliver(t, conn, rawMail({ subject: 'Late order', from: customer, to: team, body: 'Where is it?' }));
  return { a, conversationId, customer };
}
const toCustomer = (customer: string) => smtp.messages.filter((m) => m.envelope.rcptTo.includes(customer));

describe('undo send: replies', () => {
  it('a reply waits for the agent\'s delay; Undo cancels it and nothing is sent', async () => {
    const s = await setup();
    await ok(t, s.a.token, 'PATCH', `/api/v1/users/${s.a.adminUserId}`, { undoSendSeconds: 15 });
    const attachments = [{ filename: 'label.txt', contentType: 'text/plain', contentBase64: Buffer.from('tracking 42').toString('base64') }];
    const before = Date.now();
    const sent = await ok(t, s.a.token, 'POST', `/api/v1/conversations/${s.conversationId}/replies`, { mode: 'reply', text: 'On its way.', attachments, undo: true });
    const until = Date.parse(sent.undoUntil);
    expect(until).toBeGreaterThanOrEqual(before + 15_000);
    const row = await t.database.db.selectFrom('outbox').selectAll().where('id', '=', sent.outboxId).executeTakeFirstOrThrow();
    expect(row.state).toBe('queued');
    expect(Number(row.send_at)).toBe(until);
    await expect(sendOutboxMessage(ingestorOf(t), sent.outboxId)).rejects.toBeInstanceOf(RunAgain);

    // Another conversation's id does not reach it.
    const other = await setup();
    const wrong = await t.api(s.a.token, 'POST', `/api/v1/conversations/${other.conversationId}/replies/${sent.outboxId}/undo`);
    expect(wrong.statusCode).toBe(404);

    const undo = await t.api(s.a.token, 'POST', `/api/v1/conversations/${s.conversationId}/replies/${sent.outboxId}/undo`);
    expect(undo.statusCode, undo.body).toBe(200);
    expect(undo.json()).toEqual({ outboxId: sent.outboxId, undone: true });
    expect(await sendOutboxMessage(ingestorOf(t), sent.outboxId)).toBe('skipped');
    const thread = await ok(t, s.a.token, 'GET', `/api/v1/conversations/${s.conversationId}`);
    expect(thread.messages.map((m: any) => m.direction)).toEqual(['inbound']);
    expect(toCustomer(s.customer)).toHaveLength(0);
  });

  it('without undo (API clients) a reply leaves at once', async () => {
    const s = await setup();
    const sent = await ok(t, s.a.token, 'POST', `/api/v1/conversations/${s.conversationId}/replies`, { mode: 'reply', text: 'Now.' });
    expect(sent.undoUntil).toBeNull();
    expect(await sendOutboxMessage(ingestorOf(t), sent.outboxId)).toBe('sent');
  });

  it('after the delay Undo is refused (too_late_to_undo) and the reply is sent exactly once', async () => {
    const s = await setup();
    const sent = await ok(t, s.a.token, 'POST', `/api/v1/conversations/${s.conversationId}/replies`, { mode: 'reply', text: 'On its way.', undoDelaySeconds: 1 });
    await sleep(1100);
    const late = await t.api(s.a.token, 'POST', `/api/v1/conversations/${s.conversationId}/replies/${sent.outboxId}/undo`);
    expect(late.statusCode, late.body).toBe(409);
    expect(late.json().error.code).toBe('too_late_to_undo');
    expect(await sendOutboxMessage(ingestorOf(t), sent.outboxId)).toBe('sent');
    expect(await sendOutboxMessage(ingestorOf(t), sent.outboxId)).toBe('skipped');
    const after = await t.api(s.a.token, 'POST', `/api/v1/conversations/${s.conversationId}/replies/${sent.outboxId}/undo`);
    expect(after.json().error.code).toBe('too_late_to_undo');
    await smtp.waitForMessage((m) => m.envelope.rcptTo.includes(s.customer));
    expect(toCustomer(s.customer)).toHaveLength(1);
  });

  it('undoDelaySeconds outside 0 to 30 is refused', async () => {
    const s = await setup();
    const r = await t.api(s.a.token, 'POST', `/api/v1/conversations/${s.conversationId}/replies`, { mode: 'reply', text: 'x', undoDelaySeconds: 31 });
    expect(r.statusCode).toBe(400);
  });

  it('durable: a worker process started during the delay sends the reply once, after it', async () => {
    const s = await setup();
    const sent = await ok(t, s.a.token, 'POST', `/api/v1/conversations/${s.conversationId}/replies`, { mode: 'reply', text: 'Durable.', undoDelaySeconds: 4 });
    const until = Date.parse(sent.undoUntil);
    const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: t.database.dataDir, LOG_LEVEL: 'silent', MAILROOM_ALLOW_PRIVATE_HOSTS: '127.0.0.1', MAILROOM_ADMIN_EMAIL: `boot-${Date.now()}@example.org` };
    if (t.database.pgSchema) env.DATABASE_SCHEMA = t.database.pgSchema;
    procs.push(spawn(process.execPath, ['--import', 'tsx', path.resolve('src/app/cli.ts'), 'serve', '--role', 'worker'], { env, stdio: 'ignore' }));
    const m = await smtp.waitForMessage((x) => x.envelope.rcptTo.includes(s.customer), 60_000);
    expect(m.receivedAt.getTime()).toBeGreaterThanOrEqual(until);
    await sleep(1500);
    const row = await t.database.db.selectFrom('outbox').selectAll().where('id', '=', sent.outboxId).executeTakeFirstOrThrow();
    expect(row.state).toBe('sent');
    expect(row.attempts).toBe(1);
    expect(toCustomer(s.customer)).toHaveLength(1);
  }, 90_000);
});
