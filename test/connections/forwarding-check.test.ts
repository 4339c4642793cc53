/**
 * The forwarding check of a team address connected by forwarding, with real peers: the test email leaves
 * through the address's own SMTP server (the submission server in front of Dovecot), "the provider"
 * forwards what it received to our inbound SMTP at the generated forwarding address, and the connection
 * shows forwarding verified, with no conversation created. A wrong SMTP password is explained.
 */
import nodemailer from 'nodemailer';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobWorker } from '../../src/platform/jobs/worker.js';
import { createIngestor, jobHandlersFor } from '../../src/app/engine.js';
import { inboundWiring } from '../../src/app/features.js';
import { startInboundSmtp, type RunningInboundSmtp } from '../../src/mail/inbound-smtp.js';
import { startDovecot, type TestDovecot } from '../harness/dovecot.js';
import { startSubmissionServer, type TestSubmissionServer } from '../harness/submission.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { insertConnection } from '../support/connections.js';
import { allowLocalMailServers } from '../support/local-hosts.js';

allowLocalMailServers();

let t: TestApp;
let dovecot: TestDovecot;
let smtp: TestSubmissionServer;
let inbound: RunningInboundSmtp;
let worker: JobWorker;
const SUPPORT = `support-${process.pid}@acme.test`;

beforeAll(async () => {
  dovecot = await startDovecot();
  smtp = await startSubmissionServer({ dovecot });
  await dovecot.addUser(SUPPORT, 'support-pw');
  t = await createTestApp();
  const ingestor = createIngestor(t.env);
  inbound = await startInboundSmtp(ingestor, { ...inboundWiring(), port: 0, host: '127.0.0.1', maxMessageBytes: 1_000_000, maxClients: 10, connectionsPerMinute: 1000, log: pino({ level: 'silent' }) });
  worker = new JobWorker({ env: t.env, handlers: jobHandlersFor(ingestor) /* what a worker process runs: here, the forwarding test job */, queues: ['default'], pollMs: 25, log: pino({ level: 'silent' }) });
  worker.start();
}, 60_000);
afterAll(async () => {
  await worker?.stop();
  await inbound?.close();
  await t?.close();
  await smtp?.stop();
  await dovecot?.stop();
});

async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  for (let k = 0; k < 200; k++) {
    const v = await get();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('forwarding check', () => {
  it('the test email sent through the address comes back through forwarding: verified, no conversation', async () => {
    const a = await t.account('professional');
    const inbox = (await t.api(a.token, 'POST', '/api/v1/inboxes', { name: 'Support' })).json();
    const conn = await insertConnection(t, { accountId: a.accountId, userId: a.adminUserId, type: 'team', address: SUPPORT, inboxId: inbox.id, transport: 'forwarding', smtp: { host: '127.0.0.1', port: smtp.port, username: SUPPORT, password: 'support-pw' } });
    const get = async () => (await t.api(a.token, 'GET', `/api/v1/connections/${conn.id}`)).json();
    expect((await get()).forwardingCheck).toMatchObject({ state: 'never', message: expect.stringMatching(/^Not checked yet/) });
    // Ordinary mail first: inbound SMTP has looked the address up (and remembers that row, without a test
    // token, for RECIPIENT_CACHE_MS) when the test comes back.
    const deliver = (raw: string | Buffer) =>
      nodemailer.createTransport({ host: '127.0.0.1', port: inbound.port, secure: false, ignoreTLS: true }).sendMail({ envelope: { from: SUPPORT, to: [conn.forwarding_address!] }, raw });
    await deliver(`From: ${SUPPORT}\r\nTo: ${SUPPORT}\r\nSubject: before the test\r\nMessage-ID: <before-${conn.id}@acme.test>\r\n\r\nhello\r\n`);

    smtp.clear();
    const asked = await t.api(a.token, 'POST', `/api/v1/connections/${conn.id}/forwarding-test`);
    expect(asked.statusCode, asked.body).toBe(202);
    expect(asked.json().forwardingCheck.state).toBe('sending');
    const waiting = await until('the test to be sent', get, (c) => c.forwardingCheck.state === 'waiting');
    expect(waiting.forwardingCheck.message).toContain(`waiting for it to be forwarded to ${conn.forwarding_address}`);
    const [sent] = await smtp.waitForMessages(1);
    expect(sent!.envelope.rcptTo).toEqual([SUPPORT]);
    expect(sent!.raw.toString('latin1')).toMatch(/^X-Mailroom-Forwarding-Test: ft_/m);

    // The provider forwards everything for support@ to the generated address.
    const info = await deliver(sent!.raw);
    expect(info.response).toMatch(/^250/);
    const verified = await get();
    expect(verified.forwardingCheck).toMatchObject({ state: 'verified', message: `Forwarding works: mail to ${SUPPORT} reaches this inbox.` });
    const subjects = async () => (await t.database.db.selectFrom('conversations').select('subject').where('inbox_id', '=', inbox.id).orderBy('subject').execute()).map((c) => c.subject);
    expect(await subjects()).toEqual(['before the test']);

    // The same message again is ordinary mail now (the token was used): stored, not a second verification.
    await deliver(sent!.raw);
    expect((await t.database.db.selectFrom('messages').select('id').where('connection_id', '=', conn.id).execute()).length).toBe(2);
  });

  it('a wrong SMTP password is explained; IMAP-connected and personal addresses have no forwarding to check', async () => {
    const a = await t.account('professional');
    const inbox = (await t.api(a.token, 'POST', '/api/v1/inboxes', { name: 'Sales' })).json();
    const bad = await insertConnection(t, { accountId: a.accountId, userId: a.adminUserId, type: 'team', address: `sales-${process.pid}@acme.test`, inboxId: inbox.id, transport: 'forwarding', smtp: { host: '127.0.0.1', port: smtp.port, username: SUPPORT, password: 'wrong' } });
    expect((await t.api(a.token, 'POST', `/api/v1/connections/${bad.id}/forwarding-test`)).statusCode).toBe(202);
    const failed = await until('the send to fail', async () => (await t.api(a.token, 'GET', `/api/v1/connections/${bad.id}`)).json(), (c) => c.forwardingCheck.state === 'send_failed');
    expect(failed.forwardingCheck.message).toMatch(/could not be sent through .*535.*Check the SMTP settings/s);

    const imap = await insertConnection(t, { accountId: a.accountId, userId: a.adminUserId, type: 'team', address: `help-${process.pid}@acme.test`, inboxId: inbox.id, imap: { host: '127.0.0.1', port: dovecot.imapPort, username: SUPPORT, password: 'support-pw' }, smtp: { host: '127.0.0.1', port: smtp.port, username: SUPPORT, password: 'support-pw' } });
    const r = await t.api(a.token, 'POST', `/api/v1/connections/${imap.id}/forwarding-test`);
    expect(r.statusCode).toBe(409);
    expect(r.json().error.code).toBe('not_forwarding');
    expect((await t.api(a.token, 'GET', `/api/v1/connections/${imap.id}`)).json().forwardingCheck).toBeNull();
    const personal = await insertConnection(t, { accountId: a.accountId, userId: a.adminUserId, type: 'personal', address: `me-${process.pid}@acme.test`, imap: { host: '127.0.0.1', port: dovecot.imapPort, username: SUPPORT, password: 'support-pw' }, smtp: { host: '127.0.0.1', port: smtp.port, username: SUPPORT, password: 'support-pw' } });
    expect((await t.api(a.token, 'POST', `/api/v1/connections/${personal.id}/forwarding-test`)).statusCode).toBe(404);
  });
});
