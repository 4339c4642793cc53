/**
 * Service-level targets (issue 21, item 9) in Chromium against the real server: an admin sets the
 * targets and business hours in Settings → Inboxes (checked through the API, kept after a reload); the
 * inbox's "SLA breached" view lists the conversation whose first response is past due, with its due time,
 * and "Breaching soon" the one due within the threshold.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { buildWebApp, hasChromium, launchChromium, screenshot, signedInPage, startWebServer, type WebTestServer } from './support.js';
import { insertConnection } from '../support/connections.js';
import type { TestApp } from '../support/app.js';
import { createIngestor } from '../../src/app/engine.js';
import { ingestBatch } from '../../src/features/ingest/ingest.js';
import { closeDefaultParsePool } from '../../src/mail/parse/index.js';

let dist: string;
let server: WebTestServer;
let browser: Browser;
let inboxId: string;
let late: string;
let soon: string;

beforeAll(async () => {
  dist = await buildWebApp();
  server = await startWebServer(dist);
  const env = server.app.deps.env;
  inboxId = (await server.api('POST', '/api/v1/inboxes', { name: 'Support' })).body.id;
  const team = await insertConnection({ env, database: server.database } as unknown as TestApp, { accountId: server.admin.accountId, userId: server.admin.userId, type: 'team', address: 'support@acme.test', inboxId });
  const ingestor = createIngestor(env);
  const deliver = async (subject: string, minutesAgo: number) => {
    const at = Date.now() - minutesAgo * 60_000;
    const raw = ['From: Carla Customer <carla@customer.example>', 'To: support@acme.test', `Subject: ${subject}`, `Message-ID: <${subject.replace(/\W/g, '')}-${process.pid}@customer.example>`, `Date: ${new Date(at).toUTCString()}`, '', 'Hello?', ''].join('\r\n');
    const r = await ingestBatch(ingestor, team, [{ raw: Buffer.from(raw), source: 'smtp', direction: 'inbound', receivedAt: at }]);
    return (await server.database.db.selectFrom('messages').select('conversation_id').where('id', '=', r.messageIds[0]!).executeTakeFirstOrThrow()).conversation_id!;
  };
  late = await deliver('Still no refund', 90); // first response due 60 minutes after: 30 minutes late
  soon = await deliver('Question about my plan', 50); // due in 10 minutes
  if (hasChromium) browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await closeDefaultParsePool();
  if (dist) fs.rmSync(dist, { recursive: true, force: true });
});

describe.skipIf(!hasChromium)('SLA', () => {
  test('an admin sets the targets in Settings → Inboxes; the breached and breaching-soon views list the late conversations', async () => {
    const { context, page, errors } = await signedInPage(browser, server, { timeoutMs: 10_000 });

    await page.goto(server.origin + '/settings/inboxes');
    const card = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Support', level: 2 }) });
    await card.getByText('Service-level targets (SLA)').click();
    const form = card.getByRole('form', { name: 'Service-level targets of Support' });
    await form.getByLabel('First response within (business minutes)').fill('45');
    await form.getByLabel('Resolution within (business minutes)').fill('480');
    await form.getByLabel('Breaching soon when due within (business minutes)').fill('30');
    await form.getByLabel('Time zone').fill('Europe/Paris');
    await form.getByLabel('Saturday').fill('10:00-12:00, 14:00-16:00');
    await form.getByRole('button', { name: 'Save targets' }).click();
    await form.getByText('Targets saved.').waitFor();
    const saved = (await server.api('GET', `/api/v1/inboxes/${inboxId}/sla`)).body;
    expect(saved).toMatchObject({ firstResponseMinutes: 45, resolutionMinutes: 480, soonMinutes: 30, workingHours: { timezone: 'Europe/Paris', days: { mon: [['09:00', '17:00']], sat: [['10:00', '12:00'], ['14:00', '16:00']] } } });
    expect(saved.workingHours.days.sun).toBeUndefined();

    // A bad range is refused with a message naming the day, nothing saved.
    await form.getByLabel('Sunday').fill('all day');
    await form.getByRole('button', { name: 'Save targets' }).click();
    await form.getByText('Sunday: write hours as 09:00-17:00').waitFor();
    await form.getByLabel('Sunday').fill('');

    // Around the clock, 60 minutes to first response: the one that waited 90 minutes has breached.
    await form.getByLabel('Around the clock (every minute counts)').check();
    await form.getByLabel('First response within (business minutes)').fill('60');
    await form.getByRole('button', { name: 'Save targets' }).click();
    await form.getByText('Targets saved.').waitFor();
    await expect.poll(async () => (await server.api('GET', `/api/v1/inboxes/${inboxId}/sla`)).body).toMatchObject({ firstResponseMinutes: 60, workingHours: null });
    await page.reload();
    await card.getByText('Service-level targets (SLA)').click();
    expect(await form.getByLabel('First response within (business minutes)').inputValue()).toBe('60');
    expect(await form.getByLabel('Around the clock (every minute counts)').isChecked()).toBe(true);
    await screenshot(page, 'settings-inbox-sla');

    await page.goto(`${server.origin}/inbox/open?inbox=${inboxId}`);
    await page.getByRole('navigation', { name: 'Inbox views' }).getByRole('link', { name: 'SLA breached' }).click();
    const list = page.getByRole('region', { name: 'Conversations: SLA breached' });
    await list.getByText('Still no refund').waitFor();
    expect(await list.getByText('Question about my plan').count()).toBe(0);
    await list.getByText(/First response target breached/).waitFor();
    await list.getByText('Still no refund').click();
    await page.getByRole('heading', { name: 'Still no refund' }).waitFor();
    await page.getByLabel('Service-level targets').getByText(/First response target breached/).waitFor();
    await screenshot(page, 'inbox-sla-breached');

    await page.getByRole('navigation', { name: 'Inbox views' }).getByRole('link', { name: 'Breaching soon' }).click();
    const soonList = page.getByRole('region', { name: 'Conversations: Breaching soon' });
    await soonList.getByText('Question about my plan').waitFor();
    expect(await soonList.getByText('Still no refund').count()).toBe(0);
    await soonList.getByText(/First response due/).waitFor();
    const api = (await server.api('GET', `/api/v1/inboxes/${inboxId}/conversations?view=breaching_soon`)).body.conversations;
    expect(api.map((c: { id: string }) => c.id)).toEqual([soon]);
    expect((await server.api('GET', `/api/v1/inboxes/${inboxId}/conversations?view=breached`)).body.conversations.map((c: { id: string }) => c.id)).toEqual([late]);
    expect(errors).toEqual([]);
    await context.close();
  });
});
