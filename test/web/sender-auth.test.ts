/**
 * Sender authentication in the conversation view (Chromium, real server): a verified message shows
 * "mailed by" and "signed by" with the details one click away; a message whose From failed DMARC under
 * p=reject shows a warning that it may be forged; a message that was never checked shows neither.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { buildWebApp, hasChromium, insertWebConnection, launchChromium, screenshot, signedInPage, startWebServer, type WebTestServer } from './support.js';
import { createIngestor } from '../../src/app/engine.js';
import { ingestBatch } from '../../src/features/ingest/ingest.js';
import { closeDefaultParsePool } from '../../src/mail/parse/index.js';
import type { SenderAuth } from '../../src/mail/sender-auth.js';

let dist: string;
let server: WebTestServer;
let browser: Browser;
let support: string;
let conversationId: string;

const verified: SenderAuth = {
  spf: { result: 'pass', domain: 'customer.example' },
  dkim: [{ domain: 'customer.example', selector: 's1', result: 'pass', aligned: true }],
  dmarc: { result: 'pass', domain: 'customer.example', policy: 'reject' },
  arc: null,
  flagged: false,
};
const forged: SenderAuth = {
  spf: { result: 'pass', domain: 'bulk.example' },
  dkim: [],
  dmarc: { result: 'fail', domain: 'customer.example', policy: 'reject' },
  arc: null,
  flagged: true,
};

beforeAll(async () => {
  dist = await buildWebApp();
  server = await startWebServer(dist);
  const env = server.app.deps.env;
  support = (await server.api('POST', '/api/v1/inboxes', { name: 'Support' })).body.id;
  const team = await insertWebConnection(server, {
    type: 'team',
    address: 'support@acme.test',
    inboxId: support,
  });
  const mail = (id: string, body: string, extra: string[] = []) =>
    Buffer.from(
      [
        'From: Carla Customer <carla@customer.example>',
        'To: support@acme.test',
        'Subject: Refund for order 88',
        `Message-ID: <${id}-${process.pid}@customer.example>`,
        ...extra,
        `Date: ${new Date().toUTCString()}`,
        '',
        body,
        '',
      ].join('\r\n'),
    );
  const ingestor = createIngestor(env);
  const now = Date.now();
  const r = await ingestBatch(ingestor, team, [
    { raw: mail('a', 'Please refund order 88.'), source: 'smtp', direction: 'inbound', receivedAt: now, senderAuth: verified },
    {
      raw: mail('b', 'Send the refund to this new account instead.', [`In-Reply-To: <a-${process.pid}@customer.example>`]),
      source: 'smtp',
      direction: 'inbound',
      receivedAt: now + 1000,
      senderAuth: forged,
    },
    { raw: mail('c', 'Synced over IMAP.', [`In-Reply-To: <a-${process.pid}@customer.example>`]), source: 'imap', direction: 'inbound', receivedAt: now + 2000 },
  ]);
  conversationId = (await server.database.db.selectFrom('messages').select('conversation_id').where('id', '=', r.messageIds[0]!).executeTakeFirstOrThrow()).conversation_id!;
  if (hasChromium) browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await closeDefaultParsePool();
  if (dist) fs.rmSync(dist, { recursive: true, force: true });
});

describe.skipIf(!hasChromium)('sender authentication in the conversation view', () => {
  test('mailed by / signed by on a verified message, a forgery warning on the flagged one, nothing on an unchecked one', async () => {
    const { context, page } = await signedInPage(browser, server);
    await page.goto(`${server.origin}/inbox/open?inbox=${support}&c=${conversationId}`);
    await page.getByRole('heading', { name: 'Refund for order 88' }).waitFor();
    const messages = page.locator('li.message');
    await expect.poll(() => messages.count()).toBe(3);

    const first = messages.nth(0);
    await first.getByText('mailed by customer.example · signed by customer.example').click();
    await first.getByText('pass (customer.example, policy reject)').waitFor();
    expect(await first.getByRole('note').count()).toBe(0);

    const second = messages.nth(1);
    const warning = second.getByRole('note');
    await warning.waitFor();
    expect(await warning.textContent()).toMatch(
      /Possibly forged sender.*carla@customer\.example.*customer\.example asks that such mail be rejected.*not linked to a contact nor added to a contact's timeline/,
    );
    await second.getByText('mailed by bulk.example · not signed').waitFor();

    const third = messages.nth(2);
    expect(await third.locator('.sender-auth').count()).toBe(0);
    await screenshot(page, 'sender-auth');
    await context.close();
  });
});
