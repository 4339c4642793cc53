/**
 * Connecting email from the browser against a real Dovecot (IMAP) and a real SMTP submission server:
 * personal email through the guided form, a wrong password explained, and the refusal for an address
 * held by a deactivated user fixed in one click (restore and disconnect), then the team connect retried.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { startDovecot, type TestDovecot } from '../harness/dovecot.js';
import { DOVECOT, hasTestProgram } from '../harness/requirements.js';
import { startSubmissionServer, type TestSubmissionServer } from '../harness/submission.js';
import { buildWebApp, hasChromium, launchChromium, screenshot, signIn, startWebServer, type WebTestServer } from './support.js';
import { setPrivateHostsForTest } from '../support/local-hosts.js';

const hasDovecot = hasTestProgram(DOVECOT); // under CI a missing Dovecot fails this file instead of skipping it
let restoreAllow: (() => void) | undefined;

let dist: string;
let server: WebTestServer;
let browser: Browser;
let dovecot: TestDovecot;
let smtp: TestSubmissionServer;

beforeAll(async () => {
  if (!hasChromium || !hasDovecot) return;
  restoreAllow = setPrivateHostsForTest(['127.0.0.1']);
  dovecot = await startDovecot();
  smtp = await startSubmissionServer({ dovecot });
  dist = await buildWebApp();
  server = await startWebServer(dist);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await smtp?.stop();
  await dovecot?.stop();
  if (dist) fs.rmSync(dist, { recursive: true, force: true });
  restoreAllow?.();
});

/** Fills the Advanced server settings with the local Dovecot and SMTP server (plain, loopback). */
async function fillLocalServers(form: Locator) {
  const details = form.locator('details.advanced');
  if ((await details.getAttribute('open')) === null) await form.getByText(/^Advanced: server settings/).click();
  const imap = form.getByRole('group', { name: 'Incoming mail (IMAP)' });
  if (await imap.count()) {
    await imap.getByLabel('Security').selectOption('none');
    await imap.getByLabel('Server').fill('127.0.0.1');
    await imap.getByLabel('Port').fill(String(dovecot.imapPort));
  }
  const smtpBox = form.getByRole('group', { name: /^Outgoing mail \(SMTP\)/ });
  await smtpBox.getByLabel('Security').selectOption('none');
  await smtpBox.getByLabel('Server').fill('127.0.0.1');
  await smtpBox.getByLabel('Port').fill(String(smtp.port));
}

describe.skipIf(!hasChromium || !hasDovecot)('connecting email from the browser (Dovecot)', () => {
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    await signIn(page, server.origin, server.admin.email, server.admin.password);
  });
  afterAll(async () => {
    await context?.close();
  });

  test('a wrong password is explained; the right one connects and shows the import', async () => {
    const address = `ada-${Date.now()}@example.test`;
    await dovecot.addUser(address, 'right-password');
    await page.goto(server.origin + '/settings/email');
    await page.getByRole('button', { name: 'Connect personal email' }).click();
    const form = page.getByRole('form', { name: 'Connect personal email' });
    await form.getByLabel('Email address').fill(address);
    await form.getByLabel('Password', { exact: true }).fill('wrong-password');
    await fillLocalServers(form);
    await form.getByRole('button', { name: 'Connect' }).click();
    const problem = form.getByRole('alert').filter({ hasText: 'The incoming mail server refused the password' });
    await problem.waitFor();
    await screenshot(page, 'connect-wrong-password');

    await form.getByLabel('Password', { exact: true }).fill('right-password');
    await form.getByRole('button', { name: 'Connect' }).click();
    await page.getByRole('heading', { name: address }).waitFor({ timeout: 30_000 });
    const card = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: address }) });
    await card.getByText(/Importing mail|Connecting|Connected/).first().waitFor();
    expect(await card.getByLabel(/Default “from” address/).isChecked()).toBe(true);
    const list = (await server.api('GET', `/api/v1/connections?userId=${server.admin.userId}`)).body.connections;
    expect(list.map((c: { address: string }) => c.address)).toContain(address);
  });

  test('team email refused for a deactivated holder: restore and disconnect in one click, then it connects', async () => {
    const held = `bo-${Date.now()}@example.test`;
    await dovecot.addUser(held, 'bo-password');
    // Bo connects the address as personal email, then leaves the company.
    const bo = (await server.api('POST', '/api/v1/users', { email: `bo-${Date.now()}@example.com`, name: 'Bo Chen', password: 'bo-account-password' })).body.user;
    const token = (await server.api('POST', '/api/v1/tokens', { name: 'bo', userId: bo.id })).body.token as string;
    const r = await fetch(`${server.origin}/api/v1/connections`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'personal', address: held, transport: 'imap', imap: { host: '127.0.0.1', port: dovecot.imapPort, tls: 'none', password: 'bo-password' }, smtp: { host: '127.0.0.1', port: smtp.port, tls: 'none', password: 'bo-password' } }),
    });
    expect(r.status, await r.clone().text()).toBe(201);
    expect((await server.api('POST', `/api/v1/users/${bo.id}/deactivate`)).status).toBe(200);
    const inbox = (await server.api('POST', '/api/v1/inboxes', { name: 'Support' })).body;

    await page.goto(server.origin + '/settings/inboxes');
    const card = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Support', level: 2 }) });
    await card.getByRole('button', { name: 'Connect team email' }).click();
    const form = card.getByRole('form', { name: 'Connect team email' });
    await form.getByLabel('Email address').fill(held);
    await form.getByLabel('Password', { exact: true }).fill('bo-password');
    await fillLocalServers(form);
    await form.getByRole('button', { name: 'Connect' }).click();

    const refusal = form.getByRole('alert').filter({ hasText: 'This address is already connected' });
    await refusal.waitFor({ timeout: 30_000 });
    await refusal.getByText('Bo Chen', { exact: true }).waitFor();
    await refusal.getByText('Deactivated', { exact: true }).waitFor();
    await screenshot(page, 'connect-refusal-deactivated');
    await refusal.getByRole('button', { name: 'Restore Bo Chen and disconnect' }).click();

    // The connect is retried by itself and the address now feeds the inbox.
    await card.getByText(held, { exact: true }).waitFor({ timeout: 30_000 });
    const team = (await server.api('GET', `/api/v1/connections?type=team&inboxId=${inbox.id}`)).body.connections;
    expect(team.map((c: { address: string; state: string }) => c.address)).toEqual([held]);
    expect((await server.api('GET', `/api/v1/users/${bo.id}`)).body.state).toBe('active');
    const bos = (await server.api('GET', `/api/v1/connections?userId=${bo.id}&includeDisconnected=true`)).body.connections;
    expect(bos.find((c: { address: string }) => c.address === held)?.state).toBe('disconnected');
    await screenshot(page, 'connect-team-after-release');
  });
});
