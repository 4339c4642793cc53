/**
 * Settings → Webhooks in Chromium against a real Mailroom: the empty state, adding an endpoint with chosen
 * event types, its whsec_ signing secret shown once (copied, gone after a reload, never in the API's list),
 * switching it off, the deliveries panel, deleting with confirmation; members do not see the page. And
 * every control the API has: full payloads, secret rotation with its overlap (both signatures reach a real
 * receiver on 127.0.0.1), the test event, the delivery log attempt by attempt (request headers and body,
 * status, latency, answer), replaying one delivery and a time range, and the log's retention.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { deliverEndpoint, publishEvent } from '../../src/features/webhooks/delivery.js';
import { setPrivateHostsForTest } from '../support/local-hosts.js';
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

  test('every API control: full payloads, rotation with overlap, test event, attempts log, replays, retention', async () => {
    // A real receiver on loopback (allowed as a private host for this test), answering 200 "thanks".
    const received: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.end('thanks');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const restoreHosts = setPrivateHostsForTest(['127.0.0.1']);
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/controls`;
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC' });
    try {
      const made = await server.api('POST', '/api/v1/webhooks', { url, description: 'Controls' });
      expect(made.status).toBe(201);
      const id = made.body.id as string;
      const endpoint = async () => (await server.api('GET', `/api/v1/webhooks/${id}`)).body as Record<string, unknown>;
      const page = await ctx.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await signIn(page, server.origin, server.admin.email, server.admin.password);
      await page.goto(server.origin + '/settings/webhooks');
      const card = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: url }) });
      await card.waitFor();

      // Full payloads on and off.
      await card.getByLabel('Full objects in events').check();
      await expect.poll(async () => (await endpoint()).payload).toBe('full');
      await card.getByText(/carry the object/).waitFor();
      await card.getByLabel('Full objects in events').uncheck();
      await expect.poll(async () => (await endpoint()).payload).toBe('thin');

      // Rotation: a new secret once, the previous one signing during the overlap asked for (2 hours).
      await card.getByRole('button', { name: 'Rotate secret' }).click();
      const rotate = page.getByRole('dialog', { name: 'Rotate the signing secret?' });
      await rotate.getByLabel('Overlap (hours)').fill('2');
      await rotate.getByRole('button', { name: 'Rotate secret' }).click();
      const rotated = card.getByRole('status').filter({ hasText: 'New signing secret' });
      await rotated.waitFor();
      const secret = (await rotated.getByLabel(`New signing secret for ${url}`).textContent()) ?? '';
      expect(secret).toMatch(/^whsec_/);
      expect(secret).not.toBe(made.body.secret);
      const until = (await endpoint()).previousSecretExpiresAt as string;
      expect(Date.parse(until) - Date.now()).toBeGreaterThan(1.9 * 3600_000);
      expect(Date.parse(until) - Date.now()).toBeLessThan(2.1 * 3600_000);
      await rotated.getByText(/previous secret also signs deliveries until/).waitFor();
      await rotated.getByRole('button', { name: 'I have saved it' }).click();
      await card.getByText(/The previous secret also signs until/).waitFor();

      // The test event, fanned out and sent by the product's own jobs (run by hand: no worker here).
      await card.getByRole('button', { name: 'Send a test event' }).click();
      await card.getByText(/Test event queued/).waitFor();
      const env = server.app.deps.env;
      const deliver = async () => {
        await deliverEndpoint(env, id);
      };
      const event = await env.db.selectFrom('events').select('id').where('type', '=', 'webhook.test').where('data', 'like', `%${id}%`).executeTakeFirstOrThrow();
      await publishEvent(env, event.id);
      await deliver();
      expect(received).toHaveLength(1);
      // Both secrets sign during the overlap.
      expect(String(received[0]!.headers['webhook-signature']).split(' ')).toHaveLength(2);
      await card.getByRole('button', { name: 'Refresh' }).click();
      const row = card.getByRole('row').filter({ has: page.getByRole('button', { name: /^Replay webhook\.test/ }) });
      await row.getByText('Delivered').waitFor();

      // The attempts log: request headers and body, status, latency, the answer.
      await row.getByRole('button', { name: /^Attempts of webhook\.test/ }).click();
      const detail = card.getByRole('region', { name: /^Delivery msg_/ });
      await detail.getByText(/^Attempt 1/).waitFor();
      await detail.getByText(/HTTP 200 · \d+ ms/).waitFor();
      const webhookId = String(received[0]!.headers['webhook-id']);
      expect(await detail.getByRole('figure', { name: 'Request headers' }).textContent()).toContain(`webhook-id: ${webhookId}`);
      expect(await detail.getByRole('figure', { name: 'Request headers' }).textContent()).toContain(`webhook-signature: ${String(received[0]!.headers['webhook-signature'])}`);
      expect(await detail.getByRole('figure', { name: 'Request body (the same for every attempt)' }).textContent()).toContain(received[0]!.body);
      expect(await detail.getByRole('figure', { name: 'Response (first kilobyte)' }).textContent()).toContain('thanks');
      await screenshot(page, 'settings-webhooks-attempts');

      // Replay a time range (every finished delivery of events in it), then send it: a second attempt, same webhook-id.
      await card.getByRole('button', { name: 'Replay events…' }).click();
      const range = card.getByRole('form', { name: 'Replay a time range' });
      const local = (ms: number) => new Date(ms).toISOString().slice(0, 16);
      await range.getByLabel('From').fill(local(Date.now() - 3600_000));
      await range.getByLabel('To').fill(local(Date.now() + 3600_000));
      await range.getByLabel('Only failed deliveries').uncheck();
      await range.getByRole('button', { name: 'Replay range' }).click();
      await range.getByText('1 delivery will be sent again.').waitFor();
      await deliver();
      expect(received).toHaveLength(2);
      expect(received[1]!.headers['webhook-id']).toBe(webhookId);
      await card.getByRole('button', { name: 'Refresh' }).click();
      await detail.getByText(/^Attempt 2/).waitFor();

      // Replay the one delivery: pending again, sent once more.
      await row.getByRole('button', { name: /^Replay webhook\.test/ }).click();
      await row.getByText('Pending').waitFor();
      await deliver();
      expect(received).toHaveLength(3);
      expect(received[2]!.headers['webhook-id']).toBe(webhookId);
      await card.getByRole('button', { name: 'Refresh' }).click();
      await detail.getByText(/^Attempt 3/).waitFor();
      await row.getByText('Delivered').waitFor();

      // Retention of the delivery log.
      const retention = page.getByLabel('Keep the delivery log for (days)');
      await expect.poll(() => retention.inputValue()).toBe('30');
      await retention.fill('7');
      await page.getByRole('form', { name: 'Delivery log' }).getByRole('button', { name: 'Save' }).click();
      await page.getByText('Saved.').waitFor();
      expect((await server.api('GET', '/api/v1/webhooks/settings')).body).toEqual({ logRetentionDays: 7 });
      await page.reload();
      await expect.poll(() => page.getByLabel('Keep the delivery log for (days)').inputValue()).toBe('7');
      expect(errors).toEqual([]);
    } finally {
      await ctx.close();
      restoreHosts();
      await new Promise((r) => receiver.close(r));
    }
  });
});
