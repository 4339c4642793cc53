/**
 * The inbox page live, end to end: a real Mailroom (API + built web app), a team address by forwarding,
 * real inbound SMTP, and Chromium. A customer's email sent while the inbox is open appears without a
 * reload; the agent opens it, assigns it to themself, comments and closes it, and the API has it all.
 */
import fs from 'node:fs';
import nodemailer from 'nodemailer';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { buildWebApp, hasChromium, insertWebConnection, launchChromium, screenshot, signIn, startWebServer, type WebTestServer } from './support.js';
import { createIngestor } from '../../src/app/engine.js';
import { inboundWiring } from '../../src/app/features.js';
import { startInboundSmtp, type RunningInboundSmtp } from '../../src/mail/inbound-smtp.js';

let dist: string;
let server: WebTestServer;
let browser: Browser;
let smtp: RunningInboundSmtp;
let inboxId: string;
let forwarding: string;

beforeAll(async () => {
  dist = await buildWebApp();
  server = await startWebServer(dist);
  const env = server.app.deps.env;
  inboxId = (await server.api('POST', '/api/v1/inboxes', { name: 'Support' })).body.id;
  const team = await insertWebConnection(server, {
    type: 'team',
    address: 'support@acme.test',
    inboxId,
  });
  forwarding = team.forwarding_address!;
  smtp = await startInboundSmtp(createIngestor(env), { ...inboundWiring(), port: 0, host: '127.0.0.1', maxMessageBytes: 200_000, maxClients: 20, connectionsPerMinute: 1000, log: pino({ level: 'silent' }) });
  if (hasChromium) browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await smtp?.close();
  await server?.close();
  if (dist) fs.rmSync(dist, { recursive: true, force: true });
});

describe.skipIf(!hasChromium)('inbox live', () => {
  let page: Page;

  test('a new customer email appears in the open list without a reload; assign, comment, close', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    page = await context.newPage();
    await signIn(page, server.origin, server.admin.email, server.admin.password);
    await page.goto(`${server.origin}/inbox/open?inbox=${inboxId}`);
    await page.getByText('No open conversations. New customer email will show up here.').waitFor();
    // Give the EventSource a moment to connect before the mail arrives.
    await page.waitForTimeout(500);

    const info = await nodemailer.createTransport({ host: '127.0.0.1', port: smtp.port, secure: false, ignoreTLS: true }).sendMail({
      envelope: { from: 'carla@customer.example', to: [forwarding] },
      from: 'Carla Customer <carla@customer.example>',
      to: 'support@acme.test',
      subject: 'Where is order 1001?',
      text: 'Hello, my order 1001 has not arrived yet.',
      html: '<p>Hello, my order <b>1001</b> has not arrived yet.</p>',
    });
    expect(info.response).toMatch(/^250/);

    const row = page.getByRole('link', { name: /Where is order 1001\?/ });
    await row.waitFor({ timeout: 10_000 });
    await row.click();
    await page.getByRole('heading', { name: 'Where is order 1001?' }).waitFor();
    await page.frameLocator('iframe[title^="Message from"]').getByText('has not arrived yet').waitFor();
    const id = new URL(page.url()).searchParams.get('c')!;
    expect(id).toBeTruthy();

    await page.getByRole('button', { name: 'Assign to me' }).click();
    await page.getByText('Assigned to you').waitFor();

    await page.keyboard.press('c');
    await page.getByLabel('Internal comment (the customer never sees it)').fill('Checking with the warehouse.');
    await page.getByRole('button', { name: 'Add comment' }).click();
    await page.getByText('Checking with the warehouse.').waitFor();

    // A colleague opens the same conversation: each sees the other (presence heartbeat).
    const grace = await server.api('POST', '/api/v1/users', { email: `grace-${Date.now()}@example.com`, name: 'Grace Hopper', role: 'member', seat: 'paid', password: 'another horse battery' });
    expect(grace.status).toBe(201);
    const other = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const gp = await other.newPage();
    await signIn(gp, server.origin, grace.body.user.email, 'another horse battery');
    await gp.goto(`${server.origin}/inbox/open?inbox=${inboxId}&c=${id}`);
    // From the thread's viewers, or at the latest from Grace's next heartbeat answer (every 15 s).
    await gp.getByText('Ada Lovelace is also viewing').waitFor({ timeout: 20_000 });
    // Ada's page learns it without a reload: from the inbox's live presence event, or at the latest
    // from its next heartbeat (every 15 s).
    await page.getByText('Grace Hopper is also viewing').waitFor({ timeout: 20_000 });

    await page.keyboard.press('r');
    await page.getByText('From: Ada at Support <support@acme.test>').waitFor();
    await page.frameLocator('iframe[title^="Message from"]').getByText('has not arrived yet').waitFor();
    await screenshot(page, 'inbox-live', { fullPage: false });
    await page.getByRole('button', { name: 'Cancel' }).click();
    await other.close();

    await page.getByRole('button', { name: 'Close', exact: true }).click();
    await page.getByRole('button', { name: 'Reopen' }).waitFor();

    const thread = (await server.api('GET', `/api/v1/conversations/${id}`)).body;
    expect(thread.status).toBe('closed');
    expect(thread.assignee?.id).toBe(server.admin.userId);
    expect(thread.activity.some((a: any) => a.kind === 'comment' && a.data?.body === 'Checking with the warehouse.')).toBe(true);
    // And the open list no longer has it.
    await expect.poll(() => page.getByRole('link', { name: /Where is order 1001\?/ }).count(), { timeout: 10_000 }).toBe(0);

    // Search in the "All" view finds it by a body word; a word nowhere finds nothing.
    await page.getByRole('link', { name: 'All', exact: true }).click();
    await page.getByLabel('Search conversations').fill('warehouse1001 nothing');
    await page.getByLabel('Search conversations').press('Enter');
    await page.getByText('No conversations yet.').waitFor();
    await page.getByLabel('Search conversations').fill('arrived');
    await page.getByLabel('Search conversations').press('Enter');
    await page.getByRole('link', { name: /Where is order 1001\?/ }).waitFor();
    expect(new URL(page.url()).searchParams.get('q')).toBe('arrived');
    await context.close();
  }, 120_000);
});
