/**
 * Undo send of one-to-one email (issue 21 item 1), against the real submission server and Dovecot, on
 * SQLite or PostgreSQL (DATABASE_URL): the per-user delay setting; an email inside its window is held
 * (the outbox refuses to take it) and Undo cancels it (nothing reaches the server); after the window Undo
 * is refused (409 too_late_to_undo) and the email goes out exactly once; a scheduled email is not delayed
 * again; and the hold is durable: a new worker process, started after the app that queued it, sends it
 * once, after the delay.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { contact, deliverNow, startWorld, uniq, type World } from '../personal/support.js';
import { sendOutboxMessage } from '../../src/features/outbox/sender.js';
import { RunAgain } from '../../src/platform/jobs/worker.js';

let w: World;
const procs: ChildProcess[] = [];
beforeAll(async () => {
  w = await startWorld();
}, 60_000);
afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await w?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const send = async (contactId: string, body: Record<string, unknown>) => {
  const r = await w.t.api(w.seller.token, 'POST', `/api/v1/contacts/${contactId}/emails`, { subject: 'Hello', html: '<p>Hi</p>', ...body });
  expect(r.statusCode, r.body).toBe(201);
  return r.json() as { id: string; state: string; undoUntil: string | null };
};
const outboxOf = async (personalEmailId: string) => {
  const pe = await w.t.database.db.selectFrom('personal_emails').select('outbox_id').where('id', '=', personalEmailId).executeTakeFirstOrThrow();
  return w.t.database.db.selectFrom('outbox').selectAll().where('id', '=', pe.outbox_id).executeTakeFirstOrThrow();
};
const submittedTo = (address: string) => w.smtp.messages.filter((m) => m.envelope.rcptTo.includes(address));

describe('undo send: one-to-one email', () => {
  it('the delay is a user setting: 10 s by default, 0 to 30, the user only', async () => {
    const me = await w.t.api(w.seller.token, 'GET', `/api/v1/users/${w.seller.userId}`);
    expect(me.statusCode, me.body).toBe(200);
    expect(me.json().undoSendSeconds).toBe(10);
    const bad = await w.t.api(w.seller.token, 'PATCH', `/api/v1/users/${w.seller.userId}`, { undoSendSeconds: 31 });
    expect(bad.statusCode).toBe(400);
    const other = await w.t.api(w.adminToken, 'PATCH', `/api/v1/users/${w.seller.userId}`, { undoSendSeconds: 3 });
    expect(other.statusCode).toBe(403);
    const ok = await w.t.api(w.seller.token, 'PATCH', `/api/v1/users/${w.seller.userId}`, { undoSendSeconds: 20 });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().undoSendSeconds).toBe(20);
  });

  it('held for the sender\'s delay; Undo inside it cancels it and nothing is sent', async () => {
    const address = `undo-${uniq()}@client.test`;
    const c = await contact(w, { firstName: 'Una', emails: [address], mailbox: true });
    const before = Date.now();
    const sent = await send(c.id, { undo: true });
    expect(sent.state).toBe('queued');
    const until = Date.parse(sent.undoUntil!);
    expect(until).toBeGreaterThanOrEqual(before + 20_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 20_000);
    const row = await outboxOf(sent.id);
    expect(Number(row.send_at)).toBe(until);
    // The outbox does not take it inside the window.
    await expect(sendOutboxMessage(w.ingestor, row.id)).rejects.toBeInstanceOf(RunAgain);
    const undo = await w.t.api(w.seller.token, 'POST', `/api/v1/personal-emails/${sent.id}/undo`);
    expect(undo.statusCode, undo.body).toBe(200);
    expect(undo.json().state).toBe('cancelled');
    expect(await sendOutboxMessage(w.ingestor, row.id)).toBe('skipped');
    const again = await w.t.api(w.seller.token, 'POST', `/api/v1/personal-emails/${sent.id}/undo`);
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('already_undone');
    expect(submittedTo(address)).toHaveLength(0);
  });

  it('only the sender may undo', async () => {
    const c = await contact(w, { emails: [`own-${uniq()}@client.test`] });
    const sent = await send(c.id, { undoDelaySeconds: 30 });
    const r = await w.t.api(w.adminToken, 'POST', `/api/v1/personal-emails/${sent.id}/undo`);
    expect(r.statusCode).toBe(404);
    expect((await outboxOf(sent.id)).state).toBe('queued');
  });

  it('after the delay Undo is refused (too_late_to_undo) and the email is sent exactly once', async () => {
    const address = `late-${uniq()}@client.test`;
    const c = await contact(w, { emails: [address], mailbox: true });
    const sent = await send(c.id, { undoDelaySeconds: 1 });
    await sleep(1100);
    const late = await w.t.api(w.seller.token, 'POST', `/api/v1/personal-emails/${sent.id}/undo`);
    expect(late.statusCode, late.body).toBe(409);
    expect(late.json().error.code).toBe('too_late_to_undo');
    const d = await deliverNow(w, sent.id);
    expect(d.outcome).toBe('sent');
    expect(await sendOutboxMessage(w.ingestor, d.outbox.id)).toBe('skipped');
    // Once claimed or sent, still refused.
    const after = await w.t.api(w.seller.token, 'POST', `/api/v1/personal-emails/${sent.id}/undo`);
    expect(after.json().error.code).toBe('too_late_to_undo');
    expect(submittedTo(address)).toHaveLength(1);
  });

  it('a scheduled email is not delayed again', async () => {
    const c = await contact(w, { emails: [`sched-${uniq()}@client.test`] });
    const at = new Date(Date.now() + 3600_000);
    const sent = await send(c.id, { undo: true, sendAt: at.toISOString() });
    expect(sent.state).toBe('scheduled');
    expect(sent.undoUntil).toBeNull();
    expect(Number((await outboxOf(sent.id)).send_at)).toBe(at.getTime());
    const undo = await w.t.api(w.seller.token, 'POST', `/api/v1/personal-emails/${sent.id}/undo`);
    expect(undo.statusCode).toBe(409);
    expect(undo.json().error.code).toBe('invalid_state_change');
  });

  it('durable: a worker process started after the send takes it after the delay and sends it once', async () => {
    const address = `durable-${uniq()}@client.test`;
    const c = await contact(w, { emails: [address], mailbox: true });
    const sent = await send(c.id, { undoDelaySeconds: 4 });
    const until = Date.parse(sent.undoUntil!);
    // No worker ran in this process (the app only queued it): a new worker process picks the job up.
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATA_DIR: w.t.database.dataDir,
      LOG_LEVEL: 'silent',
      MAILROOM_ALLOW_PRIVATE_HOSTS: '127.0.0.1',
      MAILROOM_ADMIN_EMAIL: `boot-${Date.now()}@example.org`,
      PUBLIC_URL: 'https://crm.mailroom.test',
    };
    if (w.t.database.pgSchema) env.DATABASE_SCHEMA = w.t.database.pgSchema;
    procs.push(spawn(process.execPath, ['--import', 'tsx', path.resolve('src/app/cli.ts'), 'serve', '--role', 'worker'], { env, stdio: 'ignore' }));
    const m = await w.smtp.waitForMessage((x) => x.envelope.rcptTo.includes(address), 60_000);
    expect(m.receivedAt.getTime()).toBeGreaterThanOrEqual(until);
    await sleep(1500);
    const row = await outboxOf(sent.id);
    expect(row.state).toBe('sent');
    expect(row.attempts).toBe(1);
    expect(submittedTo(address)).toHaveLength(1);
  }, 90_000);
});
