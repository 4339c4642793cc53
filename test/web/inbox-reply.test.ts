/**
 * Replying from the inbox in a real browser, end to end: a team address connected over IMAP/SMTP to the
 * test Dovecot (through the real submission server), a customer with their own Dovecot mailbox. The
 * customer's email is in the inbox; the agent replies in Chromium (the composer shows the sender name);
 * the outbox sends it; the customer's mailbox receives it from "Ada at Support" with threading headers,
 * and the conversation is assigned to the replier.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hasChromium, screenshot, signIn } from './support.js';
import { startMailWorld, type MailWorld } from './mail-world.js';
import { ingestBatch } from '../../src/features/ingest/ingest.js';
import { sendOutboxMessage } from '../../src/features/outbox/sender.js';
import { parseMessage } from '../../src/mail/parse/index.js';

let w: MailWorld;
let inboxId: string;
let team: Awaited<ReturnType<MailWorld['connectMailbox']>>;
const SUPPORT = 'support@acme.test';
const CUSTOMER = `carla-${process.pid}@customer.test`;

beforeAll(async () => {
  w = await startMailWorld({ [SUPPORT]: 'support-pw', [CUSTOMER]: 'customer-pw' });
  inboxId = (await w.server.api('POST', '/api/v1/inboxes', { name: 'Support' })).body.id;
  team = await w.connectMailbox(SUPPORT, 'support-pw', { type: 'team', inboxId });
}, 120_000);

afterAll(async () => {
  await w?.stop();
});

describe.skipIf(!hasChromium)('replying from the inbox', () => {
  test('the reply arrives in the customer\'s mailbox from "Ada at Support", threaded', async () => {
    const customerMessageId = `<order-1002-${process.pid}@customer.test>`;
    const raw = [`From: Carla Customer <${CUSTOMER}>`, `To: ${SUPPORT}`, 'Subject: Parcel damaged', `Message-ID: ${customerMessageId}`, `Date: ${new Date().toUTCString()}`, 'Content-Type: text/plain; charset=utf-8', '', 'The box arrived crushed. Can you send a new one?', ''].join('\r\n');
    const stored = await ingestBatch(w.ingestor, team, [{ raw: Buffer.from(raw), source: 'imap', direction: 'inbound', receivedAt: Date.now() }]);
    const conversationId = (await w.server.database.db.selectFrom('messages').select('conversation_id').where('id', '=', stored.messageIds[0]!).executeTakeFirstOrThrow()).conversation_id!;

    const context = await w.browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    await signIn(page, w.server.origin, w.server.admin.email, w.server.admin.password);
    await page.goto(`${w.server.origin}/inbox/open?inbox=${inboxId}&c=${conversationId}`);
    await page.getByRole('heading', { name: 'Parcel damaged' }).waitFor();
    await page.keyboard.press('r');
    await page.getByText(`From: Ada at Support <${SUPPORT}>`).waitFor();
    await page.getByLabel('Reply to the customer').fill('Sorry about that, Carla! A new parcel leaves today.');
    await screenshot(page, 'inbox-reply', { fullPage: false });
    await page.getByRole('button', { name: 'Send reply' }).click();
    await page.getByText(/^Reply (queued|sending|sent)/).first().waitFor({ timeout: 10_000 });

    // What the worker does: send through the team address's SMTP (the submission server delivers to Dovecot).
    const outbox = await w.server.database.db.selectFrom('outbox').select(['id', 'message_id']).where('conversation_id', '=', conversationId).executeTakeFirstOrThrow();
    expect(await sendOutboxMessage(w.ingestor, outbox.id)).toBe('sent');

    const received = await w.inboxOf(CUSTOMER, 'customer-pw');
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
    const thread = (await w.server.api('GET', `/api/v1/conversations/${conversationId}`)).body;
    expect(thread.assignee?.id).toBe(w.server.admin.userId);
    await context.close();
  }, 120_000);
});
