/**
 * Settings → Inboxes in Chromium against a real Mailroom: members (users and teams) and access, the sender
 * name with its From preview (kept after a reload), the forwarding address, routing rules (users and teams
 * by least load with a cap; contact owner with a fallback; none) and allow/deny lists. Every change is
 * checked through the API. Screenshots at laptop and phone widths.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { buildWebApp, hasChromium, launchChromium, screenshot, signIn, startWebServer, type WebTestServer } from './support.js';
import { insertConnection } from '../support/connections.js';
import type { TestApp } from '../support/app.js';

let dist: string;
let server: WebTestServer;
let browser: Browser;
let inboxId: string;
let team: { id: string; forwarding_address: string | null };
let grace: { id: string };
let tier1: { id: string };

beforeAll(async () => {
  dist = await buildWebApp();
  server = await startWebServer(dist);
  inboxId = (await server.api('POST', '/api/v1/inboxes', { name: 'Support' })).body.id;
  const t = { env: server.app.deps.env, database: server.database } as unknown as TestApp;
  team = await insertConnection(t, { accountId: server.admin.accountId, userId: server.admin.userId, type: 'team', address: 'support@acme.test', inboxId });
  grace = (await server.api('POST', '/api/v1/users', { email: `grace-${Date.now()}@example.com`, name: 'Grace Hopper', password: 'grace-password-1' })).body.user;
  tier1 = (await server.api('POST', '/api/v1/teams', { name: 'Tier 1' })).body;
  if (hasChromium) browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dist) fs.rmSync(dist, { recursive: true, force: true });
});

describe.skipIf(!hasChromium)('Settings → Inboxes', () => {
  let context: BrowserContext;
  let page: Page;
  let card: Locator;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(10_000);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.origin });
    page = await context.newPage();
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) consoleErrors.push(m.text());
    });
    await signIn(page, server.origin, server.admin.email, server.admin.password);
    await page.goto(server.origin + '/settings/inboxes');
    card = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Support', level: 2 }) });
    await card.getByText('support@acme.test', { exact: true }).first().waitFor();
  });
  afterAll(async () => {
    await context?.close();
  });

  test('forwarding address with copy, and the send-test-email check', async () => {
    await card.getByText(team.forwarding_address!).first().waitFor();
    await card.getByText(/Not checked yet\. Set up forwarding of support@acme\.test to/).waitFor();
    await card.getByRole('button', { name: 'Copy' }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(team.forwarding_address);
    // "Send test email" asks for the check (no worker runs here, so it stays at sending).
    await card.getByRole('button', { name: 'Send test email' }).click();
    await card.getByText('Sending the test email…').waitFor();
    expect(await card.getByRole('button', { name: 'Waiting for the test email…' }).isDisabled()).toBe(true);
    expect((await server.api('GET', `/api/v1/connections/${team.id}`)).body.forwardingCheck.state).toBe('sending');
  });

  test('sender name: the From preview follows the choice; saved, it is kept after a reload', async () => {
    await card.getByRole('button', { name: 'Sender name and signature' }).click();
    const preview = card.locator('.from-preview-line');
    await expect.poll(() => preview.textContent()).toBe('From: Ada at Support <support@acme.test>');
    await card.getByLabel('Custom text').check();
    await card.getByLabel('Custom sender name').fill('Acme Help Desk');
    await expect.poll(() => preview.textContent()).toBe('From: Acme Help Desk <support@acme.test>');
    await card.getByLabel('Team signature').fill('The Acme support team');
    await card.getByRole('button', { name: 'Save sender settings' }).click();
    await card.getByText('Saved.').waitFor();
    const c = (await server.api('GET', `/api/v1/connections/${team.id}`)).body;
    expect(c.senderName).toEqual({ mode: 'custom', custom: 'Acme Help Desk' });
    expect(c.signature).toBe('The Acme support team');

    await page.reload();
    await card.getByRole('button', { name: 'Sender name and signature' }).click();
    await expect.poll(() => card.locator('.from-preview-line').textContent()).toBe('From: Acme Help Desk <support@acme.test>');
    expect(await card.getByLabel('Custom text').isChecked()).toBe(true);
    await card.getByRole('button', { name: 'Hide sender settings' }).click();
  });

  test('members: add a user and a team, restrict access, remove the team', async () => {
    await card.locator('summary', { hasText: 'Members and access' }).click();
    await card.getByText(/No members yet/).waitFor();
    const add = card.getByLabel('Add a user or team');
    await add.selectOption({ label: `Grace Hopper (${(await server.api('GET', `/api/v1/users/${grace.id}`)).body.email})` });
    await card.getByRole('button', { name: 'Add member' }).click();
    const members = card.getByRole('list', { name: 'Members of Support' });
    await members.getByText('Grace Hopper').waitFor();
    await add.selectOption({ label: 'Tier 1 (team of 0)' });
    await card.getByRole('button', { name: 'Add member' }).click();
    await members.getByText('Tier 1').waitFor();
    const api = (await server.api('GET', `/api/v1/inboxes/${inboxId}/members`)).body;
    expect(api.members.map((m: { type: string; id: string }) => `${m.type}:${m.id}`).sort()).toEqual([`team:${tier1.id}`, `user:${grace.id}`].sort());

    await card.getByLabel('Who can see this inbox').selectOption('restricted');
    await expect.poll(async () => (await server.api('GET', `/api/v1/inboxes/${inboxId}`)).body.access).toBe('restricted');
    await card.getByText('Only its members can see it').waitFor();

    await members.getByRole('button', { name: 'Remove Tier 1 from Support' }).click();
    await expect.poll(async () => (await server.api('GET', `/api/v1/inboxes/${inboxId}/members`)).body.members.length).toBe(1);
    // The Remove button left with the team: focus stays in the section, on the member picker.
    const pickerId = await card.getByLabel('Add a user or team').getAttribute('id');
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe(pickerId);
    await screenshot(page, 'settings-inboxes-members');
  });

  test('routing: users and teams by least load with a cap, then contact owner with a fallback, then none', async () => {
    await card.locator('summary', { hasText: 'Routing' }).click();
    const form = card.getByRole('form', { name: 'Routing for support@acme.test' });
    await form.getByText('Now: New conversations stay unassigned.').waitFor();
    await form.getByLabel('Specific users and teams').check();
    await form.getByLabel('How to choose').selectOption('least_open');
    await form.getByLabel('Open conversations per person at most').fill('5');
    await form.getByRole('group', { name: 'Users' }).getByLabel('Grace Hopper').check();
    await form.getByRole('group', { name: 'Teams' }).getByLabel('Team Tier 1').check();
    await form.getByRole('button', { name: 'Save routing' }).click();
    await form.getByText('Routing saved.').waitFor();
    let rule = (await server.api('GET', `/api/v1/inboxes/${inboxId}/routing`)).body.rules[0].rule;
    expect(rule).toEqual({ kind: 'users', strategy: 'least_open', userIds: [grace.id], teamIds: [tier1.id], perUserCap: 5 });
    await form.getByText(/Now: Assigned by least load among Grace Hopper, team Tier 1, at most 5 open each/).waitFor();
    await screenshot(page, 'settings-inboxes-routing');

    // Nobody picked: the server's refusal is shown.
    await form.getByLabel('The contact’s owner').check();
    await form.getByLabel('Route to users and teams').check();
    await form.getByRole('group', { name: 'Users' }).getByLabel('Grace Hopper').uncheck();
    await form.getByRole('group', { name: 'Teams' }).getByLabel('Team Tier 1').uncheck();
    await form.getByRole('button', { name: 'Save routing' }).click();
    await form.getByRole('alert').filter({ hasText: 'Name at least one user or team' }).waitFor();
    await form.getByRole('group', { name: 'Users' }).getByLabel('Grace Hopper').check();
    await form.getByLabel('How to choose').selectOption('round_robin');
    await form.getByLabel('Open conversations per person at most').fill('');
    await form.getByRole('button', { name: 'Save routing' }).click();
    await form.getByText('Routing saved.').waitFor();
    rule = (await server.api('GET', `/api/v1/inboxes/${inboxId}/routing`)).body.rules[0].rule;
    expect(rule).toEqual({ kind: 'contact_owner', fallback: { kind: 'users', strategy: 'round_robin', userIds: [grace.id], teamIds: [], perUserCap: null } });

    await form.getByLabel('Nobody: leave new conversations unassigned').check();
    await form.getByRole('button', { name: 'Save routing' }).click();
    await expect.poll(async () => (await server.api('GET', `/api/v1/inboxes/${inboxId}/routing`)).body.rules[0].rule).toEqual({ kind: 'none' });
  });

  test('allow and deny lists: add, a bad pattern explained, remove', async () => {
    await card.locator('summary', { hasText: 'Allow and deny lists' }).click();
    const deny = card.getByLabel('Send to spam mail from');
    await deny.fill('@spam.example');
    await deny.press('Enter');
    // The inbox is members-only now and Ada is not a member: the refusal says so; she adds herself.
    await card.getByRole('alert').filter({ hasText: 'You can see the Support inbox but not act in it' }).waitFor();
    await card.getByLabel('Add a user or team').selectOption({ label: `Ada Lovelace (${server.admin.email})` });
    await card.getByRole('button', { name: 'Add member' }).click();
    await card.getByRole('list', { name: 'Members of Support' }).getByText('Ada Lovelace').waitFor();
    await deny.press('Enter');
    await card.getByRole('list', { name: 'Denied senders of Support' }).getByText('@spam.example').waitFor();
    const allow = card.getByLabel('Always accept mail from');
    await allow.fill('friend@spam.example');
    await allow.press('Enter');
    const allowed = card.getByRole('list', { name: 'Allowed senders of Support' });
    await allowed.getByText('friend@spam.example').waitFor();
    let entries = (await server.api('GET', `/api/v1/inboxes/${inboxId}/sender-lists`)).body.entries.map((e: { list: string; pattern: string }) => `${e.list} ${e.pattern}`);
    expect(entries.sort()).toEqual(['allow friend@spam.example', 'deny @spam.example']);

    await allow.fill('not an address');
    await allow.press('Enter');
    await card.getByRole('alert').first().waitFor();
    await screenshot(page, 'settings-inboxes-lists');

    await allowed.getByRole('button', { name: 'Remove friend@spam.example' }).click();
    await expect.poll(async () => (await server.api('GET', `/api/v1/inboxes/${inboxId}/sender-lists`)).body.entries.length).toBe(1);
    entries = (await server.api('GET', `/api/v1/inboxes/${inboxId}/sender-lists`)).body.entries.map((e: { list: string; pattern: string }) => `${e.list} ${e.pattern}`);
    expect(entries).toEqual(['deny @spam.example']);
    await card.getByText('Nobody on the allow list.').waitFor();
  });

  test('an inbox without team email says to connect one before routing', async () => {
    await server.api('POST', '/api/v1/inboxes', { name: 'Billing' });
    await page.reload();
    const billing = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Billing', level: 2 }) });
    await billing.getByText(/No team email yet/).waitFor();
    await billing.locator('summary', { hasText: 'Routing' }).click();
    await billing.getByText(/Connect a team email to this inbox first/).waitFor();
    // Keyboard: the section headers are reachable and open with Enter.
    await billing.locator('summary', { hasText: 'Allow and deny lists' }).focus();
    await page.keyboard.press('Enter');
    await billing.getByText('Nobody on the deny list.').waitFor();
    await screenshot(page, 'settings-inboxes-full');
  });

  test('phone width (375 px): nothing overflows sideways', async () => {
    const phone = await browser.newContext({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true });
    const p = await phone.newPage();
    await signIn(p, server.origin, server.admin.email, server.admin.password);
    await p.goto(server.origin + '/settings/inboxes');
    const c = p.getByRole('listitem').filter({ has: p.getByRole('heading', { name: 'Support', level: 2 }) });
    await c.locator('summary', { hasText: 'Routing' }).click();
    await c.locator('summary', { hasText: 'Members and access' }).click();
    await c.getByRole('form', { name: 'Routing for support@acme.test' }).getByLabel('Specific users and teams').check();
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await screenshot(p, 'phone-settings-inboxes');
    await phone.close();
    expect(consoleErrors).toEqual([]);
  });
});
