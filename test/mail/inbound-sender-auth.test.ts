/**
 * Sender authentication on inbound SMTP, end to end: a real SMTP client (nodemailer, DKIM-signing with a
 * key generated here) delivers to Mailroom's inbound server, whose verifier asks recorded DNS (no
 * network). The results are stored with the message and served by the conversation API ("mailed by",
 * "signed by"); a message forging a contact's From under p=reject is stored and shown, flagged, but its
 * conversation is not linked to that contact. Verification runs once per message, not per recipient.
 */
import nodemailer from 'nodemailer';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { insertConnection } from '../support/connections.js';
import { dkimKey, recordedDns } from '../support/recorded-dns.js';
import { createIngestor } from '../../src/app/engine.js';
import { inboundWiring } from '../../src/app/features.js';
import { startInboundSmtp, type RunningInboundSmtp } from '../../src/mail/inbound-smtp.js';
import { readSenderAuth, senderAuthenticator, type SenderAuthenticator } from '../../src/mail/sender-auth.js';
import { createContact } from '../../src/features/crm/commands/createContact.js';

const known = dkimKey();
// client.test sends from this machine (127.0.0.1, the test's SMTP client) and signs; p=reject.
// bulk.test is any sender whose own SPF passes for 127.0.0.1 but who is not client.test.
const dns = recordedDns({
  'client.test': { TXT: ['v=spf1 ip4:127.0.0.1 -all'] },
  '_dmarc.client.test': { TXT: ['v=DMARC1; p=reject'] },
  'sel._domainkey.client.test': { TXT: [known.record] },
  'bulk.test': { TXT: ['v=spf1 ip4:127.0.0.0/8 -all'] },
});

let t: TestApp;
let smtp: RunningInboundSmtp;
let token: string;
let accountId: string;
let forwarding: string;
let forwardingB: string;
let calls = 0;

beforeAll(async () => {
  t = await createTestApp();
  const verify = senderAuthenticator({ resolver: dns.resolver, hostname: 'mx.mailroom.test' });
  const counted: SenderAuthenticator = (raw, env) => {
    calls += 1;
    return verify(raw, env);
  };
  smtp = await startInboundSmtp(createIngestor(t.env), {
    ...inboundWiring(),
    port: 0,
    host: '127.0.0.1',
    maxMessageBytes: 200_000,
    maxClients: 20,
    connectionsPerMinute: 1000,
    log: pino({ level: 'silent' }),
    senderAuth: counted,
  });
  const a = await t.account();
  token = a.token;
  accountId = a.accountId;
  const inbox = (await t.api(a.token, 'POST', '/api/v1/inboxes', { name: 'Support' })).json();
  const conn = await insertConnection(t, { accountId: a.accountId, userId: a.adminUserId, type: 'team', address: 'support@acme.test', inboxId: inbox.id });
  const connB = await insertConnection(t, { accountId: a.accountId, userId: a.adminUserId, type: 'team', address: 'sales@acme.test', inboxId: inbox.id });
  forwarding = conn.forwarding_address!;
  forwardingB = connB.forwarding_address!;
  const admin = await t.database.db.selectFrom('users').selectAll().where('account_id', '=', a.accountId).executeTakeFirstOrThrow();
  await createContact(t.env, { user: admin, accountId: a.accountId, plan: 'professional' }, { firstName: 'Cleo', lastName: 'Client', emails: ['cleo@client.test'] });
});
afterAll(async () => {
  await smtp?.close();
  await t?.close();
});

const transport = (dkim?: { domainName: string; keySelector: string; privateKey: string }) =>
  nodemailer.createTransport({ host: '127.0.0.1', port: smtp.port, secure: false, ignoreTLS: true, name: 'mail.client.test', ...(dkim ? { dkim } : {}) });

const stored = (messageId: string) => t.database.db.selectFrom('messages').selectAll().where('account_id', '=', accountId).where('message_id', '=', messageId).execute();

describe('inbound SMTP sender authentication', () => {
  it("a signed message from the contact's own domain: stored with SPF, DKIM and DMARC pass, linked to the contact, shown as mailed by and signed by", async () => {
    const before = calls;
    await transport({ domainName: 'client.test', keySelector: 'sel', privateKey: known.privateKey }).sendMail({
      envelope: { from: 'cleo@client.test', to: [forwarding, forwardingB] },
      from: 'Cleo Client <cleo@client.test>',
      to: 'support@acme.test',
      subject: 'Order 7 question',
      text: 'Where is my order?',
      messageId: '<signed-1@client.test>',
    });
    expect(calls - before).toBe(1); // once per message, for both recipients
    const rows = await stored('signed-1@client.test');
    expect(rows).toHaveLength(2);
    for (const m of rows) {
      expect(readSenderAuth(m.sender_auth)).toEqual({
        spf: { result: 'pass', domain: 'client.test' },
        dkim: [{ domain: 'client.test', selector: 'sel', result: 'pass', aligned: true }],
        dmarc: { result: 'pass', domain: 'client.test', policy: 'reject' },
        arc: null,
        flagged: false,
      });
      const conv = await t.database.db.selectFrom('conversations').select(['contact_id']).where('id', '=', m.conversation_id!).executeTakeFirstOrThrow();
      expect(conv.contact_id).not.toBeNull();
    }
    const thread = (await t.api(token, 'GET', `/api/v1/conversations/${rows[0]!.conversation_id}`)).json();
    expect(thread.messages[0].senderAuth).toMatchObject({ mailedBy: 'client.test', signedBy: ['client.test'], dmarc: { result: 'pass', policy: 'reject' }, flagged: false });
  });

  it('a forged From of the contact under p=reject: stored and shown, flagged, its conversation not linked to the contact', async () => {
    await transport().sendMail({
      envelope: { from: 'mailer@bulk.test', to: [forwarding] },
      from: 'Cleo Client <cleo@client.test>',
      to: 'support@acme.test',
      subject: 'Please change my bank details',
      text: 'New IBAN attached.',
      messageId: '<forged-1@bulk.test>',
    });
    const [m] = await stored('forged-1@bulk.test');
    expect(m).toBeDefined();
    expect(m!.text_body).toContain('New IBAN');
    const auth = readSenderAuth(m!.sender_auth);
    expect(auth).toMatchObject({ spf: { result: 'pass', domain: 'bulk.test' }, dkim: [], dmarc: { result: 'fail', domain: 'client.test', policy: 'reject' }, flagged: true });
    const conv = await t.database.db.selectFrom('conversations').select(['contact_id', 'status']).where('id', '=', m!.conversation_id!).executeTakeFirstOrThrow();
    expect(conv.contact_id).toBeNull();
    const thread = (await t.api(token, 'GET', `/api/v1/conversations/${m!.conversation_id}`)).json();
    expect(thread.messages[0]).toMatchObject({
      subject: 'Please change my bank details',
      senderAuth: { mailedBy: 'bulk.test', signedBy: [], flagged: true, dmarc: { result: 'fail' } },
    });
  });

  it('a message stored without verification (IMAP, import, before this existed) shows no sender authentication', async () => {
    const [signed] = await stored('signed-1@client.test');
    await t.database.db.updateTable('messages').set({ sender_auth: null }).where('id', '=', signed!.id).execute();
    const thread = (await t.api(token, 'GET', `/api/v1/conversations/${signed!.conversation_id}`)).json();
    expect(thread.messages.find((x: { id: string }) => x.id === signed!.id).senderAuth).toBeNull();
  });
});
