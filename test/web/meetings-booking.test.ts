/**
 * The public booking page in Chromium against a real Mailroom (no sign-in): slots in the visitor's time
 * zone (Kathmandu, +05:45), booking a slot, the same slot refused in a second tab opened before ("just
 * taken", with the next free times), then cancelling through the manage link.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { buildWebApp, hasChromium, launchChromium, screenshot, startWebServer, type WebTestServer } from './support.js';
import { insertConnection } from '../support/connections.js';

let dist: string;
let server: WebTestServer;
let browser: Browser;
const slug = `ada-intro-${process.pid}`;

beforeAll(async () => {
  dist = await buildWebApp();
  server = await startWebServer(dist);
  await insertConnection({ database: server.database, env: server.app.deps.env }, {
    accountId: server.admin.accountId,
    userId: server.admin.userId,
    type: 'personal',
    address: `ada-${process.pid}@example.test`,
    smtp: { host: '127.0.0.1', port: 2, username: 'ada', password: 'x' },
    transport: 'forwarding',
    overrides: { use_for_meetings: 1 },
  });
  const r = await server.api('POST', '/api/v1/meeting-types', {
    name: 'Intro call',
    slug,
    durationMin: 30,
    minNoticeMin: 0,
    window: { kind: 'rolling', days: 3 },
    availability: { timeZone: 'UTC', weekly: Object.fromEntries(['1', '2', '3', '4', '5', '6', '7'].map((d) => [d, [{ start: '00:00', end: '24:00' }]])) },
    questions: [{ id: 'company', label: 'Company', required: false }],
  });
  if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  if (hasChromium) browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dist) fs.rmSync(dist, { recursive: true, force: true });
});

describe.skipIf(!hasChromium)('public booking page', () => {
  test('a visitor books in their time zone; a second tab cannot take the same slot; cancel through the link', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1100, height: 900 }, timezoneId: 'Asia/Kathmandu' });
    const tab1 = await ctx.newPage();
    const tab2 = await ctx.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    for (const p of [tab1, tab2]) {
      p.on('pageerror', (e) => errors.push(String(e)));
      p.on('request', (r) => requests.push(r.url()));
    }
    await tab1.goto(`${server.origin}/meet/${slug}`);
    await tab1.getByRole('heading', { name: 'Intro call', level: 1 }).waitFor();
    await tab1.getByText('30 minutes with Ada Lovelace').waitFor();
    expect(await tab1.getByLabel('Times are shown in').inputValue()).toMatch(/^Asia\/Kath?mandu$/); // Chromium's ICU may say the old name
    const first = tab1.locator('.booking-slots button').first();
    // Kathmandu is UTC+05:45: slots on the half hour in UTC read :15 and :45.
    expect(await first.textContent()).toMatch(/^\d\d:(15|45)$/);

    await tab2.goto(`${server.origin}/meet/${slug}`);
    await tab2.locator('.booking-slots button').first().waitFor();
    const label = (await first.textContent())!;

    await first.click();
    await tab1.getByLabel('Your name').fill('Vic Visitor');
    await tab1.getByLabel('Your email').fill('vic@visitor.test');
    await tab1.getByLabel('Company (optional)').fill('Visitors Inc');
    await tab1.getByRole('button', { name: 'Book this time' }).click();
    await tab1.getByText('You are booked').waitFor();
    await screenshot(tab1, 'meetings-booked');

    // The second tab still shows the slot; booking it is refused with the next free times.
    await tab2.locator('.booking-slots button', { hasText: label }).first().click();
    await tab2.getByLabel('Your name').fill('Other Visitor');
    await tab2.getByLabel('Your email').fill('other@visitor.test');
    await tab2.getByRole('button', { name: 'Book this time' }).click();
    await tab2.getByRole('alert').filter({ hasText: 'This time was just taken' }).waitFor();
    await tab2.getByText('Next free times:').waitFor();

    const meetings = (await server.api('GET', '/api/v1/meetings')).body.meetings as Array<{ visitorEmail: string; status: string }>;
    expect(meetings.map((m) => m.visitorEmail)).toEqual(['vic@visitor.test']);

    await tab1.getByRole('link', { name: 'Reschedule or cancel' }).click();
    await tab1.getByRole('button', { name: 'Cancel meeting' }).click();
    await tab1.getByText('This meeting is cancelled').waitFor();
    const after = (await server.api('GET', '/api/v1/meetings')).body.meetings as Array<{ status: string }>;
    expect(after.map((m) => m.status)).toEqual(['cancelled']);

    // Public: the page never asked for a session.
    expect(requests.filter((u) => u.includes('/api/v1/session'))).toEqual([]);
    expect(errors).toEqual([]);
    await ctx.close();
  }, 60_000);
});
