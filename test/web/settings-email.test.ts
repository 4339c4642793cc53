/**
 * Settings → Email in Chromium against a real Mailroom: log and track defaults, the account's logging rule
 * (admins only), never-log lists, the default font with its live preview (kept after a reload), the
 * personal signature, the BCC logging address with its copy button, and the default "from" address. Every
 * change is checked through the API. Screenshots at laptop and phone widths.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildWebApp, hasChromium, launchChromium, screenshot, signIn, startWebServer, type WebTestServer } from './support.js';
import { insertConnection } from '../support/connections.js';
import type { TestApp } from '../support/app.js';

let dist: string;
let server: WebTestServer;
let browser: Browser;
let work: { id: string };
let other: { id: string };

beforeAll(async () => {
  dist = await buildWebApp();
  server = await startWebServer(dist);
  const t = { env: server.app.deps.env, database: server.database } as unknown as TestApp;
  const base = { accountId: server.admin.accountId, userId: server.admin.userId, type: 'personal' as const, imap: { host: '127.0.0.1', port: 1, username: 'x', password: 'x' }, smtp: { host: '127.0.0.1', port: 1, username: 'x', password: 'x' } };
  // One default "from" per user (a unique index), as connecting two addresses would leave it.
  const setDefault = (id: string, on: boolean) => server.app.deps.env.db.updateTable('connections').set({ is_default_from: on ? 1 : 0 }).where('id', '=', id).execute();
  work = await insertConnection(t, { ...base, address: 'ada@work.example' });
  await setDefault(work.id, false);
  other = await insertConnection(t, { ...base, address: 'ada@other.example' });
  await setDefault(other.id, false);
  await setDefault(work.id, true);
  if (hasChromium) browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dist) fs.rmSync(dist, { recursive: true, force: true });
});

const prefs = async () => (await server.api('GET', '/api/v1/email-preferences')).body;

describe.skipIf(!hasChromium)('Settings → Email preferences', () => {
  let context: BrowserContext;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.origin });
    page = await context.newPage();
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) consoleErrors.push(m.text());
    });
    await signIn(page, server.origin, server.admin.email, server.admin.password);
    await page.goto(server.origin + '/settings/email');
    await page.getByRole('heading', { name: 'Logging and tracking' }).waitFor();
  });
  afterAll(async () => {
    await context?.close();
  });

  test('log and track defaults are saved as they are switched', async () => {
    const before = await prefs();
    expect(before).toMatchObject({ log: true, trackingAvailable: true });
    await page.getByLabel('Track opens').uncheck();
    await expect.poll(async () => (await prefs()).trackOpens).toBe(false);
    await page.getByLabel('Track clicks').setChecked(!before.trackClicks);
    await expect.poll(async () => (await prefs()).trackClicks).toBe(!before.trackClicks);
    await page.getByLabel("Log my email on contacts' timelines").uncheck();
    await expect.poll(async () => (await prefs()).log).toBe(false);
    await page.reload();
    await page.getByRole('heading', { name: 'Logging and tracking' }).waitFor();
    expect(await page.getByLabel('Track opens').isChecked()).toBe(false);
    expect(await page.getByLabel("Log my email on contacts' timelines").isChecked()).toBe(false);
    await page.getByLabel("Log my email on contacts' timelines").check();
    await expect.poll(async () => (await prefs()).log).toBe(true);
  });

  test('admins set the account rule, create-contacts and the account never-log list', async () => {
    const section = page.getByRole('region', { name: /Account logging rule/ });
    await section.getByLabel('Log all email with known contacts').check();
    await expect.poll(async () => (await server.api('GET', '/api/v1/account/email-settings')).body.logRule).toBe('all_known_contacts');
    const create = section.getByLabel(/Create contacts from logged mail/);
    const was = await create.isChecked();
    await create.setChecked(!was);
    await expect.poll(async () => (await server.api('GET', '/api/v1/account/email-settings')).body.createContacts).toBe(!was);

    await section.getByLabel('Add an address or domain for the account').fill('@partner.example');
    await section.getByRole('button', { name: 'Add' }).click();
    await section.getByRole('list', { name: 'Account never-log list' }).getByText('partner.example').waitFor();
    expect((await server.api('GET', '/api/v1/account/email-settings')).body.neverLog).toEqual(['partner.example']);
  });

  test('never-log: add with Enter, a bad entry is explained, remove', async () => {
    const section = page.getByRole('region', { name: 'Never log' });
    await section.getByText(/Nothing excluded yet/).waitFor();
    const input = section.getByLabel('Add an address or domain', { exact: true });
    await input.fill('family.example');
    await input.press('Enter');
    const list = section.getByRole('list', { name: 'Your never-log list' });
    await list.getByText('family.example').waitFor();
    await input.fill('Friend@Gmail.example');
    await section.getByRole('button', { name: 'Add' }).click();
    await list.getByText('friend@gmail.example').waitFor();
    await expect.poll(async () => (await prefs()).neverLog).toEqual(['family.example', 'friend@gmail.example']);

    await input.fill('not a domain!');
    await input.press('Enter');
    await section.getByRole('alert').filter({ hasText: /neither an email address nor a domain/ }).waitFor();
    expect(await input.getAttribute('aria-invalid')).toBe('true');
    expect((await prefs()).neverLog).toHaveLength(2);

    await list.getByRole('button', { name: 'Remove friend@gmail.example' }).click();
    await expect.poll(async () => (await prefs()).neverLog).toEqual(['family.example']);
    // Focus returns to the input, for the next entry.
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('placeholder'))).toBe('family.com or friend@gmail.com');
    await input.fill('');
  });

  test('default font: the preview follows the choices at once; saved, it is kept after a reload', async () => {
    const form = page.getByRole('form', { name: 'Default font' });
    await form.getByText(/Now: none/).waitFor();
    const preview = form.getByTestId('font-preview');
    await form.getByLabel('Font', { exact: true }).selectOption('georgia');
    await form.getByLabel('Size (px)').fill('18');
    await form.getByLabel('Colour', { exact: true }).fill('#1849A9');
    await expect.poll(() => preview.evaluate((e) => getComputedStyle(e).fontFamily)).toMatch(/^Georgia, serif$/);
    expect(await preview.evaluate((e) => getComputedStyle(e).fontSize)).toBe('18px');
    expect(await preview.evaluate((e) => getComputedStyle(e).color)).toBe('rgb(24, 73, 169)');
    // A bad size cannot be saved and says why.
    await form.getByLabel('Size (px)').fill('99');
    expect(await form.getByRole('button', { name: 'Save font' }).isDisabled()).toBe(true);
    await form.getByLabel('Size (px)').fill('18');
    await form.getByRole('button', { name: 'Save font' }).click();
    await form.getByText('Font saved.').waitFor();
    expect((await prefs()).font).toMatchObject({ family: 'georgia', sizePx: 18, color: '#1849a9' });
    await screenshot(page, 'settings-email-preferences');

    await page.reload();
    const again = page.getByRole('form', { name: 'Default font' });
    await again.getByText('Now: Georgia, 18 px, #1849a9.').waitFor();
    expect(await again.getByLabel('Font', { exact: true }).inputValue()).toBe('georgia');
    expect(await again.getByLabel('Size (px)').inputValue()).toBe('18');
    expect(await again.getByLabel('Colour', { exact: true }).inputValue()).toBe('#1849a9');
    expect(await again.getByTestId('font-preview').evaluate((e) => getComputedStyle(e).fontSize)).toBe('18px');
  });

  test('signature is saved', async () => {
    const form = page.getByRole('form', { name: 'Signature' });
    await form.getByLabel('Your signature').fill('Ada Lovelace\nAnalytical Engines Ltd');
    await form.getByRole('button', { name: 'Save signature' }).click();
    await form.getByText('Signature saved.').waitFor();
    expect((await prefs()).signature).toBe('Ada Lovelace\nAnalytical Engines Ltd');
  });

  test('BCC logging address: created on demand, copied, lists the accepted senders', async () => {
    const section = page.getByRole('region', { name: 'BCC logging address' });
    expect((await prefs()).loggingAddress).toBeNull();
    await section.getByRole('button', { name: 'Create my logging address' }).click();
    const value = section.getByLabel('Your BCC logging address');
    await value.waitFor();
    const address = (await prefs()).loggingAddress as string;
    expect(address).toContain('@');
    expect(await value.textContent()).toBe(address);
    await section.getByText('Accepted from: ada@other.example, ada@work.example').waitFor();
    await section.getByRole('button', { name: 'Copy' }).click();
    await section.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(address);
    // Next visit it is simply shown.
    await page.reload();
    await page.getByRole('region', { name: 'BCC logging address' }).getByLabel('Your BCC logging address').waitFor();
  });

  test('default "from" moves to another connection; the meetings flag is stored', async () => {
    const card = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'ada@other.example' }) });
    await card.getByLabel(/Default “from” address/).check();
    await expect.poll(async () => (await prefs()).fromAddresses.find((a: { isDefault: boolean }) => a.isDefault)?.address).toBe('ada@other.example');
    const workCard = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'ada@work.example' }) });
    await expect.poll(() => workCard.getByLabel(/Default “from” address/).isChecked()).toBe(false);
    await card.getByLabel('Use for meetings').check();
    await expect.poll(async () => (await server.api('GET', `/api/v1/connections/${other.id}`)).body.useForMeetings).toBe(true);
    expect(work.id).toBeTruthy();
  });

  test('phone width (375 px): nothing overflows sideways', async () => {
    const phone = await browser.newContext({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true });
    const p = await phone.newPage();
    await signIn(p, server.origin, server.admin.email, server.admin.password);
    await p.goto(server.origin + '/settings/email');
    await p.getByRole('form', { name: 'Default font' }).getByText('Now: Georgia, 18 px, #1849a9.').waitFor();
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await screenshot(p, 'phone-settings-email');
    await phone.close();
  });

  test('a member sees their own preferences but not the account rule', async () => {
    const created = await server.api('POST', '/api/v1/users', { email: `bo-${Date.now()}@example.com`, name: 'Bo Chen', password: 'bo-password-123' });
    expect(created.status).toBe(201);
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const p = await ctx.newPage();
    await signIn(p, server.origin, created.body.user.email, 'bo-password-123');
    await p.goto(server.origin + '/settings/email');
    await p.getByRole('heading', { name: 'Logging and tracking' }).waitFor();
    await p.getByText('No personal email connected yet').waitFor();
    await p.getByRole('form', { name: 'Default font' }).getByText(/Now: none/).waitFor();
    expect(await p.getByRole('region', { name: /Account logging rule/ }).count()).toBe(0);
    expect(await p.getByRole('list', { name: 'Your never-log list' }).count()).toBe(0);
    await ctx.close();
    expect(consoleErrors).toEqual([]);
  });
});
