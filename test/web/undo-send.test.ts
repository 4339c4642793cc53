/**
 * Undo send in a real browser (issue 21 item 1): the agent's delay is 30 s; after "Send reply" the composer
 * shows "Sending… Undo" with a countdown; Undo stops it (nothing reaches the submission server) and puts the
 * draft back, text and attachment. Sent again with a 2 s delay, the bar counts down and goes away, and the
 * reply leaves exactly once.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hasChromium, signIn } from './support.js';
import { startMailWorld, type MailWorld } from './mail-world.js';
import { ingestBatch } from '../../src/features/ingest/ingest.js';
import { sendOutboxMessage } from '../../src/features/outbox/sender.js';

let w: MailWorld;
let inboxId: string;
let team: Awaited<ReturnType<MailWorld['connectMailbox']>>;
const SUPPORT = `support-undo-${process.pid}@acme.test`;
const CUSTOMER = `uma-${process.pid}@customer.test`;
const SELLER = `ada-undo-${process.pid}@sales.test`;
const ANN = `ann-undo-${process.pid}@client.test`;

beforeAll(async () => {
  w = await startMailWorld({ [SUPPORT]: 'support-pw', [CUSTOMER]: 'customer-pw', [SELLER]: 'seller-pw', [ANN]: 'ann-pw' });
  inboxId = (await w.server.api('POST', '/api/v1/inboxes', { name: 'Support' })).body.id;
  team = await w.connectMailbox(SUPPORT, 'support-pw', { type: 'team', inboxId });
  await w.connectMailbox(SELLER, 'seller-pw', { type: 'personal' });
}, 120_000);

afterAll(async () => {
  await w?.stop();
});

describe.skipIf(!hasChromium)('undo send in the reply composer', () => {
  test('Undo puts the draft back with its attachment and nothing is sent; without Undo it leaves once', async () => {
    const raw = [`From: Uma <${CUSTOMER}>`, `To: ${SUPPORT}`, 'Subject: Wrong size', `Message-ID: <size-${process.pid}@customer.test>`, `Date: ${new Date().toUTCString()}`, 'Content-Type: text/plain; charset=utf-8', '', 'I need a larger size.', ''].join('\r\n');
    const stored = await ingestBatch(w.ingestor, team, [{ raw: Buffer.from(raw), source: 'imap', direction: 'inbound', receivedAt: Date.now() }]);
    const conversationId = (await w.server.database.db.selectFrom('messages').select('conversation_id').where('id', '=', stored.messageIds[0]!).executeTakeFirstOrThrow()).conversation_id!;
    const set = await w.server.api('PATCH', `/api/v1/users/${w.server.admin.userId}`, { undoSendSeconds: 30 });
    expect(set.status).toBe(200);

    const context = await w.browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    await signIn(page, w.server.origin, w.server.admin.email, w.server.admin.password);
    await page.goto(`${w.server.origin}/inbox/open?inbox=${inboxId}&c=${conversationId}`);
    await page.getByRole('heading', { name: 'Wrong size' }).waitFor();
    await page.keyboard.press('r');
    await page.getByLabel('Reply to the customer').fill('We will send size L.');
    await page.getByLabel('Attach files to the reply').setInputFiles({ name: 'return-label.txt', mimeType: 'text/plain', buffer: Buffer.from('Return label 42') });
    await page.getByRole('list', { name: 'Reply attachments' }).getByText('return-label.txt').waitFor();
    await page.getByRole('button', { name: 'Send reply' }).click();

    const bar = page.getByTestId('undo-send');
    await bar.getByText(/Sending… \(\d+ s\)/).waitFor();
    const outbox = await w.server.database.db.selectFrom('outbox').select(['id', 'state']).where('conversation_id', '=', conversationId).executeTakeFirstOrThrow();
    expect(outbox.state).toBe('queued');
    await bar.getByRole('button', { name: 'Undo' }).click();

    // The draft is back, attachment included, and the email will never leave.
    await expect.poll(() => page.getByLabel('Reply to the customer').inputValue(), { timeout: 10_000 }).toBe('We will send size L.');
    await page.getByRole('list', { name: 'Reply attachments' }).getByText('return-label.txt').waitFor();
    expect(await bar.count()).toBe(0);
    const undone = await w.server.database.db.selectFrom('outbox').select('state').where('id', '=', outbox.id).executeTakeFirstOrThrow();
    expect(undone.state).toBe('cancelled');
    expect(await sendOutboxMessage(w.ingestor, outbox.id)).toBe('skipped');

    // Sent again with a 2 s delay: the countdown runs out, the bar goes away, it leaves once.
    await w.server.api('PATCH', `/api/v1/users/${w.server.admin.userId}`, { undoSendSeconds: 2 });
    await page.reload();
    await page.getByRole('heading', { name: 'Wrong size' }).waitFor();
    await page.keyboard.press('r');
    await page.getByLabel('Reply to the customer').fill('We will send size L.');
    await page.getByRole('button', { name: 'Send reply' }).click();
    await bar.waitFor();
    await bar.waitFor({ state: 'detached', timeout: 10_000 });
    const second = await w.server.database.db.selectFrom('outbox').select(['id']).where('conversation_id', '=', conversationId).where('state', '=', 'queued').executeTakeFirstOrThrow();
    const late = await w.server.api('POST', `/api/v1/conversations/${conversationId}/replies/${second.id}/undo`);
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('too_late_to_undo');
    expect(await sendOutboxMessage(w.ingestor, second.id)).toBe('sent');
    expect(w.smtp.messages.filter((m) => m.envelope.rcptTo.includes(CUSTOMER))).toHaveLength(1);
    await context.close();
  }, 120_000);

  test('contact email: the delay is chosen in Settings → Email; Undo puts subject, body and attachment back', async () => {
    const ann = (await w.server.api('POST', '/api/v1/contacts', { firstName: 'Ann', lastName: 'Lee', emails: [ANN] })).body;
    const context = await w.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await signIn(page, w.server.origin, w.server.admin.email, w.server.admin.password);
    await page.goto(`${w.server.origin}/settings/email`);
    await page.getByLabel(/Wait before replies and emails leave/).selectOption('20');
    await expect.poll(async () => (await w.server.api('GET', `/api/v1/users/${w.server.admin.userId}`)).body.undoSendSeconds).toBe(20);

    await page.goto(`${w.server.origin}/contacts/${ann.id}`);
    await page.getByRole('button', { name: 'Write an email' }).click();
    const form = page.getByRole('form', { name: 'Write an email' });
    await expect.poll(() => form.getByLabel('From').inputValue()).not.toBe('');
    await form.getByLabel('Subject').fill('Your quote');
    await form.getByRole('textbox', { name: 'Email body' }).fill('Here is the quote.');
    await form.getByLabel('Attach files').setInputFiles({ name: 'quote.txt', mimeType: 'text/plain', buffer: Buffer.from('Quote: 100 EUR') });
    await form.getByRole('list', { name: 'Attachments' }).getByText('quote.txt', { exact: false }).waitFor();
    await form.getByRole('button', { name: 'Send', exact: true }).click();
    const bar = page.getByTestId('undo-send');
    await bar.getByText(/Sending… \(\d+ s\)/).waitFor();
    await bar.getByRole('button', { name: 'Undo' }).click();

    const back = page.getByRole('form', { name: 'Write an email' });
    await expect.poll(() => back.getByLabel('Subject').inputValue(), { timeout: 10_000 }).toBe('Your quote');
    await expect.poll(() => back.getByRole('textbox', { name: 'Email body' }).textContent()).toContain('Here is the quote.');
    await back.getByRole('list', { name: 'Attachments' }).getByText('quote.txt', { exact: false }).waitFor();
    const rows = await w.server.database.db.selectFrom('personal_emails').innerJoin('outbox', 'outbox.id', 'personal_emails.outbox_id').select(['outbox.state']).where('personal_emails.contact_id', '=', ann.id).execute();
    expect(rows.map((r) => r.state)).toEqual(['cancelled']);
    expect(w.smtp.messages.filter((m) => m.envelope.rcptTo.includes(ANN))).toHaveLength(0);
    await context.close();
  }, 120_000);
});
