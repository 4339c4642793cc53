/**
 * Inbound SMTP and the ingest pipeline against a real SMTP client (nodemailer, swaks) and a real
 * database: threading by headers, by our reply token and by subject; reply before parent; dedupe;
 * malformed mail kept; no open relay; size limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import pino from 'pino';
import { createTestApp, type TestApp } from '../support/app.js';
import { insertConnection } from '../support/connections.js';
import { createIngestor } from '../../src/app/engine.js';
import { inboundWiring } from '../../src/app/features.js';
import { startInboundSmtp, type RunningInboundSmtp } from '../../src/mail/inbound-smtp.js';
import { makeMessageId } from '../../src/mail/message/reply-token.js';
import type { Ingestor } from '../../src/features/ingest/ingest.js';
import { newId } from '../../src/platform/database/ids.js';
import { createContact } from '../../src/features/crm/commands/createContact.js';

let t: TestApp;
let ingestor: Ingestor;
let smtp: RunningInboundSmtp;
let team: Awaited<ReturnType<typeof insertConnection>>;
let accountId: string;

beforeAll(async () => {
  t = await createTestApp();
  ingestor = createIngestor(t.env);
  smtp = await startInboundSmtp(ingestor, { ...inboundWiring(), port: 0, host: '127.0.0.1', maxMessageBytes: 200_000, maxClients: 50, connectionsPerMinute: 1000, log: pino({ level: 'silent' }) });
  const a = await t.account();
  accountId = a.accountId;
  const inbox = (await t.api(a.token, 'POST', '/api/v1/inboxes', { name: 'Support' })).json();
  team = await insertConnection(t, { accountId: a.accountId, userId: a.adminUserId, type: 'team', address: 'support@acme.test', inboxId: inbox.id });
});
afterAll(async () => {
  await smtp?.close();
  await t?.close();
});

const transport = () => nodemailer.createTransport({ host: '127.0.0.1', port: smtp.port, secure: false, ignoreTLS: true });

async function send(raw: string, to = team.forwarding_address!) {
  return transport().sendMail({ envelope: { from: 'customer@example.org', to: [to] }, raw });
}

// The Date header is part of a message's identity: a resend keeps it.
const FIXED_DATE = new Date().toUTCString();

function mail(o: { id?: string; subject: string; from?: string; inReplyTo?: string; references?: string; date?: string; body?: string }) {
  return [
    `From: ${o.from ?? 'Carla Customer <customer@example.org>'}`,
    'To: support@acme.test',
    `Subject: ${o.subject}`,
    ...(o.id ? [`Message-ID: <${o.id}>`] : []),
    ...(o.inReplyTo ? [`In-Reply-To: <${o.inReplyTo}>`] : []),
    ...(o.references ? [`References: ${o.references}`] : []),
    `Date: ${o.date ?? FIXED_DATE}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    o.body ?? 'Hello, my order has not arrived.',
    '',
  ].join('\r\n');
}

const messagesOf = (conversationId: string) =>
  t.database.db.selectFrom('messages').selectAll().where('conversation_id', '=', conversationId).orderBy('received_at').execute();
const messageById = (mid: string) => t.database.db.selectFrom('messages').selectAll().where('connection_id', '=', team.id).where('message_id', '=', mid.toLowerCase()).executeTakeFirstOrThrow();

describe('inbound SMTP', () => {
  it('stores a message for a forwarding address and answers 250 only after commit', async () => {
    const info = await send(mail({ id: 'first-1@example.org', subject: 'Order 1001 missing' }));
    expect(info.response).toMatch(/^250/);
    const m = await messageById('first-1@example.org');
    expect(m).toMatchObject({ direction: 'inbound', source: 'smtp', subject: 'Order 1001 missing', from_address: 'customer@example.org', classification: 'normal' });
    const conv = await t.database.db.selectFrom('conversations').selectAll().where('id', '=', m.conversation_id!).executeTakeFirstOrThrow();
    expect(conv).toMatchObject({ kind: 'team', inbox_id: team.inbox_id, status: 'open', message_count: 1 });
    expect(await ingestor.blobs.has(m.raw_sha256)).toBe(true);
  });

  it('refuses recipients that are not ours (no open relay) and oversized messages (552)', async () => {
    await expect(send(mail({ id: 'x@example.org', subject: 'relay?' }), 'someone@elsewhere.example')).rejects.toMatchObject({ responseCode: 550 });
    const big = mail({ id: 'big@example.org', subject: 'big', body: 'x'.repeat(300_000) });
    await expect(send(big)).rejects.toMatchObject({ responseCode: 552 });
    expect(await t.database.db.selectFrom('messages').select('id').where('message_id', '=', 'big@example.org').executeTakeFirst()).toBeUndefined();
  });

  it('a connection that carries several messages delivers each only to its own recipients', async () => {
    const other = await insertConnection(t, { accountId, userId: team.user_id!, type: 'team', address: 'sales@acme.test', inboxId: team.inbox_id! });
    const pooled = nodemailer.createTransport({ pool: true, maxConnections: 1, host: '127.0.0.1', port: smtp.port, secure: false, ignoreTLS: true });
    try {
      await pooled.sendMail({ envelope: { from: 'customer@example.org', to: [team.forwarding_address!] }, raw: mail({ id: 'pooled-1@example.org', subject: 'For support' }) });
      await pooled.sendMail({ envelope: { from: 'customer@example.org', to: [other.forwarding_address!] }, raw: mail({ id: 'pooled-2@example.org', subject: 'For sales' }) });
    } finally {
      pooled.close();
    }
    const stored = async (connectionId: string) =>
      (await t.database.db.selectFrom('messages').select('message_id').where('connection_id', '=', connectionId).where('message_id', 'like', 'pooled-%').execute()).map((r) => r.message_id);
    expect(await stored(team.id)).toEqual(['pooled-1@example.org']);
    expect(await stored(other.id)).toEqual(['pooled-2@example.org']);
  });

  it('a connection disconnected after its address was looked up stores nothing more: 550, the other recipients still get it', async () => {
    const gone = await insertConnection(t, { accountId, userId: team.user_id!, type: 'team', address: 'billing@acme.test', inboxId: team.inbox_id! });
    const kept = await insertConnection(t, { accountId, userId: team.user_id!, type: 'team', address: 'orders@acme.test', inboxId: team.inbox_id! });
    const to = [gone.forwarding_address!, kept.forwarding_address!];
    // Both addresses looked up (and remembered: RECIPIENT_CACHE_MS) by a first delivery.
    await transport().sendMail({ envelope: { from: 'customer@example.org', to }, raw: mail({ id: 'gone-1@example.org', subject: 'Before' }) });
    await t.database.db.updateTable('connections').set({ disconnected_at: Date.now() }).where('id', '=', gone.id).execute();
    const info = await transport().sendMail({ envelope: { from: 'customer@example.org', to }, raw: mail({ id: 'gone-2@example.org', subject: 'After' }) });
    expect(info.response).toMatch(/^250/);
    // Alone, the disconnected address is refused (at DATA while remembered, at RCPT once forgotten), twice.
    for (const id of ['gone-3@example.org', 'gone-4@example.org']) {
      await expect(send(mail({ id, subject: 'After, alone' }), gone.forwarding_address!)).rejects.toMatchObject({ responseCode: 550 });
    }
    const stored = async (connectionId: string) =>
      (await t.database.db.selectFrom('messages').select('message_id').where('connection_id', '=', connectionId).where('message_id', 'like', 'gone-%').orderBy('message_id').execute()).map((r) => r.message_id);
    expect(await stored(gone.id)).toEqual(['gone-1@example.org']);
    expect(await stored(kept.id)).toEqual(['gone-1@example.org', 'gone-2@example.org']);
  });

  it('accepts mail from swaks, a real SMTP client', async () => {
    // Async: the SMTP server runs in this same process.
    const { stdout: out } = await promisify(execFile)('swaks', ['--server', `127.0.0.1:${smtp.port}`, '--to', team.forwarding_address!, '--from', 'swaks@example.org', '--header', 'Subject: sent by swaks', '--header', 'Message-Id: <swaks-1@example.org>', '--body', 'hi']);
    expect(out).toMatch(/<-\s+250/);
    expect((await messageById('swaks-1@example.org')).subject).toBe('sent by swaks');
  });
});

describe('threading', () => {
  it('threads a reply by In-Reply-To, and one whose client dropped References by subject', async () => {
    await send(mail({ id: 'thr-1@example.org', subject: 'Invoice question' }));
    await send(mail({ id: 'thr-2@example.org', subject: 'Re: Invoice question', inReplyTo: 'thr-1@example.org' }));
    await send(mail({ id: 'thr-3@example.org', subject: 'AW: Invoice question' }));
    const first = await messageById('thr-1@example.org');
    const all = await messagesOf(first.conversation_id!);
    expect(all.map((m) => m.message_id)).toEqual(['thr-1@example.org', 'thr-2@example.org', 'thr-3@example.org']);
  });

  it('does not thread by subject alone with a stranger', async () => {
    await send(mail({ id: 'sub-1@example.org', subject: 'Password reset' }));
    await send(mail({ id: 'sub-2@example.org', subject: 'Re: Password reset', from: 'Other Person <other@example.net>' }));
    const a = await messageById('sub-1@example.org');
    const b = await messageById('sub-2@example.org');
    expect(b.conversation_id).not.toBe(a.conversation_id);
  });

  it('matches a reply to our own message by the reply token even without References', async () => {
    const conv = (await messageById('first-1@example.org')).conversation_id!;
    const outboxId = newId('out'); // real ids are mixed case: the token must survive that
    await t.database.db
      .insertInto('outbox')
      .values({ id: outboxId, account_id: accountId, connection_id: team.id, user_id: team.user_id, conversation_id: conv, message_id: 'x', envelope: '{}', raw_sha256: 'x', state: 'sent', send_at: 0, attempts: 1, attempt_started_at: 0, sent_at: 0, smtp_response: null, last_error: null, appended_to_sent: 1, meta: '{}', created_at: 0 })
      .execute();
    const ours = makeMessageId({ outboxId, domain: 'acme.test', secret: ingestor.replyTokenSecret }).replace(/^<|>$/g, '');
    await send(mail({ id: 'tok-1@example.org', subject: 'totally different subject', inReplyTo: ours }));
    expect((await messageById('tok-1@example.org')).conversation_id).toBe(conv);
    // A forged token (wrong HMAC) does not thread.
    const forged = ours.replace(/\.([0-9a-z]+)@/i, '.0000000000@');
    await send(mail({ id: 'tok-2@example.org', subject: 'another subject', inReplyTo: forged }));
    expect((await messageById('tok-2@example.org')).conversation_id).not.toBe(conv);
  });

  it('threads a reply that arrived before its parent once the parent arrives', async () => {
    await send(mail({ id: 'late-2@example.org', subject: 'Re: Shipping', inReplyTo: 'late-1@example.org' }));
    await send(mail({ id: 'late-1@example.org', subject: 'Shipping' }));
    const parent = await messageById('late-1@example.org');
    const reply = await messageById('late-2@example.org');
    expect(reply.conversation_id).toBe(parent.conversation_id);
    const conv = await t.database.db.selectFrom('conversations').selectAll().where('id', '=', parent.conversation_id!).executeTakeFirstOrThrow();
    expect(conv.message_count).toBe(2);
  });
});

describe('contact matching', () => {
  it('links a conversation to the contact who wrote it', async () => {
    const admin = await t.database.db.selectFrom('users').selectAll().where('account_id', '=', accountId).executeTakeFirstOrThrow();
    const contact = await createContact(t.env, { user: admin, accountId, plan: 'professional' }, { firstName: 'Dora', lastName: 'Known', emails: ['dora@known.example'] });
    await send(mail({ id: 'known-1@example.org', subject: 'Hi from Dora', from: 'Dora <dora@known.example>' }));
    const m = await messageById('known-1@example.org');
    const conv = await t.database.db.selectFrom('conversations').selectAll().where('id', '=', m.conversation_id!).executeTakeFirstOrThrow();
    expect(conv.contact_id).toBe(contact.id);
    await send(mail({ id: 'unknown-1@example.org', subject: 'Hi from a stranger', from: 'Stranger <nobody@unknown.example>' }));
    const s2 = await messageById('unknown-1@example.org');
    expect((await t.database.db.selectFrom('conversations').select('contact_id').where('id', '=', s2.conversation_id!).executeTakeFirstOrThrow()).contact_id).toBeNull();
  });
});

describe('never lost, never duplicated', () => {
  it('the same message delivered twice is stored once', async () => {
    await send(mail({ id: 'dup-1@example.org', subject: 'dup' }));
    await send(mail({ id: 'dup-1@example.org', subject: 'dup' }));
    const rows = await t.database.db.selectFrom('messages').select('id').where('connection_id', '=', team.id).where('message_id', '=', 'dup-1@example.org').execute();
    expect(rows).toHaveLength(1);
  });

  it('malformed mail is stored raw and flagged, never dropped', async () => {
    const raw = 'From: broken\r\nSubject: =?x-unknown?B?AAAA?=\r\n\r\nbody with a NUL \u0000 byte\r\n';
    await send(raw);
    const rows = await t.database.db.selectFrom('messages').selectAll().where('connection_id', '=', team.id).where('message_id', 'is', null).execute();
    const m = rows.find((r) => JSON.parse(r.malformed).includes('missing_message_id'))!;
    expect(m).toBeTruthy();
    expect(JSON.parse(m.malformed)).toEqual(expect.arrayContaining(['missing_message_id', 'missing_date']));
    expect((await ingestor.blobs.get(m.raw_sha256)).toString('latin1')).toContain('body with a NUL');
  });

  it('classifies an out-of-office reply and a bounce', async () => {
    await send(['From: Bob <bob@example.org>', 'To: support@acme.test', 'Subject: Out of office: back Monday', 'Auto-Submitted: auto-replied', 'Message-ID: <ooo-1@example.org>', `Date: ${new Date().toUTCString()}`, '', 'I am away.', ''].join('\r\n'));
    expect((await messageById('ooo-1@example.org')).classification).toBe('auto_reply');
    const dsn = [
      'From: Mail Delivery System <MAILER-DAEMON@mx.example.org>',
      'To: support@acme.test',
      'Subject: Undelivered Mail Returned to Sender',
      'Message-ID: <dsn-1@mx.example.org>',
      `Date: ${new Date().toUTCString()}`,
      'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain',
      '',
      'Your message could not be delivered.',
      '--b',
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mx.example.org',
      '',
      'Final-Recipient: rfc822; gone@example.org',
      'Action: failed',
      'Status: 5.1.1',
      'Diagnostic-Code: smtp; 550 5.1.1 user unknown',
      '--b--',
      '',
    ].join('\r\n');
    await send(dsn);
    const b = await messageById('dsn-1@mx.example.org');
    expect(b.classification).toBe('bounce');
    expect(JSON.parse(b.classification_detail).bounce.recipients[0]).toMatchObject({ address: 'gone@example.org', status: '5.1.1' });
  });
});
