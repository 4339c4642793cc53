/**
 * The image proxy from where it is really used: an email rendered the way web/src/components/EmailFrame.tsx
 * renders it (`<iframe sandbox="" referrerpolicy="no-referrer" srcdoc>`), in Chromium, signed in with the
 * session cookie. The frame has an opaque origin, so its image requests are cross-site and carry no
 * SameSite=Lax cookie: without the session's image-proxy token the image is refused (401); with it
 * (`&t=`), it loads. A real local image server is allowed for this file (MAILROOM_ALLOW_PRIVATE_HOSTS).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { createTestApp, type TestApp } from '../support/app.js';
import { allowLocalMailServers } from '../support/local-hosts.js';
import { hasChromium, launchChromium } from '../web/support.js';

const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

let t: TestApp;
let img: http.Server;
let browser: Browser;
let origin: string;
let imageBase: string;
allowLocalMailServers();

beforeAll(async () => {
  if (!hasChromium) return;
  img = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/gif' }).end(GIF));
  await new Promise<void>((r) => img.listen(0, '127.0.0.1', r));
  imageBase = `http://127.0.0.1:${(img.address() as AddressInfo).port}`;
  t = await createTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  origin = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await t?.close();
  img?.closeAllConnections();
  await new Promise((r) => img?.close(r));
});

describe.skipIf(!hasChromium)('image proxy in the sandboxed email frame (Chromium)', () => {
  it('loads with the image-proxy token, and is refused without it', async () => {
    const a = await t.account();
    const email = (await t.api(a.token, 'GET', '/api/v1/session')).json().user.email;
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${origin}/healthz`);
      const session = await page.evaluate(async ([e, p]) => (await fetch('/api/v1/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: e, password: p }) })).json(), [email, a.password] as const);
      expect(session.imageProxyToken).toBeTruthy();
      // What the proxy answered, seen at the server (the browser's tools do not report a sandboxed frame's loads).
      const statuses = new Map<string, number>();
      const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
        const u = new URL(req.url ?? '/', origin);
        if (u.pathname === '/api/v1/image-proxy') res.on('finish', () => statuses.set(new URL(u.searchParams.get('url')!).pathname, res.statusCode));
      };
      t.app.server.prependListener('request', onRequest);
      const proxied = (name: string, token?: string) =>
        `${origin}/api/v1/image-proxy?url=${encodeURIComponent(`${imageBase}/${name}.gif`)}${token ? `&t=${encodeURIComponent(token)}` : ''}`;
      const html = `<img id="a" src="${proxied('without-token')}"><img id="b" src="${proxied('with-token', session.imageProxyToken)}">`;
      await page.evaluate((doc) => {
        const f = document.createElement('iframe');
        f.setAttribute('sandbox', '');
        f.setAttribute('referrerpolicy', 'no-referrer');
        f.srcdoc = doc;
        document.body.appendChild(f);
      }, html);
      await expect.poll(() => statuses.size, { timeout: 10_000 }).toBe(2);
      expect(statuses.get('/without-token.gif')).toBe(401);
      expect(statuses.get('/with-token.gif')).toBe(200);
      t.app.server.off('request', onRequest);
      // And the image really shows in the frame.
      const frame = page.frames().find((f) => f !== page.mainFrame())!;
      await expect.poll(() => frame.evaluate(() => (document.getElementById('b') as HTMLImageElement).naturalWidth)).toBe(1);
      expect(await frame.evaluate(() => (document.getElementById('a') as HTMLImageElement).naturalWidth)).toBe(0);
    } finally {
      await context.close();
    }
  });
});
