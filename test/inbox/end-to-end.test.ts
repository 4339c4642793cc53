/**
 * The conversations inbox end to end, against a private Dovecot, a real submission SMTP server that
 * delivers into it, and Mailroom's own inbound SMTP: a customer writes to support@ (by forwarding, and
 * by an IMAP connection of the team mailbox), the conversation appears and is routed; an agent replies;
 * the outbox sends it through SMTP into the customer's Dovecot mailbox with the right From name,
 * signature and threading headers; the customer's answer threads back into the same conversation and
 * reopens it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import pino from 'pino';
import { ImapFlow } from 'imapflow';
import { createTestApp, type TestApp } from '../support/app.js';
import { startDovecot, type TestDovecot } from '../harness/dovecot.js';
import { startSubmissionServer, type TestSubmissionServer } from '../harness/submission.js';
import { inboundWiring } from '../../src/app/features.js';
import { startInboundSmtp, type RunningInboundSmtp } from '../../src/mail/inbound-smtp.js';
import { sendOutboxMessage } from '../../src/features/outbox/sender.js';
import { openImap, syncConnectionOnce, DEFAULT_SYNC_OPTIONS } from '../../src/mail/imap-sync.js';
import { parseMessage } from '../../src/mail/parse/index.js';
import { ingestorOf, member, ok, uniq } from './support.js';
import { setPrivateHostsForTest } from '../support/local-hosts.js';

let t: TestApp;
let dovecot: TestDovecot;
let smtp: TestSubmissionServer;
let inbound: RunningInboundSmtp;
const log = pino({ level: 'silent' });
let restoreAllow: (() => void) | undefined;

beforeAll(async () => {
  restoreAllow = setPrivateHostsForTest(['127.0.0.1']);
  dovecot = await startDovecot();
  smtp = await startSubmissionServer({ dovecot });
  t = await createTestApp();
  inbound = await startInboundSmtp(ingestorOf(t), { ...inboundWiring(), port: 0, host: '127.0.0.1', maxMessageBytes: 5_000_000, maxClients: 20, connectionsPerMinute: 1000, log });
});
afterAll(async () => {
  await inbound?.close();
  await t?.close();
  await smtp?.stop();
  await dovecot?.stop();
  restoreAllow?.();
});

/** The customer's and the team's mailboxes on Dovecot, an account with a Support inbox and Ana routed to. */
async function setup(transport: 'forwarding' | 'imap') {
  const tag = uniq();
  const team = `support-${tag}@acme.test`;
  const customer = `carla-${tag}@customer.test`;
  await dovecot.addUser(team, 'team-pw');
  await dovecot.addUser(customer, 'carla-pw');
  const a = await t.account('enterprise', 'Acme');
  const inbox = await ok(t, a.token, 'POST', '/api/v1/inboxes', { name: 'Support' });
  const server = { host: '127.0.0.1', tls: 'none', password: 'team-pw' };
  const conn = await ok(t, a.token, 'POST', '/api/v1/connections', {
    type: 'team',
    address: team,
    inboxId: inbox.id,
    transport,
    smtp: { ...server, port: smtp.port },
    ...(transport === 'imap' ? { imap: { ...server, port: dovecot.imapPort } } : {}),
  });
  await ok(t, a.token, 'PATCH', `/api/v1/connections/${conn.id}`, { senderName: { mode: 'agent_at_inbox' }, signature: 'Kind regards,\n{agent_name}\n{inbox_name} team, {company_name}' });
  const ana = await member(t, a, { name: 'Ana Alves' });
  await ok(t, a.token, 'PUT', `/api/v1/inboxes/${inbox.id}/routing/${conn.id}`, { rule: { kind: 'users', strategy: 'round_robin', userIds: [ana.user.id] } });
  return { a, inbox, conn, ana, team, customer };
}

type Setup = Awaited<ReturnType<typeof setup>>;

/** The customer writes (or answers) to support@: delivered by forwarding to our inbound SMTP, or into the team's Dovecot mailbox. */
async function customerWrites(s: Setup, transport: 'forwarding' | 'imap', m: { messageId: string; subject: string; text: string; inReplyTo?: string; references?: string[] }) {
  const mail = {
    from: { name: 'Carla Customer', address: s.customer },
    to: s.team,
    subject: m.subject,
    text: m.text,
    messageId: `<${m.messageId}>`,
    ...(m.inReplyTo ? { inReplyTo: `<${m.inReplyTo}>` } : {}),
    ...(m.references ? { references: m.references.map((r) => `<${r}>`) } : {}),
  };
  if (transport === 'forwarding') {
    // The customer's provider delivers to support@, whose mail server forwards to our inbound address.
    const info = await nodemailer.createTransport({ host: '127.0.0.1', port: inbound.port, secure: false, ignoreTLS: true }).sendMail({ ...mail, envelope: { from: s.customer, to: [s.conn.forwardingAddress] } });
    expect(info.response).toMatch(/^250/);
  } else {
    await nodemailer.createTransport(smtp.smtpOptions(s.customer)).sendMail(mail);
    const c = await t.database.db.selectFrom('connections').selectAll().where('id', '=', s.conn.id).executeTakeFirstOrThrow();
    const client = await openImap(t.env, c);
    try {
      await syncConnectionOnce(t.env, ingestorOf(t), c.id, client, log, DEFAULT_SYNC_OPTIONS);
    } finally {
      await client.logout();
    }
  }
}

/** Raw messages in a Dovecot mailbox's INBOX. */
async function inboxOf(user: string, password: string): Promise<Buffer[]> {
  const c = new ImapFlow(dovecot.imapOptions(user, password));
  c.on('error', () => {});
  await c.connect();
  try {
    await c.mailboxOpen('INBOX');
    const out: Buffer[] = [];
    for await (const m of c.fetch('1:*', { source: true })) if (m.source) out.push(m.source);
    return out;
  } catch {
    return [];
  } finally {
    await c.logout();
  }
}

async function conversationsOf(s: Setup, query = 'view=all') {
  return (await ok(t, s.a.token, 'GET', `/api/v1/inboxes/${s.inbox.id}/conversations?${query}`)).conversations as any[];
}

describe.each(['forwarding', 'imap'] as const)('team address connected by %s', (transport) => {
  it('customer writes, routed to Ana, Ana replies into the customer\'s mailbox, the answer threads back and reopens', async () => {
    const s = await setup(transport);
    const first = `first-${uniq()}@customer.test`;
    await customerWrites(s, transport, { messageId: first, subject: 'My order 1001 is late', text: 'Hello, where is my order?' });

    // The conversation appears, routed by the rule, with the reason recorded.
    const [conv] = await conversationsOf(s);
    expect(conv).toMatchObject({ subject: 'My order 1001 is late', status: 'open', assignee: { id: s.ana.user.id, name: 'Ana Alves' }, messageCount: 1 });
    let thread = await ok(t, s.ana.token, 'GET', `/api/v1/conversations/${conv.id}`);
    expect(thread.messages[0]).toMatchObject({ direction: 'inbound', kind: 'normal', from: { name: 'Carla Customer', address: s.customer }, text: expect.stringContaining('where is my order') });
    expect(thread.activity[0].data.summary).toBe('Assigned to Ana Alves by round robin.');

    // Ana replies; the outbox sends it through the submission server into Carla's Dovecot mailbox.
    const sent = await ok(t, s.ana.token, 'POST', `/api/v1/conversations/${conv.id}/replies`, { mode: 'reply', text: 'Hi Carla,\nit left our warehouse today.' });
    expect(await sendOutboxMessage(ingestorOf(t), sent.outboxId)).toBe('sent');
    const submitted = await smtp.waitForMessage((m) => m.envelope.rcptTo.includes(s.customer));
    expect(submitted.authUser).toBe(s.team);
    expect(submitted.deliveredTo).toEqual([s.customer]);

    const [delivered] = await inboxOf(s.customer, 'carla-pw');
    expect(delivered).toBeTruthy();
    const reply = await parseMessage(delivered!);
    expect(reply.from).toEqual({ name: 'Ana at Support', address: s.team });
    expect(reply.to.map((x) => x.address)).toEqual([s.customer]);
    expect(reply.subject).toBe('Re: My order 1001 is late');
    expect(reply.inReplyTo).toBe(first);
    expect(reply.references).toEqual([first]);
    expect(reply.text).toContain('Hi Carla,\nit left our warehouse today.\n\n-- \nKind regards,\nAna Alves\nSupport team, Acme');
    expect(reply.text).toContain('> Hello, where is my order?');
    expect(reply.messageId).toBe(sent.messageId);

    // The sent copy is in the conversation; Ana closes it.
    thread = await ok(t, s.ana.token, 'GET', `/api/v1/conversations/${conv.id}`);
    expect(thread.messages.map((m: any) => m.direction)).toEqual(['inbound', 'outbound']);
    expect(thread.outgoing).toEqual([]);
    await ok(t, s.ana.token, 'POST', `/api/v1/conversations/${conv.id}/status`, { status: 'closed' });

    // Carla answers from her mail client (threading headers naming our reply): same conversation, open again.
    await customerWrites(s, transport, { messageId: `answer-${uniq()}@customer.test`, subject: 'Re: My order 1001 is late', text: 'Thanks! It arrived.', inReplyTo: reply.messageId!, references: [first, reply.messageId!] });
    const all = await conversationsOf(s);
    expect(all.map((c) => c.id)).toEqual([conv.id]);
    expect(all[0]).toMatchObject({ status: 'open', messageCount: 3, assignee: { id: s.ana.user.id } });
    thread = await ok(t, s.ana.token, 'GET', `/api/v1/conversations/${conv.id}`);
    expect(thread.messages.map((m: any) => m.text.split('\n')[0])).toEqual(['Hello, where is my order?', 'Hi Carla,', 'Thanks! It arrived.']);
    expect(thread.activity.at(-1)).toMatchObject({ kind: 'status', data: { to: 'open', reason: 'customer_replied' } });

    // Even a client that drops every header threads back by subject (same sender, within the window).
    await customerWrites(s, transport, { messageId: `bare-${uniq()}@customer.test`, subject: 'RE: My order 1001 is late', text: 'One more thing.' });
    expect((await conversationsOf(s)).map((c) => [c.id, c.messageCount])).toEqual([[conv.id, 4]]);
  });
});
