/**
 * Snippets by typing in the inbox composer (issue 21, item 6), in Chromium against a real Mailroom: typing
 * `/re` offers the snippets whose shortcut matches, under the composer, while the composer keeps the focus;
 * Arrow down / up move through them, Enter inserts the chosen one in place of `/re` (its paragraphs as
 * lines), Escape closes the list and leaves the text and the conversation as they were; a shortcut that
 * matches nothing offers nothing. The reply sent carries the snippet.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { buildWebApp, hasChromium, launchChromium, signedInPage, startWebServer, type WebTestServer } from './support.js';
import { insertConnection } from '../support/connections.js';
import type { TestApp } from '../support/app.js';
import { createIngestor } from '../../src/app/engine.js';
import { ingestBatch } from '../../src/features/ingest/ingest.js';
import { closeDefaultParsePool } from '../../src/mail/parse/index.js';

let dist: string;
let server: WebTestServer;
let browser: Browser;
let inboxId: string;
let conversationId: string;

beforeAll(async () => {
  dist = await buildWebApp();
  server = await startWebServer(dist);
  const env = server.app.deps.env;
  inboxId = (await server.api('POST', '/api/v1/inboxes', { name: 'Support' })).body.id;
  const team = await insertConnection({ env, database: server.database } as unknown as TestApp, { accountId: server.admin.accountId, userId: server.admin.userId, type: 'team', address: 'support@acme.test', inboxId });
  for (const s of [
    { name: 'Refund policy', shortcut: 'refund', html: '<p>Refunds take five days.</p><p>Thanks for your patience!</p>' },
    { name: 'Return label', shortcut: 'return', html: '<p>Here is your return label.</p>' },
    { name: 'Greeting', shortcut: 'hi', html: '<p>Hello there,</p>' },
  ]) {
    const r = await server.api('POST', '/api/v1/email-templates', { kind: 'snippet', ...s });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  }
  const raw = ['From: Carla Customer <carla@customer.example>', 'To: support@acme.test', 'Subject: Where is my refund', `Message-ID: <refund-${process.pid}@customer.example>`, `Date: ${new Date().toUTCString()}`, '', 'I sent the parcel back last week.', ''].join('\r\n');
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

describe.skipIf(!hasChromium)('snippets by typing in the inbox composer', () => {
  test('/re offers two; arrows choose, Enter inserts, Escape closes; keyboard only', async () => {
    const { context, page, errors } = await signedInPage(browser, server, { timeoutMs: 10_000 });
    await page.goto(`${server.origin}/inbox/open?inbox=${inboxId}&c=${conversationId}`);
    await page.getByRole('heading', { name: 'Where is my refund' }).waitFor();
    await page.keyboard.press('r');
    const box = page.getByLabel('Reply to the customer');
    await expect.poll(() => box.evaluate((el) => el === document.activeElement)).toBe(true);

    await page.keyboard.type('Dear Carla,');
    await page.keyboard.press('Shift+Enter');
    await page.keyboard.type('/re');
    const list = page.getByRole('listbox', { name: 'Matching snippets' });
    await list.waitFor();
    const options = list.getByRole('option');
    expect(await options.allTextContents()).toEqual(['/refund Refund policy', '/return Return label']);
    const selected = async () => (await list.getByRole('option', { selected: true }).textContent()) ?? '';
    const pointsAt = async () => box.evaluate((el) => document.getElementById(el.getAttribute('aria-activedescendant') ?? '')?.textContent ?? null);
    expect(await selected()).toBe('/refund Refund policy');
    expect(await pointsAt()).toBe('/refund Refund policy');
    // The composer keeps the focus while the list is open.
    expect(await box.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.getByRole('status').filter({ hasText: '2 snippets match' }).waitFor();

    await page.keyboard.press('ArrowDown');
    expect(await selected()).toBe('/return Return label');
    expect(await pointsAt()).toBe('/return Return label');
    await page.keyboard.press('ArrowDown'); // wraps around
    expect(await selected()).toBe('/refund Refund policy');
    await page.keyboard.press('ArrowUp');
    expect(await selected()).toBe('/return Return label');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.type('f'); // narrows to /ref
    await expect.poll(() => options.count()).toBe(1);
    await page.keyboard.press('Enter');
    await expect.poll(() => list.count()).toBe(0);
    expect(await box.inputValue()).toBe('Dear Carla,\nRefunds take five days.\n\nThanks for your patience!');
    expect(await box.getAttribute('aria-activedescendant')).toBeNull();

    // Escape closes the list, keeps the text and the conversation open.
    await page.keyboard.type(' /hi');
    await list.getByRole('option', { name: '/hi Greeting' }).waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(() => list.count()).toBe(0);
    expect(await box.inputValue()).toMatch(/patience! \/hi$/);
    expect(new URL(page.url()).searchParams.get('c')).toBe(conversationId);
    // Enter with the list closed is a new line, as ever; a shortcut that matches nothing offers nothing.
    await page.keyboard.press('Enter');
    await page.keyboard.type('/zz');
    // The composer's value is React state: once it shows /zz, the list for /zz has rendered too.
    await expect.poll(() => box.inputValue()).toMatch(/\/zz$/);
    expect(await list.count()).toBe(0);
    for (let i = 0; i < 3 + ' /hi\n'.length; i++) await page.keyboard.press('Backspace');
    expect(await box.inputValue()).toBe('Dear Carla,\nRefunds take five days.\n\nThanks for your patience!');

    await page.getByRole('button', { name: 'Send reply' }).click();
    await page.getByText(/^Reply (queued|sending|sent)/).first().waitFor();
    const outbox = await server.database.db.selectFrom('outbox').select('raw_sha256').where('conversation_id', '=', conversationId).execute();
    expect(outbox).toHaveLength(1);
    const raw = (await createIngestor(server.app.deps.env).blobs.get(outbox[0]!.raw_sha256)).toString('utf8');
    expect(raw).toContain('Refunds take five days.');
    expect(raw).not.toContain('/ref');
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);
});
