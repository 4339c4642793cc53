/**
 * Shared setup of the personal email tests: a Mailroom app (SQLite, or PostgreSQL with DATABASE_URL),
 * a private Dovecot with a submission server delivering into it, the personal email features registered,
 * an account with a salesperson (member) whose mailbox is connected, and helpers to send, sync and read.
 */
import { ImapFlow } from 'imapflow';
import pino from 'pino';
import { createTestApp, type TestApp } from '../support/app.js';
import { insertConnection } from '../support/connections.js';
import { addUser } from '../crm/helpers.js';
import { startDovecot, type TestDovecot } from '../harness/dovecot.js';
import { startSubmissionServer, type TestSubmissionServer } from '../harness/submission.js';
import { createIngestor } from '../../src/app/engine.js';
import type { Ingestor } from '../../src/features/ingest/ingest.js';
import { openImap, syncConnectionOnce } from '../../src/mail/imap-sync.js';
import { sendOutboxMessage } from '../../src/features/outbox/sender.js';
import { parseMessageInline } from '../../src/mail/parse/index.js';
import type { ParsedMessage } from '../../src/mail/message/message.js';
import { setPrivateHostsForTest } from '../support/local-hosts.js';

export const PUBLIC_URL = 'https://crm.mailroom.test';
export const log = pino({ level: 'silent' });

export interface World {
  t: TestApp;
  dovecot: TestDovecot;
  smtp: TestSubmissionServer;
  ingestor: Ingestor;
  accountId: string;
  adminToken: string;
  adminUserId: string;
  /** The salesperson: a member with a connected personal mailbox. */
  seller: { userId: string; token: string; address: string; connectionId: string };
  stop(): Promise<void>;
}

let restoreAllow: (() => void) | undefined;
let n = 0;
export const uniq = () => `${process.pid.toString(36)}${(++n).toString(36)}${Math.random().toString(36).slice(2, 6)}`;

export async function startWorld(o: { plan?: string; withMail?: boolean; submission?: { fileSentIn?: string } } = {}): Promise<World> {
  restoreAllow = setPrivateHostsForTest(['127.0.0.1']);
  const dovecot = await startDovecot();
  const smtp = await startSubmissionServer({ dovecot, ...o.submission });
  const t = await createTestApp({ configEnv: { PUBLIC_URL } });
  const ingestor = createIngestor(t.env);
  const a = await t.account(o.plan ?? 'professional');
  const u = await addUser(t, a.token, { role: 'member', name: 'Sam Seller' });
  const address = `sam-${uniq()}@sales.test`;
  await dovecot.addUser(address, 'pw-sam');
  const conn = await insertConnection(t, {
    accountId: a.accountId,
    userId: u.userId,
    type: 'personal',
    address,
    imap: { host: '127.0.0.1', port: dovecot.imapPort, username: address, password: 'pw-sam' },
    smtp: { host: '127.0.0.1', port: smtp.port, username: address, password: 'pw-sam' },
    folders: ['INBOX', 'Sent'],
    sentFolder: 'Sent',
  });
  return {
    t,
    dovecot,
    smtp,
    ingestor,
    accountId: a.accountId,
    adminToken: a.token,
    adminUserId: a.adminUserId,
    seller: { userId: u.userId, token: u.token, address, connectionId: conn.id },
    async stop() {
      await t.close();
      await smtp.stop();
      await dovecot.stop();
      restoreAllow?.();
    },
  };
}

/** Creates a contact (through the API, as the seller) and, when asked, a Dovecot mailbox for each email. */
export async function contact(w: World, c: { firstName?: string; lastName?: string; emails: string[]; mailbox?: boolean }) {
  const r = await w.t.api(w.seller.token, 'POST', '/api/v1/contacts', { firstName: c.firstName ?? '', lastName: c.lastName ?? '', emails: c.emails });
  if (r.statusCode !== 201) throw new Error(`contact: ${r.body}`);
  if (c.mailbox) for (const e of c.emails) await w.dovecot.addUser(e, 'pw-contact');
  return r.json() as { id: string; companyId: string | null };
}

/** Runs the outbox sender for a personal email (what the job does), then its Sent-folder append. */
export async function deliverNow(w: World, personalEmailId: string) {
  const row = await w.t.database.db.selectFrom('personal_emails').select('outbox_id').where('id', '=', personalEmailId).executeTakeFirstOrThrow();
  const outcome = await sendOutboxMessage(w.ingestor, row.outbox_id);
  const outbox = await w.t.database.db.selectFrom('outbox').selectAll().where('id', '=', row.outbox_id).executeTakeFirstOrThrow();
  // The Message-ID exactly as sent (the stored one is lower-cased; our reply tokens are case-sensitive).
  const raw = (await w.ingestor.blobs.get(outbox.raw_sha256)).toString('latin1');
  const messageId = /^Message-ID:\s*(<[^>]+>)/im.exec(raw)![1]!;
  return { outcome, outbox, messageId };
}

/** One sync pass over the seller's mailbox (INBOX and Sent), as the sync job does. */
export async function syncSeller(w: World) {
  const c = await w.t.database.db.selectFrom('connections').selectAll().where('id', '=', w.seller.connectionId).executeTakeFirstOrThrow();
  const client = await openImap(w.t.env, c);
  try {
    return await syncConnectionOnce(w.t.env, w.ingestor, c.id, client, log);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/** Every message of a Dovecot user's folder, parsed. */
export async function mailboxOf(w: World, user: string, folder = 'INBOX'): Promise<Array<{ raw: Buffer; parsed: ParsedMessage }>> {
  const client = new ImapFlow(w.dovecot.imapOptions(user));
  client.on('error', () => {});
  await client.connect();
  try {
    await client.mailboxOpen(folder);
    const out: Array<{ raw: Buffer; parsed: ParsedMessage }> = [];
    for await (const m of client.fetch('1:*', { source: true })) if (m.source) out.push({ raw: m.source, parsed: await parseMessageInline(m.source) });
    return out;
  } catch {
    return [];
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/** Appends a raw message to a folder of a Dovecot user (mail the user sent from another client). */
export async function appendTo(w: World, user: string, folder: string, raw: string) {
  const client = new ImapFlow(w.dovecot.imapOptions(user));
  client.on('error', () => {});
  await client.connect();
  try {
    await client.append(folder, Buffer.from(raw), ['\\Seen']);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

export async function timeline(w: World, contactId: string, token = w.adminToken) {
  const r = await w.t.api(token, 'GET', `/api/v1/contacts/${contactId}/timeline?limit=200`);
  if (r.statusCode !== 200) throw new Error(`timeline: ${r.body}`);
  return r.json().events as Array<{ kind: string; data: Record<string, any>; refType: string | null; refId: string | null }>;
}

export function rawMail(o: { from: string; to: string; subject: string; messageId?: string; inReplyTo?: string; references?: string; headers?: string[]; body?: string; date?: Date }) {
  return [
    `From: ${o.from}`,
    `To: ${o.to}`,
    `Subject: ${o.subject}`,
    `Message-ID: <${o.messageId ?? `${uniq()}@mail.test`}>`,
    ...(o.inReplyTo ? [`In-Reply-To: ${o.inReplyTo}`] : []),
    ...(o.references ? [`References: ${o.references}`] : []),
    ...(o.headers ?? []),
    `Date: ${(o.date ?? new Date()).toUTCString()}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    o.body ?? 'Thanks, sounds good.',
    '',
  ].join('\r\n');
}

/** An RFC 3464 delivery status notification for `recipient` about the message `originalMessageId`. */
export function dsn(o: { to: string; recipient: string; originalMessageId: string; status?: string }) {
  const b = `dsn-${uniq()}`;
  return [
    'From: Mail Delivery System <MAILER-DAEMON@mx.client.test>',
    `To: ${o.to}`,
    'Subject: Undelivered Mail Returned to Sender',
    `Message-ID: <${uniq()}@mx.client.test>`,
    `Date: ${new Date().toUTCString()}`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${b}"`,
    '',
    `--${b}`,
    'Content-Type: text/plain; charset=us-ascii',
    '',
    `I'm sorry to have to inform you that your message could not be delivered to ${o.recipient}.`,
    '',
    `--${b}`,
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.client.test',
    '',
    `Final-Recipient: rfc822; ${o.recipient}`,
    'Action: failed',
    `Status: ${o.status ?? '5.1.1'}`,
    `Diagnostic-Code: smtp; 550 ${o.status ?? '5.1.1'} <${o.recipient}>: Recipient address rejected: User unknown`,
    '',
    `--${b}`,
    'Content-Type: text/rfc822-headers',
    '',
    `From: someone@sales.test`,
    `To: ${o.recipient}`,
    `Subject: Intro`,
    `Message-ID: ${o.originalMessageId}`,
    '',
    `--${b}--`,
    '',
  ].join('\r\n');
}
