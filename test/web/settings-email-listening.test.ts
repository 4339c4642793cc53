/**
 * Settings → Email shows whether each mailbox is listening for new mail (issue 20's `listening` in the
 * API): live, polling, waiting to reconnect (since when), nothing for a forwarding address. The rows are
 * made by the test factory with the columns a worker's mailbox session writes, and the worker's lease
 * taken with the product's lease function; what the browser shows is the real API's answer.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { buildWebApp, hasChromium, launchChromium, screenshot, signIn, startWebServer, type WebTestServer } from './support.js';
import { insertConnection } from '../support/connections.js';
import type { TestApp } from '../support/app.js';
import { acquireLease } from '../../src/platform/jobs/lease.js';

let dist: string;
let server: WebTestServer;
let browser: Browser;
const ids: Record<'live' | 'polling' | 'waiting' | 'forwarding', string> = { live: '', polling: '', waiting: '', forwarding: '' };
const waitingSince = Date.UTC(2026, 0, 15, 9, 30);

beforeAll(async () => {
  dist = await buildWebApp();
  server = await startWebServer(dist);
  const t = { env: server.app.deps.env, database: server.database } as unknown as TestApp;
  const db = server.app.deps.env.db;
  const base = { accountId: server.admin.accountId, userId: server.admin.userId, type: 'personal' as const, imap: { host: '127.0.0.1', port: 1, username: 'x', password: 'x' }, smtp: { host: '127.0.0.1', port: 1, username: 'x', password: 'x' } };
  const now = Date.now();
  const make = async (address: string, overrides: object) => (await insertConnection(t, { ...base, address, overrides: { state: 'active', stage: null, is_default_from: 0, ...overrides } })).id;
  ids.live = await make('ada@live.example', { listening: 'live', listening_since: now - 60_000 });
  ids.polling = await make('ada@polling.example', { listening: 'polling', listening_since: now - 60_000 });
  ids.waiting = await make('ada@waiting.example', { listening: 'waiting', listening_since: waitingSince });
  ids.forwarding = (await insertConnection(t, { accountId: base.accountId, userId: base.userId, type: 'personal', address: 'ada@forwarded.example', transport: 'forwarding', overrides: { state: 'active', stage: null, is_default_from: 0 } })).id;
  // A worker holds the live and polling mailboxes (their lease is valid); nobody holds the waiting one.
  for (const id of [ids.live, ids.polling]) expect(await acquireLease(db, `sync:${id}`, 'worker-test', 10 * 60_000, now)).toBe(true);
  if (hasChromium) browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dist) fs.rmSync(dist, { recursive: true, force: true });
});

describe.skipIf(!hasChromium)('Settings → Email: listening for new mail', () => {
  test('the API says live / polling / waiting / null, and each card shows it in words', async () => {
    const listening = async (id: string) => {
      const r = await server.api('GET', `/api/v1/connections/${id}`);
      return { listening: r.body.listening, listeningSince: r.body.listeningSince };
    };
    expect((await listening(ids.live)).listening).toBe('live');
    expect((await listening(ids.polling)).listening).toBe('polling');
    expect(await listening(ids.waiting)).toEqual({ listening: 'waiting', listeningSince: new Date(waitingSince).toISOString() });
    expect((await listening(ids.forwarding)).listening).toBeNull();

    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await signIn(page, server.origin, server.admin.email, server.admin.password);
    await page.goto(server.origin + '/settings/email');
    const card = (address: string) => page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: address }) });

    await card('ada@live.example').getByText('Live: new mail shows in seconds').waitFor();
    await card('ada@polling.example').getByText('Polling: this server has no push; checked every few minutes').waitFor();
    const waiting = card('ada@waiting.example').getByText(/^Waiting to reconnect \(since .+\)$/);
    await waiting.waitFor();
    expect(await waiting.textContent()).toContain('2026');
    // Each card shows only its own state, and a forwarding address none at all.
    expect(await card('ada@live.example').getByText(/Waiting to reconnect|Polling:/).count()).toBe(0);
    expect(await card('ada@waiting.example').getByText(/Live:|Polling:/).count()).toBe(0);
    await card('ada@forwarded.example').getByText('Connected', { exact: true }).waitFor();
    expect(await card('ada@forwarded.example').locator('[data-listening]').count()).toBe(0);
    await screenshot(page, 'settings-email-listening');

    // The worker stops holding the live mailbox (its lease expired): the same row now reads "waiting".
    await server.app.deps.env.db.updateTable('leases').set({ expires_at: Date.now() - 1000 }).where('name', '=', `sync:${ids.live}`).execute();
    expect((await listening(ids.live)).listening).toBe('waiting');
    await page.reload();
    await card('ada@live.example').getByText(/^Waiting to reconnect/).waitFor();
    expect(await card('ada@live.example').getByText('Live: new mail shows in seconds').count()).toBe(0);

    expect(errors).toEqual([]);
    await ctx.close();
  });
});
