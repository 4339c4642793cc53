/**
 * Settings → Meetings in Chromium: without a personal meetings address the page says why (team email is
 * never used for meetings) and publishing is refused with what to do; with one, a page is published and
 * listed with its public link.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { buildWebApp, hasChromium, launchChromium, screenshot, signIn, startWebServer, type WebTestServer } from './support.js';
import { insertConnection } from '../support/connections.js';

let dist: string;
let server: WebTestServer;
let browser: Browser;

beforeAll(async () => {
  dist = await buildWebApp();
  server = await startWebServer(dist);
  if (hasChromium) browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dist) fs.rmSync(dist, { recursive: true, force: true });
});

describe.skipIf(!hasChromium)('Settings → Meetings', () => {
  test('explains why team email cannot host meetings; publishes a page once a personal meetings address exists', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'Europe/Paris' });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await signIn(page, server.origin, server.admin.email, server.admin.password);
    await page.goto(server.origin + '/settings/email');
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Meetings' }).click();
    await page.getByRole('heading', { name: 'Meetings', level: 1 }).waitFor();
    await page.getByText('No meetings address').waitFor();
    await page.getByText('a shared address has no one owner or calendar').first().waitFor();

    await page.getByLabel('Page address (/meet/…)').fill('ada-intro');
    await page.getByRole('button', { name: 'Publish page' }).click();
    await page.getByRole('alert').filter({ hasText: 'no meetings address' }).waitFor();

    await insertConnection({ database: server.database, env: server.app.deps.env }, {
      accountId: server.admin.accountId,
      userId: server.admin.userId,
      type: 'personal',
      address: `ada-${process.pid}@example.test`,
      transport: 'forwarding',
      overrides: { use_for_meetings: 1 },
    });
    await page.reload();
    await page.getByText(`Invitations are sent from ada-${process.pid}@example.test.`).waitFor();
    await page.getByLabel('Page address (/meet/…)').fill('ada-intro');
    await page.getByRole('button', { name: 'Publish page' }).click();
    const link = page.getByRole('list', { name: 'Booking pages' }).getByRole('link', { name: /\/meet\/ada-intro$/ });
    await link.waitFor();
    await screenshot(page, 'settings-meetings');
    const pages = (await server.api('GET', '/api/v1/meeting-types')).body.meetingTypes as Array<{ slug: string; availability: { timeZone: string } }>;
    expect(pages.map((p) => [p.slug, p.availability.timeZone])).toEqual([['ada-intro', 'Europe/Paris']]);
    expect(errors).toEqual([]);
    await ctx.close();
  }, 60_000);
});
