/**
 * Notification email against a real SMTP server and Dovecot: with NOTIFY_SMTP_URL set, an assignment and
 * a mention reach the agent's own mailbox as one digest marked as automatic mail; a user who turns it off
 * gets none (and only they can turn it off); the digest sent back into one of our inboxes is recognised as
 * our own loop and opens no conversation.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImapFlow } from 'imapflow';
import { JobWorker } from '../../src/platform/jobs/worker.js';
import { createIngestor, jobHandlersFor } from '../../src/app/engine.js';
import { ingestBatch } from '../../src/features/ingest/ingest.js';
import { closeDefaultParsePool, parseMessage } from '../../src/mail/parse/index.js';
import { startDovecot, type TestDovecot } from '../harness/dovecot.js';
import { startSubmissionServer, type TestSubmissionServer } from '../harness/submission.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { deliver, inboxFixture, ingestorOf, member, ok, rawMail, uniq } from './support.js';

let t: TestApp;
let dovecot: TestDovecot;
let smtp: TestSubmissionServer;
let worker: JobWorker;
const NOTIFIER = `notifier-${uniq()}@mailroom.test`;

beforeAll(async () => {
  dovecot = await startDovecot();
  smtp = await startSubmissionServer({ dovecot });
  await dovecot.addUser(NOTIFIER, 'notifier-pw');
  t = await createTestApp({ configEnv: { NOTIFY_SMTP_URL: `smtp://${encodeURIComponent(NOTIFIER)}:notifier-pw@127.0.0.1:${smtp.port}/?ignoreTLS=true`, NOTIFY_FROM: `Mailroom <${NOTIFIER}>`, NOTIFY_BATCH_SECONDS: '0.3' } });
  worker = new JobWorker({ env: t.env, handlers: jobHandlersFor(createIngestor(t.env)), queues: ['default'], pollMs: 25, log: pino({ level: 'silent' }) });
  worker.start();
}, 60_000);
afterAll(async () => {
  await worker?.stop();
  await t?.close();
  await smtp?.stop();
  await dovecot?.stop();
  await closeDefaultParsePool();
});

async function mailbox(user: string): Promise<Array<{ subject: string; source: string }>> {
  const client = new ImapFlow({ host: '127.0.0.1', port: dovecot.imapPort, secure: false, auth: { user, pass: 'agent-pw' }, logger: false });
  await client.connect();
  try {
    await client.mailboxOpen('INBOX');
    const out: Array<{ subject: string; source: string }> = [];
    for await (const m of client.fetch('1:*', { envelope: true, source: true })) out.push({ subject: m.envelope?.subject ?? '', source: m.source?.toString('utf8') ?? '' });
    return out;
  } catch (err) {
    if (/Nonexistent|empty|Invalid messageset/i.test(String(err))) return [];
    throw err;
  } finally {
    await client.logout().catch(() => undefined);
  }
}

async function until(what: string, cond: () => Promise<boolean>) {
  for (let k = 0; k < 300; k++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const noJobsLeft = async () => (await t.database.db.selectFrom('jobs').select('id').where('kind', '=', 'notifications.email').where('state', 'in', ['queued', 'running']).execute()).length === 0;

describe('notification email', () => {
  it('an assignment and a mention arrive as one automatic digest; turned off, nothing more; the digest never loops', async () => {
    const s = await inboxFixture(t);
    const anaEmail = `ana-${uniq()}@mailroom.test`;
    await dovecot.addUser(anaEmail, 'agent-pw');
    const ana = await member(t, s.a, { name: 'Ana Agent', email: anaEmail });
    const id = await deliver(t, s.conn, rawMail({ subject: 'Broken invoice' }));
    await ok(t, s.a.token, 'POST', `/api/v1/conversations/${id}/assign`, { assigneeId: ana.user.id });
    await ok(t, s.a.token, 'POST', `/api/v1/conversations/${id}/comments`, { body: `@[Ana Agent](${ana.user.id}) can you look today?`, mentions: [ana.user.id] });

    await until('the digest in Ana\'s mailbox', async () => (await mailbox(anaEmail)).length > 0);
    await until('the job to finish', noJobsLeft);
    const mails = await mailbox(anaEmail);
    expect(mails).toHaveLength(1);
    const digest = mails[0]!;
    expect(digest.subject).toBe('2 new notifications in Mailroom');
    expect(digest.source).toMatch(/^Auto-Submitted: auto-generated/im);
    expect(digest.source).toMatch(new RegExp(`^X-Mailroom-Loop: ${s.a.accountId}`, 'im'));
    const parsed = await parseMessage(Buffer.from(digest.source));
    expect(parsed.text).toContain('assigned you a conversation in Support: Broken invoice');
    expect(parsed.text).toContain('mentioned you');
    expect(parsed.text).toContain(`inbox?inbox=${s.inbox.id}&c=${id}`);
    const emailed = await t.database.db.selectFrom('notifications').select('emailed_at').where('user_id', '=', ana.user.id).execute();
    expect(emailed.length).toBeGreaterThanOrEqual(2);
    expect(emailed.every((n) => n.emailed_at !== null)).toBe(true);

    // Only Ana decides; once off, the next assignment is in-app only.
    const refused = await t.api(s.a.token, 'PATCH', `/api/v1/users/${ana.user.id}`, { emailNotifications: false });
    expect(refused.statusCode, refused.body).toBe(403);
    expect((await ok(t, ana.token, 'PATCH', `/api/v1/users/${ana.user.id}`, { emailNotifications: false })).emailNotifications).toBe(false);
    await ok(t, s.a.token, 'POST', `/api/v1/conversations/${id}/assign`, { assigneeId: null });
    await ok(t, s.a.token, 'POST', `/api/v1/conversations/${id}/assign`, { assigneeId: ana.user.id });
    await new Promise((r) => setTimeout(r, 400));
    await until('the job to finish', noJobsLeft);
    expect(await mailbox(anaEmail)).toHaveLength(1);
    expect((await ok(t, ana.token, 'GET', '/api/v1/notifications')).notifications.length).toBeGreaterThanOrEqual(3);

    // The digest, delivered back to the team address, is our own loop: kept out of the inbox as spam.
    const r = await ingestBatch(ingestorOf(t), s.conn, [{ raw: Buffer.from(digest.source), source: 'smtp', direction: 'inbound', receivedAt: Date.now() }]);
    const stored = await t.database.db.selectFrom('messages').select(['classification', 'conversation_id']).where('id', '=', r.messageIds[0]!).executeTakeFirstOrThrow();
    expect(stored.classification).toBe('loop');
    expect((await t.database.db.selectFrom('conversations').select('status').where('id', '=', stored.conversation_id!).executeTakeFirstOrThrow()).status).toBe('spam');
  });
});
