/**
 * Teams renamed and deleted in Settings → Users, and Settings → Inboxes following the API's permissions
 * (issue 21, item 5), in Chromium against a real Mailroom. A taken name is explained in place; deleting
 * asks first (Escape keeps the team), then lists what changed (a routing rule retargeted); the API shows
 * nothing pointing at the team. A member with the account-access permission finds Settings → Inboxes and
 * changes an inbox; an admin without it is told why instead of meeting refusals; a member without it does
 * not see the page in the menu.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildWebApp, hasChromium, launchChromium, signIn, startWebServer, type WebTestServer } from './support.js';
import { insertConnection } from '../support/connections.js';
import type { TestApp } from '../support/app.js';

let dist: string;
let server: WebTestServer;
let browser: Browser;
let inboxId: string;
let connId: string;
let night: { id: string; name: string };
let day: { id: string; name: string };
let nina: { id: string };

beforeAll(async () => {
  dist = await buildWebApp();
  server = await startWebServer(dist);
  inboxId = (await server.api('POST', '/api/v1/inboxes', { name: 'Support' })).body.id;
  const t = { env: server.app.deps.env, database: server.database } as unknown as TestApp;
  connId = (await insertConnection(t, { accountId: server.admin.accountId, userId: server.admin.userId, type: 'team', address: 'support@acme.test', inboxId })).id;
  night = (await server.api('POST', '/api/v1/teams', { name: 'Night shift' })).body;
  day = (await server.api('POST', '/api/v1/teams', { name: 'Day shift' })).body;
  nina = (await server.api('POST', '/api/v1/users', { email: `nina-${Date.now()}@example.com`, name: 'Nina Night', password: 'nina-password-1', teamIds: [night.id] })).body.user;
  const rule = await server.api('PUT', `/api/v1/inboxes/${inboxId}/routing/${connId}`, { rule: { kind: 'users', strategy: 'round_robin', teamIds: [night.id, day.id] } });
  expect(rule.status).toBe(200);
  if (hasChromium) browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dist) fs.rmSync(dist, { recursive: true, force: true });
});

async function signedIn(email: string, password: string): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text());
  });
  await signIn(page, server.origin, email, password);
  return { context, page, errors };
}

describe.skipIf(!hasChromium)('teams in Settings → Users', () => {
  test('rename (a taken name explained), delete after a confirmation, with what changed listed', async () => {
    const { context, page, errors } = await signedIn(server.admin.email, server.admin.password);
    await page.goto(server.origin + '/settings/users');
    const list = page.getByRole('list', { name: 'Teams' });
    const item = (name: string) => list.getByRole('listitem').filter({ hasText: name });
    await item('Night shift').getByText('(1 member)').waitFor();

    // A taken name: the error says so, in place; the team keeps its name.
    await item('Night shift').getByRole('button', { name: 'Rename Night shift' }).click();
    const input = page.getByLabel('New name for Night shift');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe(await input.getAttribute('id'));
    await input.fill('Day shift');
    await page.getByRole('button', { name: 'Save name' }).click();
    await page.getByRole('alert').filter({ hasText: 'There is already a team called "Day shift"' }).waitFor();
    expect((await server.api('GET', `/api/v1/teams/${night.id}`)).body.name).toBe('Night shift');

    await input.fill('Late shift');
    await input.press('Enter');
    await item('Late shift').getByRole('button', { name: 'Delete Late shift' }).waitFor();
    expect((await server.api('GET', `/api/v1/teams/${night.id}`)).body.name).toBe('Late shift');

    // Delete: Escape keeps it; confirmed, it goes and the notice names the routing rule that changed.
    await item('Late shift').getByRole('button', { name: 'Delete Late shift' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete the team Late shift?' });
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.isVisible()).toBe(false);
    expect((await server.api('GET', `/api/v1/teams/${night.id}`)).status).toBe(200);
    await item('Late shift').getByRole('button', { name: 'Delete Late shift' }).click();
    await dialog.getByRole('button', { name: 'Delete team' }).click();
    const notice = page.getByText('The team Late shift was deleted').locator('..');
    await notice.waitFor();
    await notice.getByText(/Its 1 member was told/).waitFor();
    await notice.getByText(/The routing rule of support@acme.test \(Support\) no longer routes to Late shift/).waitFor();
    await expect.poll(() => item('Late shift').count()).toBe(0);

    const gone = await server.api('GET', `/api/v1/teams/${night.id}`);
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('not_found');
    const routing = await server.api('GET', `/api/v1/inboxes/${inboxId}/routing`);
    expect(JSON.stringify(routing.body)).not.toContain(night.id);
    expect(JSON.stringify(routing.body)).toContain(day.id);
    expect((await server.api('GET', `/api/v1/users/${nina.id}`)).body.teamIds).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe.skipIf(!hasChromium)('Settings → Inboxes follows the API permissions', () => {
  const user = async (name: string, role: string, accountAccess: boolean) => {
    const email = `${name.toLowerCase()}-${Date.now()}@example.com`;
    const r = await server.api('POST', '/api/v1/users', { email, name, role, password: `${name}-password-1`, permissions: { accountAccess } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return { email, password: `${name}-password-1` };
  };

  test('a member with account access finds the page and renames an inbox', async () => {
    const who = await user('Mia', 'member', true);
    const { context, page, errors } = await signedIn(who.email, who.password);
    await page.goto(server.origin + '/settings/email');
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Inboxes' }).click();
    await page.getByRole('button', { name: 'Rename Support' }).click();
    await page.getByLabel('New name for Support').fill('Helpdesk');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('heading', { name: 'Helpdesk', level: 2 }).waitFor();
    expect((await server.api('GET', `/api/v1/inboxes/${inboxId}`)).body.name).toBe('Helpdesk');
    await server.api('PATCH', `/api/v1/inboxes/${inboxId}`, { name: 'Support' });
    expect(errors).toEqual([]);
    await context.close();
  });

  test('an admin without account access is told why (the API would refuse); a member without it does not see the page', async () => {
    const admin = await user('Abe', 'admin', false);
    const a = await signedIn(admin.email, admin.password);
    await a.page.goto(server.origin + '/settings/email');
    const nav = a.page.getByRole('navigation', { name: 'Settings' });
    await nav.getByRole('link', { name: 'Users' }).waitFor();
    expect(await nav.getByRole('link', { name: 'Inboxes' }).count()).toBe(0);
    await a.page.goto(server.origin + '/settings/inboxes');
    await a.page.getByText('Account access needed').waitFor();
    expect(await a.page.getByRole('button', { name: 'Rename Support' }).count()).toBe(0);
    // What the page follows: the API refuses this admin the change.
    const token = (await server.api('POST', '/api/v1/tokens', { name: 't', userId: (await server.api('GET', '/api/v1/users')).body.users.find((u: { email: string }) => u.email === admin.email).id })).body.token;
    const refused = await fetch(`${server.origin}/api/v1/inboxes/${inboxId}`, { method: 'PATCH', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Nope' }) });
    expect(refused.status).toBe(403);
    await a.context.close();

    const plain = await user('Pat', 'member', false);
    const p = await signedIn(plain.email, plain.password);
    await p.page.goto(server.origin + '/settings/email');
    await p.page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Email' }).waitFor();
    expect(await p.page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Inboxes' }).count()).toBe(0);
    await p.context.close();
  });
});
