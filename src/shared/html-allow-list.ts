/**
 * The one HTML allow-list for email shown in Mailroom, read by the server's sanitiser
 * (src/platform/security/html-sanitize.ts, over sanitize-html) and the browser's
 * (web/src/lib/sanitizeEmail.ts, over DOMPurify): which elements and attributes survive, which
 * elements go with their content, which URL schemes links and images may use, and the inline-CSS
 * filter. Pure: no Node or DOM imports (only the URL global, which both have).
 *
 * test/web/html-allow-list.test.ts sanitises hostile fixtures with both and compares what survives.
 */

/** Elements that survive sanitising. */
export const EMAIL_ALLOWED_TAGS: readonly string[] = [
  'a', 'abbr', 'acronym', 'address', 'article', 'aside', 'b', 'bdi', 'bdo', 'big', 'blockquote', 'br',
  'caption', 'center', 'cite', 'code', 'col', 'colgroup', 'dd', 'del', 'dfn', 'div', 'dl', 'dt', 'em',
  'figcaption', 'figure', 'font', 'footer', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'i', 'img',
  'ins', 'kbd', 'li', 'main', 'mark', 'nav', 'ol', 'p', 'pre', 'q', 's', 'samp', 'section', 'small', 'span',
  'strike', 'strong', 'sub', 'sup', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'time', 'tr',
  'tt', 'u', 'ul', 'var', 'wbr',
];

/** Disallowed elements whose content is dropped too (not shown as text). */
export const EMAIL_DROPPED_WITH_CONTENT: readonly string[] = [
  'script', 'style', 'textarea', 'option', 'select', 'xmp', 'title', 'noscript', 'template', 'iframe',
  'noembed', 'noframes', 'frameset', 'object', 'embed', 'applet', 'svg', 'math', 'plaintext', 'datalist', 'audio', 'video', 'canvas', 'map',
];

/** Attributes allowed on every allowed element. */
export const EMAIL_GLOBAL_ATTRIBUTES: readonly string[] = ['style', 'dir', 'lang', 'title', 'align', 'valign', 'width', 'height', 'bgcolor'];

/**
 * Attributes allowed on one element besides the global ones. `data-blocked-src` and
 * `data-blocked-background` are the server's markers for a remote image held back (never taken from
 * the email itself).
 */
export const EMAIL_ATTRIBUTES_BY_TAG: Readonly<Record<string, readonly string[]>> = {
  a: ['href', 'target', 'rel'],
  img: ['src', 'alt', 'border', 'hspace', 'vspace', 'data-blocked-src'],
  table: ['border', 'cellpadding', 'cellspacing', 'background', 'data-blocked-background', 'summary', 'frame', 'rules'],
  tr: ['background', 'data-blocked-background'],
  td: ['colspan', 'rowspan', 'nowrap', 'background', 'data-blocked-background', 'scope', 'abbr', 'headers'],
  th: ['colspan', 'rowspan', 'nowrap', 'background', 'data-blocked-background', 'scope', 'abbr', 'headers'],
  font: ['color', 'face', 'size'],
  ol: ['start', 'type', 'reversed'],
  ul: ['type'],
  li: ['value', 'type'],
  col: ['span'],
  colgroup: ['span'],
  blockquote: ['type'],
  time: ['datetime'],
  hr: ['size', 'noshade', 'color'],
  div: ['data-blocked-background'],
};

/** Schemes a link may use (besides an in-message `#anchor`). */
export const EMAIL_LINK_SCHEMES: readonly string[] = ['http', 'https', 'mailto', 'cid'];
/** Schemes an image may use (`data:` only for the raster types of EMAIL_DATA_IMAGE). */
export const EMAIL_IMAGE_SCHEMES: readonly string[] = ['http', 'https', 'cid', 'data'];
const LINK_SCHEMES = new Set(EMAIL_LINK_SCHEMES.map((s) => `${s}:`));
/** Every kept link opens outside the app, without referrer or opener. */
export const EMAIL_LINK_REL = 'noopener noreferrer nofollow';
export const EMAIL_DATA_IMAGE = /^data:image\/(png|gif|jpe?g|webp|bmp|avif);base64,[a-z0-9+/=\s]+$/i;
const MAX_STYLE_LENGTH = 8192;

// ---------------------------------------------------------------------------------------------
// URLs

/**
 * What a browser does to an attribute URL before parsing it: drop leading and trailing C0
 * controls and spaces, and every tab and newline anywhere (`java&#x09;script:` -> javascript:).
 */
function cleanUrl(raw: string): string {
  // eslint-disable-next-line no-control-regex
  return raw.replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, '').replace(/[\t\n\r]/g, '');
}

function parseAbsolute(raw: string): URL | null {
  let s = cleanUrl(raw);
  if (s.startsWith('//')) s = `https:${s}`; // protocol-relative: treat as https
  if (!/^[a-z][a-z0-9+.-]*:/i.test(s)) return null;
  try {
    return new URL(s);
  } catch {
    return null;
  }
}

export type ImageUrl =
  | { kind: 'remote'; url: string }
  | { kind: 'cid'; url: string; cid: string }
  | { kind: 'data'; url: string }
  | { kind: 'refused' };

/** What an image URL is: remote (http/https), an inline part (cid:), an allowed data: image, or refused. */
export function classifyImageUrl(raw: string): ImageUrl {
  const cleaned = cleanUrl(raw);
  if (/^data:/i.test(cleaned)) return EMAIL_DATA_IMAGE.test(cleaned) ? { kind: 'data', url: cleaned.replace(/\s+/g, '') } : { kind: 'refused' };
  const url = parseAbsolute(raw);
  if (!url) return { kind: 'refused' };
  if (url.protocol === 'cid:') {
    const cid = decodeURIComponentSafe(url.href.slice(4)).replace(/^<|>$/g, '');
    return cid ? { kind: 'cid', url: url.href, cid } : { kind: 'refused' };
  }
  if ((url.protocol === 'http:' || url.protocol === 'https:') && url.hostname) return { kind: 'remote', url: url.href };
  return { kind: 'refused' };
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The href a link keeps (normalised), or null when it must go. */
export function safeLinkHref(raw: string): string | null {
  const cleaned = cleanUrl(raw);
  if (/^#[^\s]*$/.test(cleaned)) return cleaned; // in-message anchor
  const url = parseAbsolute(raw);
  if (!url || !LINK_SCHEMES.has(url.protocol)) return null;
  if ((url.protocol === 'http:' || url.protocol === 'https:') && !url.hostname) return null;
  return url.href;
}

// ---------------------------------------------------------------------------------------------
// Inline CSS

/** Splits on `sep` outside quotes and parentheses. */
function splitTopLevel(text: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (c === sep && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

/** CSS properties never kept in a style attribute. */
export const EMAIL_DENIED_CSS_PROPERTIES: readonly string[] = ['behavior', 'behaviour', '-moz-binding', '-ms-behavior', 'filter', '-ms-filter'];
const DENIED_PROPERTIES = new Set(EMAIL_DENIED_CSS_PROPERTIES);
/** Anything that runs code, loads a resource without url(), or can smuggle syntax. */
const DENIED_VALUE_RE =
  /expression|javascript|vbscript|livescript|mocha:|-moz-binding|behaviou?r|progid|@import|image-set|image\s*\(|cross-fade|element\s*\(|src\s*\(|var\s*\(|env\s*\(|attr\s*\(|\\|\/\*|\*\/|[<>{};]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/i;
const URL_FN_RE = /url\(\s*(?:"([^"]*)"|'([^']*)'|([^'")\s]*))\s*\)/gi;

/**
 * Filters an inline style attribute declaration by declaration. `image` decides what becomes
 * of each url(): a replacement URL, or null to drop the declaration.
 */
export function sanitizeInlineStyle(style: string, image: (raw: string) => string | null): string {
  if (style.length > MAX_STYLE_LENGTH) return '';
  const kept: string[] = [];
  for (const decl of splitTopLevel(style.replace(/[\t\n\r\f]/g, ' '), ';')) {
    const colon = decl.indexOf(':');
    if (colon === -1) continue;
    const prop = decl.slice(0, colon).trim().toLowerCase();
    let value = decl.slice(colon + 1).trim();
    if (!/^-?[a-z][a-z0-9-]*$/.test(prop) || DENIED_PROPERTIES.has(prop) || value === '') continue;
    // Property names too: no CSS property is called vbscript or expression (found by the random-mixture test).
    if (DENIED_VALUE_RE.test(prop) || DENIED_VALUE_RE.test(value)) continue;
    if (prop === 'position' && !/^(static|relative)(\s*!important)?$/i.test(value)) continue;
    // Every url() must be one we can keep; any leftover "url" text means an odd spelling: drop.
    let ok = true;
    value = value.replace(URL_FN_RE, (_m, dq: string | undefined, sq: string | undefined, bare: string | undefined) => {
      const replacement = image(dq ?? sq ?? bare ?? '');
      if (replacement === null) {
        ok = false;
        return '';
      }
      return `url("${replacement.replace(/["\\\n\r]/g, (c) => encodeURIComponent(c))}")`;
    });
    if (!ok) continue;
    // Anything url-like left over was spelled in a way we did not parse; unbalanced or nested
    // parentheses are not worth understanding either.
    const withoutUrls = value.replace(/url\("[^"]*"\)/g, '');
    if (/url\s*\(/i.test(withoutUrls) || /[()]/.test(withoutUrls.replace(/[a-z-]+\([^()]*\)/gi, ''))) continue;
    kept.push(`${prop}: ${value}`);
  }
  return kept.join('; ');
}
