/**
 * Settings → Webhooks in Chromium against a real Mailroom: the empty state, adding an endpoint with chosen
 * event types, its whsec_ signing secret shown once (copied, gone after a reload, never in the API's list),
 * switching it off, the deliveries panel, deleting with confirmation; members do not see the page.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { publishEvent } from '../../src/features/webhooks/delivery.js';
import { buildWebApp, hasChromium, launchChromium, screenshot, signIn, startWebServer, type WebTestServer } from './support.js';

let dist: string;
let server: WebTestServer;
let browser: Browser;

beforeAll(async () => {
  dist = await buildWebApp();
  server = await startWebServer(dist);
  if (hasChromium) browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dist) fs.rmSync(dist, { recursive: true, force: true });
});

const endpoints = async () => (await server.api('GET', '/api/v1/webhooks')).body.endpoints as Array<Record<string, unknown>>;

describe.skipIf(!hasChromium)('Settings → Webhooks', () => {
  test('an admin adds an endpoint; its secret is shown once, then managed and deleted', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.origin });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await signIn(page, server.origin, server.admin.email, server.admin.password);
    await page.goto(server.origin + '/settings/email');
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    await page.getByText('No webhook endpoints yet').waitFor();

    await page.getByLabel('URL').fill('https://hooks.example.com/mailroom');
    await page.getByLabel('Description (optional)').fill('CRM sync');
    await page.getByLabel('Every event, including ones added later').uncheck();
    const types = page.getByRole('list', { name: 'Event types' });
    await types.getByLabel(/contact\.created/).check();
    await types.getByLabel(/email\.received/).check();
    await page.getByRole('button', { name: 'Add endpoint' }).click();

    const secretNote = page.getByRole('status').filter({ hasText: 'you will not see it again' });
    await secretNote.waitFor();
    const secret = (await secretNote.getByLabel('Signing secret for https://hooks.example.com/mailroom').textContent()) ?? '';
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]{20,}$/);
    await secretNote.getByRole('button', { name: 'Copy' }).click();
    await secretNote.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);

    const list = await endpoints();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ url: 'https://hooks.example.com/mailroom', description: 'CRM sync', eventTypes: ['contact.created', 'email.received'], enabled: true });
    expect(JSON.stringify(list)).not.toContain(secret);
    const id = list[0]!.id as string;
    const card = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'https://hooks.example.com/mailroom' }) });
    await card.getByText('contact.created, email.received').waitFor();
    await screenshot(page, 'settings-webhooks-created');

    // Dismissed, or after a reload, the secret is nowhere on the page.
    await secretNote.getByRole('button', { name: 'I have saved it' }).click();
    expect(await page.getByText(secret).count()).toBe(0);
    await page.reload();
    await card.waitFor();
    expect(await page.content()).not.toContain(secret);

    // Switch it off and on.
    await card.getByLabel('Send events to this endpoint').uncheck();
    await expect.poll(async () => (await endpoints())[0]!.enabled).toBe(false);
    await card.getByText('Disabled', { exact: true }).waitFor();
    await card.getByLabel('Send events to this endpoint').check();
    await expect.poll(async () => (await endpoints())[0]!.enabled).toBe(true);

    // Deliveries: none yet, said plainly; a test event shows there once the fan-out job (the product's
    // own, run here by hand: no worker in this server) has made its delivery.
    await card.getByRole('button', { name: 'Latest deliveries' }).click();
    await card.getByText(/Nothing sent yet/).waitFor();
    await card.getByRole('button', { name: 'Send a test event' }).click();
    await card.getByText(/Test event queued/).waitFor();
    const env = server.app.deps.env;
    const event = await env.db.selectFrom('events').select('id').where('type', '=', 'webhook.test').executeTakeFirstOrThrow();
    await publishEvent(env, event.id);
    await card.getByRole('button', { name: 'Refresh' }).click();
    await card.getByRole('row').filter({ hasText: 'webhook.test' }).getByText('Pending').waitFor();
    await screenshot(page, 'settings-webhooks-deliveries');

    // Delete, after confirming.
    await card.getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete this endpoint?' });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await endpoints()).toHaveLength(1);
    await card.getByRole('button', { name: 'Delete' }).click();
    await dialog.getByRole('button', { name: 'Delete endpoint' }).click();
    await page.getByText('No webhook endpoints yet').waitFor();
    expect(await endpoints()).toHaveLength(0);
    expect((await server.api('GET', `/api/v1/webhooks/${id}`)).status).toBe(404);
    expect(errors).toEqual([]);
    await ctx.close();
  });

  test('phone width (375 px): the form and its event list do not overflow sideways', async () => {
    await server.api('POST', '/api/v1/webhooks', { url: 'https://a-rather-long-host-name.hooks.example.com/mailroom/events/incoming', description: 'Phone check' });
    const phone = await browser.newContext({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true });
    const p = await phone.newPage();
    await signIn(p, server.origin, server.admin.email, server.admin.password);
    await p.goto(server.origin + '/settings/webhooks');
    await p.getByText('Phone check').waitFor();
    await p.getByLabel('Every event, including ones added later').uncheck();
    await p.getByRole('list', { name: 'Event types' }).waitFor();
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await screenshot(p, 'phone-settings-webhooks');
    await phone.close();
  });

  test('members see no Webhooks link and no page', async () => {
    const created = await server.api('POST', '/api/v1/users', { email: `bo-${Date.now()}@example.com`, name: 'Bo Chen', password: 'bo-password-123' });
    expect(created.status).toBe(201);
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const p = await ctx.newPage();
    await signIn(p, server.origin, created.body.user.email, 'bo-password-123');
    await p.goto(server.origin + '/settings/email');
    await p.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Email' }).waitFor();
    expect(await p.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Webhooks' }).count()).toBe(0);
    await p.goto(server.origin + '/settings/webhooks');
    await p.getByText('Admins only').waitFor();
    expect(await p.getByLabel('URL').count()).toBe(0);
    await ctx.close();
  });
});
