/**
 * The durable outbox against a real submission server that delivers into Dovecot: sent once, stored in
 * its conversation, appended to the Sent folder once; a crash mid-send is never resent; permanent and
 * temporary SMTP failures; the plan's per-minute cap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImapFlow } from 'imapflow';
import { createTestApp, type TestApp } from '../support/app.js';
import { allowLocalMailServers } from '../support/local-hosts.js';
import { insertConnection } from '../support/connections.js';
import { startDovecot, type TestDovecot } from '../harness/dovecot.js';
import { startSubmissionServer, type TestSubmissionServer } from '../harness/submission.js';
import { createIngestor } from '../../src/app/engine.js';
import type { Ingestor } from '../../src/features/ingest/ingest.js';
import { queueEmail } from '../../src/features/outbox/commands/queueEmail.js';
import { appendToSent, SENT_COPY_GRACE_MS, sendOutboxMessage, sendLimitDecision } from '../../src/features/outbox/sender.js';
import { RetryLater, RunAgain } from '../../src/platform/jobs/worker.js';
import type { ConnectionsTable } from '../../src/platform/database/schema.js';

let t: TestApp;
let dovecot: TestDovecot;
let smtp: TestSubmissionServer;
let ingestor: Ingestor;
let account: { accountId: string; adminUserId: string };
allowLocalMailServers();

beforeAll(async () => {
  dovecot = await startDovecot();
  smtp = await startSubmissionServer({ dovecot });
  t = await createTestApp();
  ingestor = createIngestor(t.env);
  account = await t.account('free');
});
afterAll(async () => {
  await t?.close();
  await smtp?.stop();
  await dovecot?.stop();
});

let n = 0;
async function setup() {
  n += 1;
  const me = `me${n}-${Math.random().toString(36).slice(2, 6)}@example.test`;
  const customer = `customer${n}-${Math.random().toString(36).slice(2, 6)}@example.test`;
  await dovecot.addUser(me, 'pw-me');
  await dovecot.addUser(customer, 'pw-customer');
  const conn = await insertConnection(t, {
    accountId: account.accountId,
    userId: account.adminUserId,
    type: 'personal',
    address: me,
    imap: { host: '127.0.0.1', port: dovecot.imapPort, username: me, password: 'pw-me' },
    smtp: { host: '127.0.0.1', port: smtp.port, username: me, password: 'pw-me' },
    folders: ['INBOX', 'Sent'],
    sentFolder: 'Sent',
  });
  await t.database.db.updateTable('connections').set({ is_default_from: 0 }).where('id', '=', conn.id).execute();
  return { me, customer, conn };
}

async function queue(conn: ConnectionsTable, to: string, subject: string) {
  return t.database.db.transaction().execute((trx) =>
    queueEmail(trx, { now: Date.now(), putBlob: (b) => ingestor.blobs.put(b), replyTokenSecret: ingestor.replyTokenSecret, messageIdDomain: 'mailroom.test' }, {
      connection: conn,
      userId: account.adminUserId,
      email: { from: { name: 'Me', address: conn.address }, to: [{ address: to }], subject, text: `hello from ${subject}` },
    }),
  );
}

async function folderMessages(user: string, password: string, folder: string) {
  const c = new ImapFlow(dovecot.imapOptions(user, password));
  c.on('error', () => {});
  await c.connect();
  try {
    await c.mailboxOpen(folder);
    const out: string[] = [];
    for await (const m of c.fetch('1:*', { envelope: true })) out.push(m.envelope?.messageId ?? '');
    return out;
  } catch {
    return [];
  } finally {
    await c.logout();
  }
}

const outboxRow = (id: string) => t.database.db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

describe('outbox', () => {
  it('sends once through the connection SMTP, stores the sent copy in its conversation and appends it to Sent once', async () => {
    const { me, customer, conn } = await setup();
    const q = await queue(conn, customer, 'Quote for you');
    expect(await sendOutboxMessage(ingestor, q.outboxId)).toBe('sent');
    expect(await sendOutboxMessage(ingestor, q.outboxId)).toBe('skipped');
    expect(smtp.messages.filter((m) => m.raw.toString().includes(q.messageId))).toHaveLength(1);
    expect(await folderMessages(customer, 'pw-customer', 'INBOX')).toContain(q.messageId);
    const row = await outboxRow(q.outboxId);
    expect(row.state).toBe('sent');
    const msg = await t.database.db.selectFrom('messages').selectAll().where('outbox_id', '=', q.outboxId).executeTakeFirstOrThrow();
    expect(msg.direction).toBe('outbound');
    expect(msg.conversation_id).toBeTruthy();
    await appendToSent(ingestor, q.outboxId);
    await t.database.db.updateTable('outbox').set({ appended_to_sent: 0 }).where('id', '=', q.outboxId).execute(); // as if we crashed after APPEND
    await appendToSent(ingestor, q.outboxId);
    expect((await folderMessages(me, 'pw-me', 'Sent')).filter((id) => id === q.messageId)).toHaveLength(1);
  });

  it('never sends twice: a crash mid-send, not in Sent on a server not known to file its mail, leaves the message uncertain for a person to check', async () => {
    const { customer, conn } = await setup();
    const q = await queue(conn, customer, 'Crash test');
    // Older than the wait for a provider's Sent copy (test/sequences/exactly-once.test.ts covers the Sent folder check).
    await t.database.db.updateTable('outbox').set({ state: 'sending', attempt_started_at: Date.now() - SENT_COPY_GRACE_MS - 1000, attempts: 1 }).where('id', '=', q.outboxId).execute();
    const before = smtp.messages.length;
    expect(await sendOutboxMessage(ingestor, q.outboxId)).toBe('uncertain');
    expect(smtp.messages.length).toBe(before);
    expect((await outboxRow(q.outboxId)).last_error).toMatch(/may or may not have gone out/);
  });

  it('a permanent refusal fails with the server reason; a temporary one retries later', async () => {
    const { customer, conn } = await setup();
    const perm = await queue(conn, customer, 'Permanent');
    smtp.failNext({ code: 554, message: 'Policy rejection', stage: 'rcpt' });
    expect(await sendOutboxMessage(ingestor, perm.outboxId)).toBe('failed');
    expect((await outboxRow(perm.outboxId)).last_error).toMatch(/refused/);
    const temp = await queue(conn, customer, 'Temporary');
    smtp.failNext({ code: 451, message: 'Try later', stage: 'mail' });
    await expect(sendOutboxMessage(ingestor, temp.outboxId)).rejects.toBeInstanceOf(RetryLater);
    expect((await outboxRow(temp.outboxId)).state).toBe('queued');
    expect(await sendOutboxMessage(ingestor, temp.outboxId)).toBe('sent');
  });

  it('waits when the per-minute cap of the plan is reached', async () => {
    const { customer, conn } = await setup();
    await t.database.db.updateTable('connections').set({ send_limit_minute: 1 }).where('id', '=', conn.id).execute();
    const fresh = await t.database.db.selectFrom('connections').selectAll().where('id', '=', conn.id).executeTakeFirstOrThrow();
    const a = await queue(fresh, customer, 'one');
    const b = await queue(fresh, customer, 'two');
    expect(await sendOutboxMessage(ingestor, a.outboxId)).toBe('sent');
    await expect(sendOutboxMessage(ingestor, b.outboxId)).rejects.toBeInstanceOf(RunAgain);
    expect((await outboxRow(b.outboxId)).state).toBe('queued');
  });

  it.each([
    [{ perDay: 10, perMinute: 2, sentLastDay: 10, sentLastMinute: 0, oldestInDay: 1000, oldestInMinute: null }, { ok: false, reason: 'per_day', retryAt: 1000 + 86_400_000 }],
    [{ perDay: 10, perMinute: 2, sentLastDay: 3, sentLastMinute: 2, oldestInDay: 1000, oldestInMinute: 5000 }, { ok: false, reason: 'per_minute', retryAt: 65_000 }],
    [{ perDay: 10, perMinute: 2, sentLastDay: 3, sentLastMinute: 1, oldestInDay: 1000, oldestInMinute: 5000 }, { ok: true }],
  ])('send limit decision %#', (state, expected) => {
    expect(sendLimitDecision(state, 10_000)).toEqual(expected);
  });
});
