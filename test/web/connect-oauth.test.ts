/**
 * "Connect with <provider>" in Chromium (issue 14), against a real Mailroom, a real OpenID provider
 * (oidc-provider, its own login and consent pages), and a Dovecot and SMTP server that accept the
 * provider's access tokens: the user clicks the button, signs in at the provider, comes back to Settings →
 * Email and sees the mailbox connected. Also the device-code screen, whose polling is the worker's job
 * (a JobWorker runs here as in a worker process): the page may be closed and shows the code again.
 */
import fs from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { buildWebApp, hasChromium, launchChromium, screenshot, signIn, startWebServer, type WebTestServer } from './support.js';
import { startOAuthServer, type TestOAuthServer } from '../harness/oauth-server.js';
import { startDovecot, type TestDovecot } from '../harness/dovecot.js';
import { startSubmissionServer, type TestSubmissionServer } from '../harness/submission.js';
import { allowLocalMailServers } from '../support/local-hosts.js';
import { refreshConnectionToken } from '../../src/features/connections/index.js';
import pino from 'pino';
import { JobWorker } from '../../src/platform/jobs/worker.js';
import { createIngestor, jobHandlersFor } from '../../src/app/engine.js';

let dist: string;
let worker: JobWorker;
let server: WebTestServer;
let browser: Browser;
let idp: TestOAuthServer;
let dovecot: TestDovecot;
let smtp: TestSubmissionServer;
allowLocalMailServers();

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  idp = await startOAuthServer({ redirectUris: [`${origin}/settings/email`], deviceIntervalS: 1 });
  dovecot = await startDovecot({ oauth2: idp.dovecotOAuth2Config() });
  smtp = await startSubmissionServer({ dovecot, verifyAccessToken: (u, tok) => idp.tokenBelongsTo(u, tok) });
  dist = await buildWebApp();
  server = await startWebServer(dist, {
    port,
    configEnv: {
      PUBLIC_URL: origin,
      MAILROOM_OAUTH_OIDC_ISSUER: idp.issuer,
      MAILROOM_OAUTH_OIDC_CLIENT_ID: idp.clientId,
      MAILROOM_OAUTH_OIDC_CLIENT_SECRET: idp.clientSecret,
      MAILROOM_OAUTH_OIDC_NAME: 'Example ID',
      MAILROOM_OAUTH_OIDC_IMAP: `imap://127.0.0.1:${dovecot.imapPort}?tls=none`,
      MAILROOM_OAUTH_OIDC_SMTP: `smtp://127.0.0.1:${smtp.port}?tls=none`,
    },
  });
  // What a worker process runs: the device-flow polling job.
  worker = new JobWorker({ env: server.env, handlers: jobHandlersFor(createIngestor(server.env)), queues: ['default'], pollMs: 100, log: pino({ level: 'silent' }) });
  worker.start();
  if (hasChromium) browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await browser?.close();
  await server?.close();
  await smtp?.stop();
  await dovecot?.stop();
  await idp?.stop();
  if (dist) fs.rmSync(dist, { recursive: true, force: true });
});

describe.skipIf(!hasChromium)('Connect with an OpenID provider in Chromium', () => {
  test('the button signs in at the provider and comes back connected', async () => {
    const address = `web-${Date.now()}@example.test`;
    await dovecot.addUser(address, 'unused');
    idp.addAccount('webuser', address);
    const page = await browser.newPage();
    await signIn(page, server.origin, server.admin.email, server.admin.password);
    await page.goto(`${server.origin}/settings/email`);
    await page.getByRole('button', { name: 'Connect personal email' }).click();
    await page.getByRole('button', { name: 'Connect with Example ID' }).click();
    // The provider's own login and consent pages.
    await page.waitForURL((u) => u.toString().startsWith(idp.issuer));
    await page.locator('input[name="login"]').fill('webuser');
    await page.locator('input[name="password"]').fill('any');
    await page.locator('button[type="submit"]').click();
    await page.locator('button[type="submit"]').click(); // consent
    await page.waitForURL((u) => u.toString().startsWith(`${server.origin}/settings/email`));
    await page.getByText(`${address} is connected`).waitFor({ timeout: 20_000 });
    expect(page.url()).toBe(`${server.origin}/settings/email`);
    await page.getByRole('heading', { name: address }).waitFor();
    await screenshot(page, 'oauth-connected');
    const list = await server.api('GET', '/api/v1/connections');
    expect(list.body.connections.find((c: { address: string }) => c.address === address)?.oauthProvider).toBe('oidc');
    await page.close();
  }, 60_000);

  /** A Dovecot user and a provider account for `address`; Settings → Email starts a device-code sign-in and shows its code. */
  async function startDeviceSignIn(address: string, account: string) {
    await dovecot.addUser(address, 'unused');
    idp.addAccount(account, address);
    const page = await browser.newPage();
    await signIn(page, server.origin, server.admin.email, server.admin.password);
    await page.goto(`${server.origin}/settings/email`);
    await page.getByRole('button', { name: 'Connect personal email' }).click();
    await page.getByRole('button', { name: 'Use a code for Example ID instead' }).click();
    const code = (await page.getByTestId('device-code').textContent())?.trim() ?? '';
    expect(code).not.toBe('');
    return { page, code };
  }

  test('the device-code screen shows the code and finishes by itself', async () => {
    const address = `device-${Date.now()}@example.test`;
    const { page, code } = await startDeviceSignIn(address, 'deviceuser');
    await screenshot(page, 'oauth-device-code');
    await idp.approveDevice(code, 'deviceuser');
    await page.getByRole('heading', { name: address }).waitFor({ timeout: 20_000 });
    await page.close();
  }, 60_000);

  test('the page showing the code may be closed: Settings → Email shows the code again, and the worker connects it', async () => {
    const address = `closed-${Date.now()}@example.test`;
    const { page, code } = await startDeviceSignIn(address, 'closeduser');
    await page.close();
    // Back later, in a new page: the sign-in still waits, with its code.
    const again = await browser.newPage();
    await signIn(again, server.origin, server.admin.email, server.admin.password);
    await again.goto(`${server.origin}/settings/email`);
    const pending = again.getByTestId('pending-sign-ins');
    await pending.getByText(code).waitFor({ timeout: 10_000 });
    await screenshot(again, 'oauth-device-pending');
    await again.close();
    // The user enters the code with no Mailroom page open; the worker's job connects the mailbox.
    await idp.approveDevice(code, 'closeduser');
    const end = Date.now() + 20_000;
    let connected: { address: string; state: string } | undefined;
    while (Date.now() < end && !connected) {
      connected = (await server.api('GET', '/api/v1/connections')).body.connections.find((c: { address: string }) => c.address === address);
      if (!connected) await new Promise((r) => setTimeout(r, 200));
    }
    expect(connected?.address).toBe(address);
    const last = await browser.newPage();
    await signIn(last, server.origin, server.admin.email, server.admin.password);
    await last.goto(`${server.origin}/settings/email`);
    await last.getByRole('heading', { name: address }).waitFor({ timeout: 10_000 });
    expect(await last.getByTestId('pending-sign-ins').count()).toBe(0);
    await last.close();
  }, 90_000);

  test('a mailbox whose sign-in was revoked shows the banner on every page; its one click reconnects it', async () => {
    const address = `revoked-${Date.now()}@example.test`;
    await dovecot.addUser(address, 'unused');
    idp.addAccount('revokeduser', address);
    const page = await browser.newPage();
    await signIn(page, server.origin, server.admin.email, server.admin.password);
    await page.goto(`${server.origin}/settings/email`);
    await page.getByRole('button', { name: 'Connect personal email' }).click();
    await page.getByRole('button', { name: 'Use a code for Example ID instead' }).click();
    const code = (await page.getByTestId('device-code').textContent())?.trim() ?? '';
    await idp.approveDevice(code, 'revokeduser');
    await page.getByRole('heading', { name: address }).waitFor({ timeout: 20_000 });
    const id = (await server.api('GET', '/api/v1/connections')).body.connections.find((c: { address: string }) => c.address === address).id as string;
    // The user revokes Mailroom at the provider; the worker's next refresh gets invalid_grant.
    await idp.revokeAccount('revokeduser');
    expect(await refreshConnectionToken(server.env, id, 'test-worker', { force: true })).toBe('needs_reauth');
    expect((await server.api('GET', `/api/v1/connections/${id}`)).body.state).toBe('needs_reauth');
    await page.goto(`${server.origin}/inbox`);
    const banner = page.getByTestId('reconnect-banner');
    await banner.getByText(`Mailroom can no longer read ${address}`).waitFor({ timeout: 20_000 });
    await screenshot(page, 'oauth-reconnect-banner');
    await banner.getByRole('button', { name: 'Reconnect with Example ID' }).click();
    await page.waitForURL((u) => u.toString().startsWith(idp.issuer));
    // The provider's pages: sign in (unless its session is still there), then consent.
    if (await page.locator('input[name="login"]').count()) {
      await page.locator('input[name="login"]').fill('revokeduser');
      await page.locator('input[name="password"]').fill('any');
      await page.locator('button[type="submit"]').click();
    }
    while (page.url().startsWith(idp.issuer) && (await page.locator('button[type="submit"]').count())) await page.locator('button[type="submit"]').click();
    await page.waitForURL((u) => u.toString().startsWith(`${server.origin}/settings/email`));
    await page.getByText(`${address} is connected`).waitFor({ timeout: 20_000 });
    const after = (await server.api('GET', `/api/v1/connections/${id}`)).body;
    expect(after.id).toBe(id);
    expect(['syncing', 'active']).toContain(after.state);
    await page.goto(`${server.origin}/inbox`);
    await page.getByRole('heading', { level: 1 }).first().waitFor();
    expect(await page.getByTestId('reconnect-banner').count()).toBe(0);
    await page.close();
  }, 90_000);
});
