/**
 * Client-side cleaning of message HTML before it is shown, as one layer of several:
 *
 * 1. this allow-list sanitiser (the server sanitises too; the client does not trust that alone),
 * 2. a sandboxed iframe with no permissions at all (`sandbox=""`: no scripts, no same-origin,
 *    no forms, no popups, no top navigation),
 * 3. a Content-Security-Policy inside the frame (`default-src 'none'`), plus the app's own CSP,
 *    which the srcdoc frame inherits.
 *
 * Parsing uses DOMParser, whose documents are inert: nothing in them runs or loads.
 * Remote images (and CSS url() references) are removed unless the reader asks for them; then they
 * are rewritten to go through Mailroom's image proxy, never fetched directly from the sender's server.
 */

const ALLOWED_TAGS = new Set([
  'a', 'abbr', 'address', 'article', 'aside', 'b', 'bdi', 'bdo', 'big', 'blockquote', 'br', 'caption', 'center', 'cite',
  'code', 'col', 'colgroup', 'dd', 'del', 'details', 'dfn', 'div', 'dl', 'dt', 'em', 'figcaption', 'figure', 'font',
  'footer', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'i', 'img', 'ins', 'kbd', 'li', 'main', 'mark', 'nav',
  'ol', 'p', 'pre', 'q', 'rp', 'rt', 'ruby', 's', 'samp', 'section', 'small', 'span', 'strike', 'strong', 'sub',
  'summary', 'sup', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'time', 'tr', 'tt', 'u', 'ul', 'var', 'wbr',
]);

/** Removed together with everything inside them. */
const DROPPED_TAGS = new Set([
  'script', 'noscript', 'template', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'param', 'svg', 'math',
  'meta', 'link', 'base', 'title', 'head', 'input', 'button', 'select', 'textarea', 'option', 'optgroup', 'datalist',
  'output', 'audio', 'video', 'source', 'track', 'canvas', 'dialog', 'portal', 'xmp', 'plaintext', 'noembed',
  'noframes', 'listing', 'slot', 'map', 'area', 'image', 'isindex', 'keygen', 'menu', 'fencedframe', 'search',
]);

const ALLOWED_ATTRS = new Set([
  'align', 'valign', 'bgcolor', 'color', 'width', 'height', 'border', 'cellpadding', 'cellspacing', 'colspan', 'rowspan',
  'dir', 'lang', 'title', 'style', 'class', 'face', 'size', 'start', 'type', 'alt', 'span', 'nowrap', 'headers', 'scope',
  'summary', 'abbr', 'datetime', 'hspace', 'vspace', 'clear', 'reversed', 'open', 'value', 'name',
]);

export interface SanitizeOptions {
  /** Show remote images through the proxy (after the reader asked). */
  allowRemoteImages: boolean;
  /** Maps a remote http(s) image URL to the proxy URL. */
  proxyUrl: (remote: string) => string;
}

export interface SanitizedEmail {
  /** Body markup and the email's own (cleaned) style sheets, ready to go into the frame. */
  bodyHtml: string;
  css: string;
  /** How many remote images (and CSS images) were held back. */
  blockedImages: number;
  /** True when the input could not be cleaned stably; the caller should fall back to text. */
  unstable: boolean;
}

const CONTROL_AND_SPACE = /[\u0000-\u0020\u007f-\u009f\u00ad\u200b-\u200f\u2028\u2029\ufeff]/g;

function schemeOf(url: string): string | null {
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(url.replace(CONTROL_AND_SPACE, ''));
  return m ? m[1]!.toLowerCase() : null;
}

function isRemote(url: string): boolean {
  const u = url.trim();
  return /^(https?:)?\/\//i.test(u.replace(CONTROL_AND_SPACE, ''));
}

const SAFE_DATA_IMAGE = /^data:image\/(png|gif|jpe?g|webp|bmp|x-icon);base64,[a-z0-9+/=\s]*$/i;

/** A link target people may follow, or null. */
export function safeLinkHref(href: string): string | null {
  const raw = href.trim();
  if (raw.startsWith('#')) return raw;
  const scheme = schemeOf(raw);
  if (scheme === 'http' || scheme === 'https' || scheme === 'mailto' || scheme === 'tel') return raw;
  if (scheme === null && /^\/\//.test(raw)) return `https:${raw}`;
  return null;
}

interface Ctx extends SanitizeOptions {
  blocked: number;
}

/** An image source to keep (rewritten when remote), or null to drop it. */
function imageSrc(src: string, ctx: Ctx): string | null {
  const s = src.trim();
  if (SAFE_DATA_IMAGE.test(s)) return s;
  if (schemeOf(s) === 'cid') return s;
  if (isRemote(s)) {
    if (!ctx.allowRemoteImages) {
      ctx.blocked++;
      return null;
    }
    return ctx.proxyUrl(/^\/\//.test(s) ? `https:${s}` : s);
  }
  return null;
}

const URL_FN = /url\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^)'"\s]*))\s*\)/gi;
const OTHER_RESOURCE_FN = /(?:image-set|image|cross-fade|element|src|expression|paint|env|attr|var)\s*\(/i;

/** A cleaned CSS value, or null to drop the declaration. Values come canonicalised from the CSSOM. */
function cleanCssValue(name: string, value: string, ctx: Ctx): string | null {
  if (name.startsWith('--')) return null; // custom properties could smuggle escaped url() through var()
  if (/^(behavior|-moz-binding|-ms-behavior)$/i.test(name)) return null;
  if (OTHER_RESOURCE_FN.test(value)) return null;
  if (/\\/.test(value.replace(/"(?:[^"\\]|\\.)*"/g, '""'))) return null; // escapes outside strings
  let ok = true;
  const out = value.replace(URL_FN, (_m, dq: string | undefined, sq: string | undefined, bare: string | undefined) => {
    const url = (dq ?? sq ?? bare ?? '').replace(/\\(.)/g, '$1');
    const kept = imageSrc(url, ctx);
    if (kept === null) {
      ok = false;
      return '';
    }
    return `url("${kept.replace(/["\\\n\r]/g, (c) => `\\${c.charCodeAt(0).toString(16)} `)}")`;
  });
  if (!ok) return null;
  if (/url\s*\(/i.test(out.replace(URL_FN, ''))) return null; // any url( the pattern did not understand
  return out;
}

function cleanDeclarations(style: CSSStyleDeclaration, ctx: Ctx): string {
  const parts: string[] = [];
  for (let i = 0; i < style.length; i++) {
    const name = style.item(i);
    const value = style.getPropertyValue(name);
    const prio = style.getPropertyPriority(name);
    const cleaned = cleanCssValue(name, value, ctx);
    if (cleaned !== null && cleaned.trim() !== '') parts.push(`${name}: ${cleaned}${prio ? ' !important' : ''}`);
  }
  return parts.join('; ');
}

function cleanRules(rules: CSSRuleList, ctx: Ctx, depth: number): string {
  if (depth > 8) return '';
  const out: string[] = [];
  for (const rule of Array.from(rules)) {
    if (rule instanceof CSSStyleRule) {
      const body = cleanDeclarations(rule.style, ctx);
      const nested = rule.cssRules && rule.cssRules.length ? cleanRules(rule.cssRules, ctx, depth + 1) : '';
      if (body || nested) out.push(`${rule.selectorText} { ${body}${body && nested ? '; ' : ''}${nested} }`);
    } else if (rule instanceof CSSMediaRule) {
      const inner = cleanRules(rule.cssRules, ctx, depth + 1);
      if (inner) out.push(`@media ${rule.conditionText} { ${inner} }`);
    } else if (typeof CSSSupportsRule !== 'undefined' && rule instanceof CSSSupportsRule) {
      const inner = cleanRules(rule.cssRules, ctx, depth + 1);
      if (inner) out.push(`@supports ${rule.conditionText} { ${inner} }`);
    }
    // @import, @font-face, @namespace, @keyframes, @page, @layer, @property, ...: dropped.
  }
  return out.join('\n');
}

function cleanStyleSheet(text: string, ctx: Ctx): string {
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(text); // @import rules are ignored by constructable sheets
    return cleanRules(sheet.cssRules, ctx, 0);
  } catch {
    return '';
  }
}

/** `<` never reaches the frame inside CSS text, so a style sheet cannot close its own element. */
export function escapeCssForStyleElement(css: string): string {
  return css.replace(/</g, '\\3c ').replace(/>/g, '\\3e ');
}

function cleanElement(el: Element, ctx: Ctx, out: Document): Node | null {
  const tag = el.localName.toLowerCase();
  if (el.namespaceURI !== 'http://www.w3.org/1999/xhtml') return null;
  if (DROPPED_TAGS.has(tag)) return null;
  if (tag === 'style') return null; // collected separately
  const children = () => {
    const frag = out.createDocumentFragment();
    for (const child of Array.from(el.childNodes)) {
      const c = cleanNode(child, ctx, out);
      if (c) frag.appendChild(c);
    }
    return frag;
  };
  if (!ALLOWED_TAGS.has(tag)) return children(); // unknown but harmless wrappers (form, body, html, o:p...): keep content only

  const copy = out.createElement(tag);
  for (const attr of Array.from(el.attributes)) {
    const name = attr.name.toLowerCase();
    if (name === 'style') {
      const holder = out.createElement('span');
      holder.setAttribute('style', attr.value);
      const css = cleanDeclarations(holder.style, ctx);
      if (css) copy.setAttribute('style', css);
      continue;
    }
    if (!ALLOWED_ATTRS.has(name)) continue;
    copy.setAttribute(name, attr.value);
  }
  if (tag === 'a') {
    const href = el.getAttribute('href');
    const safe = href === null ? null : safeLinkHref(href);
    if (safe) {
      copy.setAttribute('href', safe);
      if (!safe.startsWith('#')) {
        copy.setAttribute('target', '_blank');
        copy.setAttribute('rel', 'noopener noreferrer nofollow');
      }
    }
  }
  if (tag === 'img') {
    const src = el.getAttribute('src');
    const kept = src === null ? null : imageSrc(src, ctx);
    if (kept === null) {
      // Keep the layout readable: show the alt text where the image was.
      const alt = el.getAttribute('alt');
      return alt ? out.createTextNode(alt) : null;
    }
    copy.setAttribute('src', kept);
    copy.setAttribute('referrerpolicy', 'no-referrer');
    copy.setAttribute('loading', 'lazy');
  }
  // Table and body backgrounds are remote images too.
  const background = el.getAttribute('background');
  if (background) {
    const kept = imageSrc(background, ctx);
    if (kept) copy.setAttribute('style', `${copy.getAttribute('style') ? copy.getAttribute('style') + '; ' : ''}background-image: url("${kept.replace(/"/g, '%22')}")`);
  }
  copy.appendChild(children());
  return copy;
}

function cleanNode(node: Node, ctx: Ctx, out: Document): Node | null {
  if (node.nodeType === Node.TEXT_NODE) return out.createTextNode(node.textContent ?? '');
  if (node.nodeType === Node.ELEMENT_NODE) return cleanElement(node as Element, ctx, out);
  return null; // comments (conditional comments), processing instructions...
}

function cleanOnce(html: string, opts: SanitizeOptions): { bodyHtml: string; css: string; blocked: number } {
  const ctx: Ctx = { ...opts, blocked: 0 };
  const parsed = new DOMParser().parseFromString(html, 'text/html');
  const out = document.implementation.createHTMLDocument('');
  const styles: string[] = [];
  for (const s of Array.from(parsed.querySelectorAll('style'))) {
    if (s.namespaceURI !== 'http://www.w3.org/1999/xhtml' || s.closest('svg, math, template, noscript')) continue;
    const css = cleanStyleSheet(s.textContent ?? '', ctx);
    if (css) styles.push(css);
  }
  const container = out.createElement('div');
  const root = parsed.body ?? parsed.documentElement;
  for (const child of Array.from(root.childNodes)) {
    const c = cleanNode(child, ctx, out);
    if (c) container.appendChild(c);
  }
  return { bodyHtml: container.innerHTML, css: escapeCssForStyleElement(styles.join('\n')), blocked: ctx.blocked };
}

/**
 * Cleans message HTML. The result is checked for stability: cleaning it again must not change it
 * (a change would mean the markup re-parses differently, the root of mutation XSS).
 */
export function sanitizeEmailHtml(html: string, opts: SanitizeOptions): SanitizedEmail {
  const first = cleanOnce(html, opts);
  const wrapped = `<html><head><style>${first.css}</style></head><body>${first.bodyHtml}</body></html>`;
  const second = cleanOnce(wrapped, { ...opts, allowRemoteImages: true, proxyUrl: (u) => u });
  const unstable = second.bodyHtml !== first.bodyHtml;
  return { bodyHtml: unstable ? '' : first.bodyHtml, css: unstable ? '' : first.css, blockedImages: first.blocked, unstable };
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
export function frameDocument(clean: { bodyHtml: string; css: string }, proxySource: string | null): string {
  return (
    `<!doctype html><html><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="${escapeAttr(frameCsp(proxySource))}">` +
    `<meta name="referrer" content="no-referrer">` +
    `<meta http-equiv="x-dns-prefetch-control" content="off">` +
    `<style>${FRAME_BASE_CSS}</style>` +
    (clean.css ? `<style>${clean.css}</style>` : '') +
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
