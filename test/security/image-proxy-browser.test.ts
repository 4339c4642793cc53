/**
 * The image proxy from where it is really used: the built web app in Chromium, a stored HTML email with
 * a remote image, "Show images" in the inbox. The message frame is `<iframe sandbox="">` (an opaque
 * origin), so its image requests are cross-site and carry no SameSite=Lax session cookie: the image
 * loads only because its URL carries that message's own image token (`&m=<messageId>&t=`), and the same
 * URL with another message's id is refused. A real local image server is allowed for this file through
 * the image proxy's own allow-list (MAILROOM_IMAGE_PROXY_ALLOW_HOSTS), not the mail servers' list.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { buildWebApp, hasChromium, launchChromium, screenshot, signIn, startWebServer, type WebTestServer } from '../web/support.js';
import { insertConnection } from '../support/connections.js';
import type { TestApp } from '../support/app.js';
import { createIngestor } from '../../src/app/engine.js';
import { ingestBatch } from '../../src/features/ingest/ingest.js';

const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

let img: http.Server;
let browser: Browser;
let dist: string;
let server: WebTestServer;
let imageBase: string;

beforeAll(async () => {
  if (!hasChromium) return;
  img = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/gif' }).end(GIF));
  await new Promise<void>((r) => img.listen(0, '127.0.0.1', r));
  imageBase = `http://127.0.0.1:${(img.address() as AddressInfo).port}`;
  dist = await buildWebApp();
  server = await startWebServer(dist, { configEnv: { MAILROOM_IMAGE_PROXY_ALLOW_HOSTS: '127.0.0.1' } });
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dist) fs.rmSync(dist, { recursive: true, force: true });
  img?.closeAllConnections();
  await new Promise((r) => img?.close(r));
});

describe.skipIf(!hasChromium)('image proxy in the sandboxed email frame (Chromium)', () => {
  it("renders a message's remote image through the proxy with that message's token; another message's id is refused", async () => {
    const inboxId = (await server.api('POST', '/api/v1/inboxes', { name: 'Support' })).body.id as string;
    const team = await insertConnection({ env: server.env, database: server.database } as unknown as TestApp, {
      accountId: server.admin.accountId,
      userId: server.admin.userId,
      type: 'team',
      address: `support-${process.pid}@acme.test`,
      inboxId,
    });
    const ingestor = createIngestor(server.env);
    const store = async (subject: string, html: string) => {
      const raw = [`From: Carla <carla@customer.test>`, `To: ${team.address}`, `Subject: ${subject}`, `Message-ID: <${subject.replace(/\W/g, '')}-${process.pid}@customer.test>`, `Date: ${new Date().toUTCString()}`, 'MIME-Version: 1.0', 'Content-Type: text/html; charset=utf-8', '', html, ''].join('\r\n');
      const r = await ingestBatch(ingestor, team, [{ raw: Buffer.from(raw), source: 'smtp', direction: 'inbound', receivedAt: Date.now() }]);
      const m = await server.database.db.selectFrom('messages').select(['id', 'conversation_id']).where('id', '=', r.messageIds[0]!).executeTakeFirstOrThrow();
      return { messageId: m.id, conversationId: m.conversation_id! };
    };
    const a = await store('Our new catalogue', `<p>Here is our logo:</p><img src="${imageBase}/logo.gif" alt="logo" width="40" height="40">`);
    const b = await store('Another message', '<p>Nothing to see</p>');

    // What the proxy answered, seen at the server (the browser's tools do not report a sandboxed frame's loads).
    const answered: Array<{ m: string | null; t: boolean; status: number }> = [];
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
      const u = new URL(req.url ?? '/', server.origin);
      if (u.pathname === '/api/v1/image-proxy') res.on('finish', () => answered.push({ m: u.searchParams.get('m'), t: u.searchParams.has('t'), status: res.statusCode }));
    };
    server.app.server.prependListener('request', onRequest);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await context.newPage();
      await signIn(page, server.origin, server.admin.email, server.admin.password);
      await page.goto(`${server.origin}/inbox/open?inbox=${inboxId}&c=${a.conversationId}`);
      await page.getByRole('heading', { name: 'Our new catalogue' }).waitFor();
      const frame = page.frameLocator('iframe[title^="Message from"]');
      await frame.getByText('Here is our logo:').waitFor();
      expect(answered).toEqual([]); // blocked until asked
      await page.getByRole('button', { name: 'Show images' }).click();
      await expect.poll(() => answered.length, { timeout: 10_000 }).toBeGreaterThan(0);
      expect(answered[0]).toEqual({ m: a.messageId, t: true, status: 200 });
      // The image really renders in the message frame.
      const inner = page.frames().find((f) => f !== page.mainFrame())!;
      await expect.poll(() => inner.evaluate(() => document.images[0]?.naturalWidth ?? 0), { timeout: 10_000 }).toBe(1);
      // Nothing session-wide is in the frame's HTML: the token is this message's.
      const src = await inner.evaluate(() => document.images[0]!.src);
      const token = new URL(src).searchParams.get('t')!;
      expect(token.split('.')).toHaveLength(3);
      await screenshot(page, 'image-proxy-message-frame', { fullPage: false });

      // The same image URL with message B's id (A's token read out of the frame) is refused in the browser too.
      answered.length = 0;
      const crossed = src.replace(`m=${encodeURIComponent(a.messageId)}`, `m=${encodeURIComponent(b.messageId)}`).replace('logo.gif', 'crossed.gif');
      await page.evaluate((u) => {
        const f = document.createElement('iframe');
        f.setAttribute('sandbox', '');
        f.setAttribute('referrerpolicy', 'no-referrer');
        f.srcdoc = `<img id="x" src="${u}">`;
        document.body.appendChild(f);
      }, crossed);
      await expect.poll(() => answered.length, { timeout: 10_000 }).toBe(1);
      expect(answered[0]).toEqual({ m: b.messageId, t: true, status: 401 });
    } finally {
      server.app.server.off('request', onRequest);
      await context.close();
    }
  });
});
