/**
 * The conversation's actions in Chromium against the real server: assign to a colleague, an internal
 * comment that @mentions them (they are notified; the customer never gets it), forward with an
 * attachment (queued in the outbox to the address typed), snooze until tomorrow 9:00, move to another
 * inbox. Each effect is checked through the API.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { buildWebApp, hasChromium, insertWebConnection, launchChromium, screenshot, signedInPage, startWebServer, type WebTestServer } from './support.js';
import { createIngestor } from '../../src/app/engine.js';
import { ingestBatch } from '../../src/features/ingest/ingest.js';
import { closeDefaultParsePool } from '../../src/mail/parse/index.js';

let dist: string;
let server: WebTestServer;
let browser: Browser;
let support: string;
let billing: string;
let conversationId: string;
let grace: { id: string; token: string };

beforeAll(async () => {
  dist = await buildWebApp();
  server = await startWebServer(dist);
  const env = server.app.deps.env;
  support = (await server.api('POST', '/api/v1/inboxes', { name: 'Support' })).body.id;
  billing = (await server.api('POST', '/api/v1/inboxes', { name: 'Billing' })).body.id;
  const team = await insertWebConnection(server, { type: 'team', address: 'support@acme.test', inboxId: support });
  const g = await server.api('POST', '/api/v1/users', { email: `grace-${process.pid}@example.com`, name: 'Grace Hopper', role: 'member', seat: 'paid', password: 'another horse battery' });
  const tok = await server.api('POST', '/api/v1/tokens', { name: 'grace', userId: g.body.user.id });
  grace = { id: g.body.user.id, token: tok.body.token };
  const raw = ['From: Carla Customer <carla@customer.example>', 'To: support@acme.test', 'Subject: Invoice 1003 is wrong', `Message-ID: <inv-1003-${process.pid}@customer.example>`, `Date: ${new Date().toUTCString()}`, '', 'The VAT number on invoice 1003 is wrong.', ''].join('\r\n');
  const r = await ingestBatch(createIngestor(env), team, [{ raw: Buffer.from(raw), source: 'smtp', direction: 'inbound', receivedAt: Date.now() }]);
  conversationId = (await server.database.db.selectFrom('messages').select('conversation_id').where('id', '=', r.messageIds[0]!).executeTakeFirstOrThrow()).conversation_id!;
  if (hasChromium) browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await closeDefaultParsePool();
  if (dist) fs.rmSync(dist, { recursive: true, force: true });
});

describe.skipIf(!hasChromium)('conversation actions', () => {
  test('assign to a colleague, mention them, forward with an attachment, snooze, move', async () => {
    const thread = async () => (await server.api('GET', `/api/v1/conversations/${conversationId}`)).body;
    const { context, page } = await signedInPage(browser, server);
    await page.goto(`${server.origin}/inbox/open?inbox=${support}&c=${conversationId}`);
    await page.getByRole('heading', { name: 'Invoice 1003 is wrong' }).waitFor();

    await page.getByLabel('Assign to').selectOption({ label: 'Grace Hopper' });
    await page.getByText('Assigned to Grace Hopper').waitFor();
    expect((await thread()).assignee?.id).toBe(grace.id);

    await page.keyboard.press('c');
    await page.getByLabel('Mention someone').selectOption({ label: 'Grace Hopper' });
    await expect.poll(() => page.getByLabel('Internal comment (the customer never sees it)').inputValue()).toBe('@Grace Hopper ');
    await page.getByLabel('Internal comment (the customer never sees it)').press('End');
    await page.keyboard.type('can you check the VAT number?');
    await page.getByRole('button', { name: 'Add comment' }).click();
    await page.getByText('@Grace Hopper can you check the VAT number?').waitFor();
    const comment = (await thread()).activity.find((a: any) => a.kind === 'comment');
    expect(comment.data.mentions).toEqual([{ id: grace.id, name: 'Grace Hopper' }]);
    const graceNotes = (await (await fetch(`${server.origin}/api/v1/notifications`, { headers: { authorization: `Bearer ${grace.token}` } })).json()).notifications;
    expect(graceNotes.map((n: any) => n.kind)).toContain('conversation.mentioned');

    await page.keyboard.press('r');
    await page.getByLabel('Reply mode').selectOption('forward');
    await page.getByLabel('Forward to').fill('accounting@acme-finance.example');
    await page.getByLabel('Note above the forwarded conversation').fill('Please reissue invoice 1003.');
    await page.getByLabel('Attach files to the reply').setInputFiles({ name: 'vat-certificate.txt', mimeType: 'text/plain', buffer: Buffer.from('VAT FR123') });
    await page.getByRole('list', { name: 'Reply attachments' }).getByText('vat-certificate.txt').waitFor();
    await screenshot(page, 'inbox-forward', { fullPage: false });
    await page.getByRole('button', { name: 'Forward', exact: true }).click();
    await expect.poll(async () => (await server.database.db.selectFrom('outbox').select('id').where('conversation_id', '=', conversationId).execute()).length).toBe(1);
    const out = await server.database.db.selectFrom('outbox').selectAll().where('conversation_id', '=', conversationId).executeTakeFirstOrThrow();
    expect(JSON.parse(out.envelope).to).toEqual(['accounting@acme-finance.example']);
    const sentRaw = (await createIngestor(server.app.deps.env).blobs.get(out.raw_sha256)).toString('latin1');
    expect(sentRaw).toMatch(/filename="?vat-certificate\.txt/);
    expect(sentRaw).toMatch(/^Subject: Fwd: Invoice 1003 is wrong/m);

    await page.getByLabel('Snooze').selectOption({ label: 'Until tomorrow 9:00' });
    await page.getByText(/^Snoozed until /).waitFor();
    const snoozed = await thread();
    expect(snoozed.status).toBe('snoozed');
    const until = new Date(snoozed.snoozedUntil);
    const tomorrow = new Date();
    tomorrow.setDate(tomorrow.getDate() + 1);
    expect([until.getDate(), until.getHours(), until.getMinutes()]).toEqual([tomorrow.getDate(), 9, 0]);

    await page.getByLabel('Move to inbox').selectOption({ label: 'Billing' });
    await expect.poll(async () => (await thread()).inboxId).toBe(billing);
    await context.close();
  }, 120_000);
});
