/**
 * Client-side cleaning of message HTML before it is shown, as one layer of several:
 *
 * 1. DOMPurify configured from the same allow-list as the server's sanitiser
 *    (src/shared/html-allow-list.ts: elements, attributes per element, elements dropped with their
 *    content, link and image schemes, the inline-CSS filter); the server sanitises too, the client
 *    does not trust that alone,
 * 2. a sandboxed iframe with no permissions at all (`sandbox=""`: no scripts, no same-origin,
 *    no forms, no popups, no top navigation),
 * 3. a Content-Security-Policy inside the frame (`default-src 'none'`), plus the app's own CSP,
 *    which the srcdoc frame inherits.
 *
 * What the browser adds to the list: remote images (img src, background, CSS url()) are held back
 * unless the reader asks for them, then rewritten to go through Mailroom's image proxy, never fetched
 * from the sender's server. The server's markers for images it held back (`data-blocked-src`,
 * `data-blocked-background`) are read as those images. An image that stays hidden leaves its alt text.
 */
import createDOMPurify, { type Config, type DOMPurify } from 'dompurify';
import {
  classifyImageUrl,
  EMAIL_ALLOWED_TAGS,
  EMAIL_ATTRIBUTES_BY_TAG,
  EMAIL_DROPPED_WITH_CONTENT,
  EMAIL_GLOBAL_ATTRIBUTES,
  EMAIL_LINK_REL,
  EMAIL_LINK_SCHEMES,
  safeLinkHref,
  sanitizeInlineStyle,
} from '../../../src/shared/html-allow-list.js';

export interface SanitizeOptions {
  /** Show remote images through the proxy (after the reader asked). */
  allowRemoteImages: boolean;
  /** Maps a remote http(s) image URL to the proxy URL. */
  proxyUrl: (remote: string) => string;
}

export interface SanitizedEmail {
  /** Body markup, ready to go into the frame. */
  bodyHtml: string;
  /** How many remote images (and CSS images) were held back. */
  blockedImages: number;
  /** True when the input could not be cleaned stably; the caller should fall back to text. */
  unstable: boolean;
}

const GLOBAL_ATTRIBUTES = new Set(EMAIL_GLOBAL_ATTRIBUTES);
const ATTRIBUTES_BY_TAG = new Map(Object.entries(EMAIL_ATTRIBUTES_BY_TAG).map(([tag, names]) => [tag, new Set(names)]));
const DROPPED_WITH_CONTENT = new Set(EMAIL_DROPPED_WITH_CONTENT);
const BLOCKED_MARKERS: Record<string, string> = { 'data-blocked-src': 'src', 'data-blocked-background': 'background' };

/** Whether the shared list allows this attribute on this element. */
export function allowedAttribute(tag: string, name: string): boolean {
  return GLOBAL_ATTRIBUTES.has(name) || Boolean(ATTRIBUTES_BY_TAG.get(tag)?.has(name));
}

/**
 * DOMPurify's configuration, from the shared list. Per-element attributes are enforced by the
 * attribute hook (DOMPurify's own list is global); URLs are checked there with the server's rules,
 * and DOMPurify's URI check is kept as a second net built from the same schemes.
 */
export const PURIFY_CONFIG: Config = {
  ALLOWED_TAGS: [...EMAIL_ALLOWED_TAGS],
  ALLOWED_ATTR: [...new Set([...EMAIL_GLOBAL_ATTRIBUTES, ...Object.values(EMAIL_ATTRIBUTES_BY_TAG).flat()])],
  FORBID_CONTENTS: [...EMAIL_DROPPED_WITH_CONTENT, 'head'],
  ALLOWED_URI_REGEXP: new RegExp(`^(?:(?:${EMAIL_LINK_SCHEMES.join('|')}):|[^a-z]|[a-z+.\\-]+(?:[^a-z+.\\-:]|$))`, 'i'),
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
  ALLOW_UNKNOWN_PROTOCOLS: false,
  KEEP_CONTENT: true,
  WHOLE_DOCUMENT: false,
};

interface Ctx extends SanitizeOptions {
  blocked: number;
}

/** An image source to keep (rewritten when remote), or null to drop it. */
function imageSrc(raw: string, ctx: Ctx): string | null {
  const img = classifyImageUrl(raw);
  switch (img.kind) {
    case 'cid':
    case 'data':
      return img.url;
    case 'remote':
      if (!ctx.allowRemoteImages) {
        ctx.blocked++;
        return null;
      }
      return ctx.proxyUrl(img.url);
    case 'refused':
      return null;
  }
}

let purifier: DOMPurify | null = null;
/** The call being cleaned (DOMPurify runs synchronously, so one at a time). */
let current: Ctx | null = null;

function getPurifier(): DOMPurify {
  if (purifier) return purifier;
  const p = createDOMPurify(window);
  // Elements the list drops with their content go whole, whatever DOMPurify's own content rules say
  // (it keeps a <noscript>'s children, for one).
  p.addHook('uponSanitizeElement', (node, data) => {
    if (DROPPED_WITH_CONTENT.has(data.tagName)) node.parentNode?.removeChild(node);
  });
  // The server's markers become the images they stand for, so they are counted, held back or proxied.
  p.addHook('beforeSanitizeAttributes', (node) => {
    if (node.nodeType !== Node.ELEMENT_NODE) return;
    for (const [marker, target] of Object.entries(BLOCKED_MARKERS)) {
      const value = node.getAttribute(marker);
      if (value === null) continue;
      node.removeAttribute(marker);
      if (!node.hasAttribute(target) && allowedAttribute(node.localName, target)) node.setAttribute(target, value);
    }
  });
  p.addHook('uponSanitizeAttribute', (node, data) => {
    const ctx = current!;
    const tag = node.localName;
    const name = data.attrName;
    if (!allowedAttribute(tag, name) || name in BLOCKED_MARKERS) {
      data.keepAttr = false;
      return;
    }
    let value: string | null = data.attrValue;
    if (name === 'style') value = sanitizeInlineStyle(value, (raw) => imageSrc(raw, ctx)) || null;
    else if (name === 'href') value = safeLinkHref(value);
    else if (name === 'src' || name === 'background') value = imageSrc(value, ctx);
    else if (tag === 'a' && (name === 'target' || name === 'rel')) value = null; // set below from the href
    if (value === null) data.keepAttr = false;
    else data.attrValue = value;
  });
  p.addHook('afterSanitizeAttributes', (node) => {
    if (node.nodeType !== Node.ELEMENT_NODE) return;
    if (node.localName === 'a') {
      const href = node.getAttribute('href');
      if (href && !href.startsWith('#')) {
        node.setAttribute('target', '_blank');
        node.setAttribute('rel', EMAIL_LINK_REL);
      }
    } else if (node.localName === 'img' && node.hasAttribute('src')) {
      node.setAttribute('referrerpolicy', 'no-referrer');
      node.setAttribute('loading', 'lazy');
    }
  });
  purifier = p;
  return p;
}

function cleanOnce(html: string, opts: SanitizeOptions): { bodyHtml: string; blocked: number } {
  const ctx: Ctx = { ...opts, blocked: 0 };
  current = ctx;
  let body: Element;
  try {
    body = getPurifier().sanitize(html, { ...PURIFY_CONFIG, RETURN_DOM: true });
  } finally {
    current = null;
  }
  // An image that stays hidden (or had no usable source) leaves its alt text, so the layout reads.
  for (const img of Array.from(body.querySelectorAll('img'))) {
    if (img.hasAttribute('src')) continue;
    const alt = img.getAttribute('alt');
    if (alt) img.replaceWith(body.ownerDocument.createTextNode(alt));
    else img.remove();
  }
  return { bodyHtml: body.innerHTML, blocked: ctx.blocked };
}

/**
 * Cleans message HTML. The result is checked for stability: cleaning it again must not change it
 * (a change would mean the markup re-parses differently, the root of mutation XSS).
 */
export function sanitizeEmailHtml(html: string, opts: SanitizeOptions): SanitizedEmail {
  const first = cleanOnce(html, opts);
  const second = cleanOnce(first.bodyHtml, { ...opts, allowRemoteImages: true, proxyUrl: (u) => u });
  const unstable = second.bodyHtml !== first.bodyHtml;
  return { bodyHtml: unstable ? '' : first.bodyHtml, blockedImages: first.blocked, unstable };
}

/** The frame's own policy: nothing loads except inline images and, when allowed, the image proxy. */
export function frameCsp(proxySource: string | null): string {
  return [`default-src 'none'`, `img-src data: cid:${proxySource ? ` ${proxySource}` : ''}`, `style-src 'unsafe-inline'`, `font-src 'none'`, `form-action 'none'`, `base-uri 'none'`].join('; ');
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const FRAME_BASE_CSS = `
html { color-scheme: light; }
body { margin: 0; padding: 12px 16px; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2330; background: #fff; overflow-wrap: anywhere; }
img { max-width: 100%; height: auto; }
table { max-width: 100%; }
pre { white-space: pre-wrap; }
a { color: #1849a9; }
`;

/** The complete srcdoc document for a sanitised message. */
export function frameDocument(clean: { bodyHtml: string }, proxySource: string | null): string {
  return (
    `<!doctype html><html><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="${escapeAttr(frameCsp(proxySource))}">` +
    `<meta name="referrer" content="no-referrer">` +
    `<meta http-equiv="x-dns-prefetch-control" content="off">` +
    `<style>${FRAME_BASE_CSS}</style>` +
    `</head><body>${clean.bodyHtml}</body></html>`
  );
}

/** Plain-text messages, shown in the same frame so they look alike. */
export function textToHtml(text: string): string {
  const esc = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<pre style="font: inherit; margin: 0">${esc}</pre>`;
}

const BLOCKS = new Set(['p', 'div', 'li', 'tr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'pre', 'dt', 'dd', 'figcaption', 'summary', 'address', 'center', 'td', 'th']);

/**
 * A frame height for cleaned message markup, estimated without rendering it: the frame is
 * cross-origin (sandbox without allow-same-origin), so the app cannot measure its content.
 * Errs a little on the tall side; the reader can still resize the frame.
 */
export function estimateFrameHeight(bodyHtml: string, width: number): number {
  const doc = new DOMParser().parseFromString(`<body>${bodyHtml}</body>`, 'text/html');
  const charsPerLine = Math.max(20, Math.floor((Math.max(width, 200) - 32) / 7.6));
  const LINE = 22.5;
  let height = 24 + 8;
  const walk = (el: Element, inRow: boolean) => {
    const tag = el.localName;
    if (tag === 'br') {
      height += LINE;
      return;
    }
    if (tag === 'img') {
      const h = Number(el.getAttribute('height'));
      height += Number.isFinite(h) && h > 0 ? Math.min(h, 1200) : 120;
      return;
    }
    if (tag === 'hr') {
      height += 18;
      return;
    }
    let ownText = '';
    for (const n of Array.from(el.childNodes)) if (n.nodeType === Node.TEXT_NODE) ownText += n.textContent ?? '';
    for (const c of Array.from(el.children)) if (!BLOCKS.has(c.localName) && c.localName !== 'br' && c.localName !== 'img' && c.localName !== 'table') ownText += c.textContent ?? '';
    const text = ownText.replace(/\s+/g, ' ').trim();
    const cellOfRow = inRow && (tag === 'td' || tag === 'th');
    if (text && !cellOfRow) height += Math.ceil(text.length / charsPerLine) * LINE + (tag === 'p' || /^h\d$/.test(tag) ? 12 : 0);
    if (tag === 'tr') {
      // A row is as tall as its tallest cell's text.
      const cells = Array.from(el.children);
      const longest = Math.max(0, ...cells.map((c) => (c.textContent ?? '').replace(/\s+/g, ' ').trim().length));
      const perCell = Math.max(10, Math.floor(charsPerLine / Math.max(1, cells.length)));
      height += Math.max(1, Math.ceil(longest / perCell)) * LINE + 12;
    }
    for (const c of Array.from(el.children)) walk(c, tag === 'tr' || (inRow && !BLOCKS.has(c.localName)));
  };
  const body = doc.body;
  const loose = Array.from(body.childNodes)
    .filter((n) => n.nodeType === Node.TEXT_NODE || (n.nodeType === Node.ELEMENT_NODE && !BLOCKS.has((n as Element).localName) && !['table', 'ul', 'ol', 'br', 'img'].includes((n as Element).localName)))
    .map((n) => n.textContent ?? '')
    .join('')
    .replace(/\s+/g, ' ')
    .trim();
  if (loose) height += Math.ceil(loose.length / charsPerLine) * LINE;
  for (const c of Array.from(body.children)) walk(c, false);
  return Math.round(height);
}
