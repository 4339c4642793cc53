/**
 * Replying from the inbox in a real browser, end to end: a team address connected over IMAP/SMTP to the
 * test Dovecot (through the real submission server), a customer with their own Dovecot mailbox. The
 * customer's email is in the inbox; the agent replies in Chromium (the composer shows the sender name);
 * the outbox sends it; the customer's mailbox receives it from "Ada at Support" with threading headers,
 * and the conversation is assigned to the replier.
 */
import fs from 'node:fs';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { buildWebApp, hasChromium, launchChromium, screenshot, signIn, startWebServer, type WebTestServer } from './support.js';
import { insertConnection } from '../support/connections.js';
import type { TestApp } from '../support/app.js';
import { startDovecot, type TestDovecot } from '../harness/dovecot.js';
import { startSubmissionServer, type TestSubmissionServer } from '../harness/submission.js';
import { createIngestor } from '../../src/mail/engine.js';
import { ingestBatch, type Ingestor } from '../../src/mail/ingest.js';
import { sendOutboxMessage } from '../../src/mail/outbox-sender.js';
import { closeDefaultParsePool, parseMessage } from '../../src/mail/parse/index.js';

let dist: string;
let server: WebTestServer;
let browser: Browser;
let dovecot: TestDovecot;
let smtp: TestSubmissionServer;
let ingestor: Ingestor;
let inboxId: string;
let team: Awaited<ReturnType<typeof insertConnection>>;
let previousAllow: string | undefined;
const SUPPORT = 'support@acme.test';
const CUSTOMER = `carla-${process.pid}@customer.test`;

beforeAll(async () => {
  previousAllow = process.env.MAILROOM_ALLOW_PRIVATE_HOSTS;
  process.env.MAILROOM_ALLOW_PRIVATE_HOSTS = '127.0.0.1';
  dovecot = await startDovecot();
  smtp = await startSubmissionServer({ dovecot });
  await dovecot.addUser(SUPPORT, 'support-pw');
  await dovecot.addUser(CUSTOMER, 'customer-pw');
  dist = await buildWebApp();
  server = await startWebServer(dist);
  const env = server.app.deps.env;
  ingestor = createIngestor(env);
  inboxId = (await server.api('POST', '/api/v1/inboxes', { name: 'Support' })).body.id;
  team = await insertConnection({ env, database: server.database } as unknown as TestApp, {
    accountId: server.admin.accountId,
    userId: server.admin.userId,
    type: 'team',
    address: SUPPORT,
    inboxId,
    imap: { host: '127.0.0.1', port: dovecot.imapPort, username: SUPPORT, password: 'support-pw' },
    smtp: { host: '127.0.0.1', port: smtp.port, username: SUPPORT, password: 'support-pw' },
  });
  if (hasChromium) browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await smtp?.stop();
  await dovecot?.stop();
  await closeDefaultParsePool();
  if (dist) fs.rmSync(dist, { recursive: true, force: true });
  if (previousAllow === undefined) delete process.env.MAILROOM_ALLOW_PRIVATE_HOSTS;
  else process.env.MAILROOM_ALLOW_PRIVATE_HOSTS = previousAllow;
});

async function customerInbox(): Promise<Buffer[]> {
  const client = new ImapFlow({ host: '127.0.0.1', port: dovecot.imapPort, secure: false, auth: { user: CUSTOMER, pass: 'customer-pw' }, logger: false });
  await client.connect();
  try {
    const box = await client.mailboxOpen('INBOX');
    if (box.exists === 0) return [];
    const out: Buffer[] = [];
    for await (const m of client.fetch('1:*', { source: true })) if (m.source) out.push(m.source);
    return out;
  } finally {
    await client.logout().catch(() => undefined);
  }
}

describe.skipIf(!hasChromium)('replying from the inbox', () => {
  test('the reply arrives in the customer\'s mailbox from "Ada at Support", threaded', async () => {
    const customerMessageId = `<order-1002-${process.pid}@customer.test>`;
    const raw = [`From: Carla Customer <${CUSTOMER}>`, `To: ${SUPPORT}`, 'Subject: Parcel damaged', `Message-ID: ${customerMessageId}`, `Date: ${new Date().toUTCString()}`, 'Content-Type: text/plain; charset=utf-8', '', 'The box arrived crushed. Can you send a new one?', ''].join('\r\n');
    const stored = await ingestBatch(ingestor, team, [{ raw: Buffer.from(raw), source: 'imap', direction: 'inbound', receivedAt: Date.now() }]);
    const conversationId = (await server.database.db.selectFrom('messages').select('conversation_id').where('id', '=', stored.messageIds[0]!).executeTakeFirstOrThrow()).conversation_id!;

    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    await signIn(page, server.origin, server.admin.email, server.admin.password);
    await page.goto(`${server.origin}/inbox/open?inbox=${inboxId}&c=${conversationId}`);
    await page.getByRole('heading', { name: 'Parcel damaged' }).waitFor();
    await page.keyboard.press('r');
    await page.getByText(`From: Ada at Support <${SUPPORT}>`).waitFor();
    await page.getByLabel('Reply to the customer').fill('Sorry about that, Carla! A new parcel leaves today.');
    await screenshot(page, 'inbox-reply', { fullPage: false });
    await page.getByRole('button', { name: 'Send reply' }).click();
    await page.getByText(/^Reply (queued|sending|sent)/).first().waitFor({ timeout: 10_000 });

    // What the worker does: send through the team address's SMTP (the submission server delivers to Dovecot).
    const outbox = await server.database.db.selectFrom('outbox').select(['id', 'message_id']).where('conversation_id', '=', conversationId).executeTakeFirstOrThrow();
    expect(await sendOutboxMessage(ingestor, outbox.id)).toBe('sent');

    const received = await customerInbox();
    expect(received).toHaveLength(1);
    const reply = await parseMessage(received[0]!);
    expect(reply.from).toMatchObject({ name: 'Ada at Support', address: SUPPORT });
    expect(reply.subject).toBe('Re: Parcel damaged');
    expect(reply.inReplyTo).toBe(customerMessageId.slice(1, -1));
    expect(reply.references).toContain(customerMessageId.slice(1, -1));
    expect(reply.text).toContain('A new parcel leaves today.');

    // After a reload the thread holds both messages; replying assigned the conversation to the replier.
    await page.reload();
    await page.getByRole('heading', { name: 'Parcel damaged' }).waitFor();
    await expect.poll(() => page.locator('iframe[title^="Message from"]').count(), { timeout: 10_000 }).toBe(2);
    const thread = (await server.api('GET', `/api/v1/conversations/${conversationId}`)).body;
    expect(thread.assignee?.id).toBe(server.admin.userId);
    await context.close();
  }, 120_000);
});
