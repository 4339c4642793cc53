/**
 * Sign-in protection in Chromium (issue 21, item 8): after failed sign-ins for one address from other
 * clients (the API), the sign-in page's own failed attempt locks the address and the page says until when,
 * in the reader's time, without a CAPTCHA (the right password waiting too is tested in test/security/sign-in-protection.test.ts).
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { buildWebApp, hasChromium, launchChromium, screenshot, startWebServer, type WebTestServer } from './support.js';

let dist: string;
let server: WebTestServer;
let browser: Browser;
// The server's clock: moved a minute per API failure so the growing waits pass without waiting.
let skew = 0;

beforeAll(async () => {
  dist = await buildWebApp();
  server = await startWebServer(dist);
  (server.env as { now: () => number }).now = () => Date.now() + skew;
  if (hasChromium) browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dist) fs.rmSync(dist, { recursive: true, force: true });
});

describe.skipIf(!hasChromium)('the sign-in page and a locked address', () => {
  test('shows that signing in is paused and until when; no CAPTCHA', async () => {
    const email = server.admin.email;
    for (let i = 1; i <= 9; i++) {
      skew += 61_000;
      const r = await fetch(`${server.origin}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: `guess-${i}` }) });
      expect((await r.json()).error.code).toBe('invalid_credentials');
    }
    skew += 61_000;
    const page = await browser.newPage();
    await page.goto(server.origin + '/');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('still-a-wrong-guess');
    const answered = page.waitForResponse((r) => r.url().endsWith('/api/v1/session') && r.request().method() === 'POST');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const body = await (await answered).json();
    expect(body.error.code).toBe('sign_in_locked');
    const until = new Date(body.error.details.retryAt);
    expect(until.getTime() - (Date.now() + skew)).toBeGreaterThan(14 * 60_000);
    const shown = await page.evaluate((iso) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }), body.error.details.retryAt);
    const notice = page.getByText(`Signing in as this address is paused until ${shown}`);
    await notice.waitFor();
    await page.getByText('in 15 minutes').waitFor();
    expect(await page.getByText(/captcha/i).count()).toBe(0);
    await screenshot(page, 'sign-in-locked');
    // The form stays usable (nothing is locked for good): the button is enabled again.
    expect(await page.getByRole('button', { name: 'Sign in' }).isEnabled()).toBe(true);
    await page.close();
  }, 60_000);
});
