/**
 * Helpers of the conversations inbox tests: an account with a Support inbox and a team address, users
 * with tokens, raw mail, and storing mail through the real ingest pipeline (the same path inbound SMTP
 * and IMAP sync take).
 */
import { expect } from 'vitest';
import type { TestApp } from '../support/app.js';
import { insertConnection } from '../support/connections.js';
import { createIngestor } from '../../src/app/engine.js';
import { ingestBatch, type Ingestor } from '../../src/features/ingest/ingest.js';

export type Account = Awaited<ReturnType<TestApp['account']>>;
export type TeamConnection = Awaited<ReturnType<typeof insertConnection>>;

let seq = 0;
export const uniq = () => `${Date.now().toString(36)}${(seq += 1)}${Math.random().toString(36).slice(2, 6)}`;

export async function inboxFixture(t: TestApp, o: { plan?: string; inboxName?: string; access?: 'everyone' | 'restricted' } = {}) {
  const a = await t.account(o.plan ?? 'enterprise');
  const inbox = await ok(t, a.token, 'POST', '/api/v1/inboxes', { name: o.inboxName ?? 'Support', ...(o.access ? { access: o.access } : {}) });
  const conn = await insertConnection(t, { accountId: a.accountId, userId: a.adminUserId, type: 'team', address: `support-${uniq()}@acme.test`, inboxId: inbox.id });
  return { a, inbox: inbox as { id: string; name: string }, conn };
}

export async function ok(t: TestApp, token: string, method: string, url: string, body?: unknown) {
  const r = await t.api(token, method, url, body);
  expect(r.statusCode, `${method} ${url}: ${r.body}`).toBeLessThan(300);
  return r.body ? r.json() : null;
}

/** A user of the account with an API token. */
export async function member(t: TestApp, a: Account, over: Record<string, unknown> = {}) {
  const r = await t.api(a.token, 'POST', '/api/v1/users', { email: `u-${uniq()}@acme.test`, name: 'Some One', password: 'member-password', ...over });
  expect(r.statusCode, r.body).toBe(201);
  const user = r.json().user as { id: string; name: string };
  const token = (await ok(t, a.token, 'POST', '/api/v1/tokens', { name: 'test', userId: user.id })).token as string;
  return { user, token };
}

/** A raw message for the team address; with `attachment`, multipart/mixed: the body as its text part, then a text/plain attachment. */
export function rawMail(o: { id?: string; subject: string; from?: string; to?: string; cc?: string; inReplyTo?: string; references?: string; body?: string; headers?: Record<string, string>; date?: Date; attachment?: { filename: string; content: string } }) {
  const body = o.body ?? 'Hello, my order has not arrived.';
  const content = o.attachment
    ? [
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="xx"',
        '',
        '--xx',
        'Content-Type: text/plain; charset=utf-8',
        '',
        body,
        '--xx',
        `Content-Type: text/plain; name="${o.attachment.filename}"`,
        `Content-Disposition: attachment; filename="${o.attachment.filename}"`,
        '',
        o.attachment.content,
        '--xx--',
      ]
    : ['Content-Type: text/plain; charset=utf-8', '', body];
  return [
    `From: ${o.from ?? 'Carla Customer <carla@example.org>'}`,
    `To: ${o.to ?? 'support@acme.test'}`,
    ...(o.cc ? [`Cc: ${o.cc}`] : []),
    `Subject: ${o.subject}`,
    `Message-ID: <${o.id ?? `${uniq()}@example.org`}>`,
    ...(o.inReplyTo ? [`In-Reply-To: <${o.inReplyTo}>`] : []),
    ...(o.references ? [`References: ${o.references}`] : []),
    ...Object.entries(o.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
    `Date: ${(o.date ?? new Date()).toUTCString()}`,
    ...content,
    '',
  ].join('\r\n');
}

const ingestors = new WeakMap<TestApp, Ingestor>();
export function ingestorOf(t: TestApp): Ingestor {
  let i = ingestors.get(t);
  if (!i) ingestors.set(t, (i = createIngestor(t.env)));
  return i;
}

/** Stores a raw message for the team address through the ingest pipeline; returns the conversation id. */
export async function deliver(t: TestApp, conn: TeamConnection, raw: string, receivedAt = Date.now()): Promise<string> {
  const r = await ingestBatch(ingestorOf(t), conn, [{ raw: Buffer.from(raw), source: 'smtp', direction: 'inbound', receivedAt }]);
  const m = await t.database.db.selectFrom('messages').select('conversation_id').where('id', '=', r.messageIds[0]!).executeTakeFirstOrThrow();
  return m.conversation_id!;
}

export const conversationRow = (t: TestApp, id: string) => t.database.db.selectFrom('conversations').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
