/**
 * Settings → Users in Chromium against a real Mailroom: create a team, edit a user's role, seat,
 * permissions, teams and availability, then deactivate, remove and restore; the filter's empty state; every
 * change checked through the API. Screenshots at laptop and phone widths.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { buildWebApp, hasChromium, launchChromium, screenshot, signIn, startWebServer, type WebTestServer } from './support.js';

let dist: string;
let server: WebTestServer;
let browser: Browser;
let grace: { id: string; email: string };

beforeAll(async () => {
  dist = await buildWebApp();
  server = await startWebServer(dist);
  grace = (await server.api('POST', '/api/v1/users', { email: `grace-${Date.now()}@example.com`, name: 'Grace Hopper', seat: 'free', password: 'grace-password-1' })).body.user;
  if (hasChromium) browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dist) fs.rmSync(dist, { recursive: true, force: true });
});

const user = async (id: string) => (await server.api('GET', `/api/v1/users/${id}`)).body;

describe.skipIf(!hasChromium)('Settings → Users', () => {
  let context: BrowserContext;
  let page: Page;
  let row: Locator;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(10_000);
    page = await context.newPage();
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) consoleErrors.push(m.text());
    });
    await signIn(page, server.origin, server.admin.email, server.admin.password);
    await page.goto(server.origin + '/settings/users');
    row = page.getByRole('row', { name: /Grace Hopper/ }).first();
    await row.waitFor();
  });
  afterAll(async () => {
    await context?.close();
  });
  /** The member count of Tier 1 in the list of teams. */
  const tierCount = (text: string) => page.getByRole('list', { name: 'Teams' }).getByRole('listitem').filter({ hasText: 'Tier 1' }).getByText(text);

  test('create a team', async () => {
    await page.getByLabel('New team').fill('Tier 1');
    await page.getByRole('button', { name: 'Create team' }).click();
    await tierCount('(0 members)').waitFor();
    const teams = (await server.api('GET', '/api/v1/teams')).body.teams.map((t: { name: string }) => t.name);
    expect(teams).toContain('Tier 1');
  });

  test('add a user straight into a team', async () => {
    const form = page.getByRole('form', { name: 'Add a user' });
    const email = `linus-${Date.now()}@example.com`;
    await form.getByLabel('Name', { exact: true }).fill('Linus Pauling');
    await form.getByLabel('Email', { exact: true }).fill(email);
    await form.getByRole('group', { name: 'Teams (optional)' }).getByLabel('Tier 1').check();
    await form.getByRole('button', { name: 'Add user' }).click();
    await page.getByText('Linus Pauling was added').waitFor();
    await tierCount('(1 member)').waitFor();
    const linus = (await server.api('GET', '/api/v1/users')).body.users.find((u: { email: string }) => u.email === email);
    const tier1 = (await server.api('GET', '/api/v1/teams')).body.teams.find((t: { name: string }) => t.name === 'Tier 1');
    expect(linus.teamIds).toContain(tier1.id);
    await page.getByRole('button', { name: 'Done' }).click();
  });

  test("edit a user's seat and role", async () => {
    await row.getByLabel('Seat of Grace Hopper').selectOption('paid');
    await expect.poll(async () => (await user(grace.id)).seat).toBe('paid');
    await row.getByLabel('Role of Grace Hopper').selectOption('admin');
    await expect.poll(async () => (await user(grace.id)).role).toBe('admin');
    await row.getByLabel('Role of Grace Hopper').selectOption('member');
    await expect.poll(async () => (await user(grace.id)).role).toBe('member');
  });

  test('permissions, teams and availability', async () => {
    const edit = row.getByRole('button', { name: 'Permissions, teams of Grace Hopper' });
    await edit.click();
    expect(await row.getByRole('button', { name: 'Close permissions, teams of Grace Hopper' }).getAttribute('aria-expanded')).toBe('true');
    const panel = page.locator(`#edit-${grace.id}`);
    const before = (await user(grace.id)).permissions;
    await panel.getByLabel(/Account access/).setChecked(!before.accountAccess);
    await expect.poll(async () => (await user(grace.id)).permissions.accountAccess).toBe(!before.accountAccess);
    await panel.getByLabel(/Availability management/).setChecked(!before.availabilityManagement);
    await expect.poll(async () => (await user(grace.id)).permissions.availabilityManagement).toBe(!before.availabilityManagement);

    await panel.getByRole('group', { name: 'Teams' }).getByLabel('Tier 1').check();
    const tier1 = (await server.api('GET', '/api/v1/teams')).body.teams.find((t: { name: string }) => t.name === 'Tier 1');
    await expect.poll(async () => (await user(grace.id)).teamIds).toContain(tier1.id);
    await tierCount('(2 members)').waitFor();

    await panel.getByRole('radio', { name: /Away \(routing skips them\)/ }).check();
    await expect.poll(async () => (await user(grace.id)).availability).toBe('away');
    await screenshot(page, 'settings-users-edit');
    await panel.getByRole('radio', { name: 'Available', exact: true }).check();
    await expect.poll(async () => (await user(grace.id)).availability).toBe('available');
    await row.getByRole('button', { name: 'Close permissions, teams of Grace Hopper' }).click();
    expect(await panel.count()).toBe(0);
  });

  test('deactivate, remove and restore; the filter shows an empty state', async () => {
    await row.getByRole('button', { name: 'Deactivate Grace Hopper' }).click();
    await page.getByRole('dialog', { name: 'Deactivate Grace Hopper?' }).getByRole('button', { name: 'Deactivate' }).click();
    await row.getByText('Deactivated').waitFor();
    expect((await user(grace.id)).state).toBe('deactivated');
    // Editing waits for a restore.
    expect(await row.getByLabel('Seat of Grace Hopper').isDisabled()).toBe(true);

    await row.getByRole('button', { name: 'Remove Grace Hopper' }).click();
    await page.getByRole('dialog', { name: 'Remove Grace Hopper?' }).getByRole('button', { name: 'Remove' }).click();
    await row.getByText('Removed', { exact: true }).waitFor();
    expect((await user(grace.id)).state).toBe('removed');

    await page.getByLabel('Show').selectOption('deactivated');
    await page.getByRole('heading', { name: 'No deactivated users' }).waitFor();
    await page.getByLabel('Show').selectOption('removed');
    await page.getByRole('row', { name: /Grace Hopper/ }).first().waitFor();

    await page.getByRole('button', { name: 'Restore Grace Hopper' }).click();
    const dialog = page.getByRole('dialog', { name: 'Restore Grace Hopper?' });
    // Keyboard: the dialog opens with focus on Cancel; Escape closes it without a change.
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Cancel');
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.isVisible()).toBe(false);
    expect((await user(grace.id)).state).toBe('removed');
    await page.getByRole('button', { name: 'Restore Grace Hopper' }).click();
    await dialog.getByRole('button', { name: 'Restore' }).click();
    await expect.poll(async () => (await user(grace.id)).state).toBe('active');
    await page.getByLabel('Show').selectOption('');
    await page.getByRole('row', { name: /Grace Hopper/ }).first().getByText('Active', { exact: true }).waitFor();
  });

  test('phone width (375 px): the list and the edit panel fit', async () => {
    const phone = await browser.newContext({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true });
    const p = await phone.newPage();
    await signIn(p, server.origin, server.admin.email, server.admin.password);
    await p.goto(server.origin + '/settings/users');
    await p.getByRole('button', { name: 'Permissions, teams of Grace Hopper' }).click();
    await p.locator(`#edit-${grace.id}`).getByRole('group', { name: 'Teams' }).waitFor();
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await screenshot(p, 'phone-settings-users');
    await phone.close();
    expect(consoleErrors).toEqual([]);
  });
});
