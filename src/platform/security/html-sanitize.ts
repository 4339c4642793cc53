/**
 * Making the HTML of an email safe to show inside Mailroom.
 *
 * An allow-list over `sanitize-html`: formatting and table tags survive, everything that runs
 * code, submits data, loads other documents or changes the page's base is removed (script,
 * style elements, event handlers, forms and inputs, iframes, object/embed, svg/math, meta,
 * base, link). Links keep only http, https, mailto and cid URLs and open in a new tab with
 * rel="noopener noreferrer nofollow". Inline `style` attributes are kept after a declaration
 * filter (no expressions, bindings, escapes, script URLs, fixed positioning).
 *
 * Remote images (img src, table/td background, CSS url()) are what trackers use: with
 * `allowRemoteImages: false` an <img> loses its src and keeps the URL in `data-blocked-src`
 * (background: `data-blocked-background`; CSS url() declarations are dropped) so the UI can
 * offer "show images"; with `allowRemoteImages: true` they are rewritten through
 * `imageProxyUrl` when given. `cid:` images are kept as `cid:` for the caller to map to the
 * message's inline parts.
 *
 * Defence in depth: show the result in a sandboxed iframe (no allow-scripts, no
 * allow-same-origin) with a CSP such as
 * `default-src 'none'; img-src <proxy origin> data: blob:; style-src 'unsafe-inline'`.
 */

import sanitizeHtml from 'sanitize-html';

export interface SanitizeEmailHtmlOptions {
  allowRemoteImages: boolean;
  /** Rewrites an allowed remote image URL (http/https) to the image proxy. */
  imageProxyUrl?: (url: string) => string;
}

export interface SanitizedEmailHtml {
  html: string;
  /** Remote images (img, background, CSS url()) held back because remote images are off. */
  blockedRemoteImages: number;
  /** Content-IDs referenced by cid: URLs (without the `cid:`), for mapping inline parts. */
  cidReferences: string[];
}

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
const NON_TEXT_TAGS = [
  'script', 'style', 'textarea', 'option', 'select', 'xmp', 'title', 'noscript', 'template', 'iframe',
  'noembed', 'noframes', 'frameset', 'object', 'embed', 'applet', 'svg', 'math', 'plaintext', 'datalist', 'audio', 'video', 'canvas', 'map',
];

const GLOBAL_ATTRIBUTES = ['style', 'dir', 'lang', 'title', 'align', 'valign', 'width', 'height', 'bgcolor'];

const ALLOWED_ATTRIBUTES: Record<string, string[]> = {
  '*': GLOBAL_ATTRIBUTES,
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

const LINK_SCHEMES = new Set(['http:', 'https:', 'mailto:', 'cid:']);
const LINK_REL = 'noopener noreferrer nofollow';
const DATA_IMAGE_RE = /^data:image\/(png|gif|jpe?g|webp|bmp|avif);base64,[a-z0-9+/=\s]+$/i;
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

type ImageUrl =
  | { kind: 'remote'; url: string }
  | { kind: 'cid'; url: string; cid: string }
  | { kind: 'data'; url: string }
  | { kind: 'refused' };

function classifyImageUrl(raw: string): ImageUrl {
  const cleaned = cleanUrl(raw);
  if (/^data:/i.test(cleaned)) return DATA_IMAGE_RE.test(cleaned) ? { kind: 'data', url: cleaned.replace(/\s+/g, '') } : { kind: 'refused' };
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

function safeLinkHref(raw: string): string | null {
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

const DENIED_PROPERTIES = new Set(['behavior', 'behaviour', '-moz-binding', '-ms-behavior', 'filter', '-ms-filter']);
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

// ---------------------------------------------------------------------------------------------

/** Sanitises email HTML and reports what was held back. */
export function sanitizeEmailHtmlDetailed(html: string, opts: SanitizeEmailHtmlOptions): SanitizedEmailHtml {
  let blockedRemoteImages = 0;
  const cids = new Set<string>();

  /** The URL to load for an image, or null when it must not load (kind tells why). */
  const imageTarget = (raw: string): { src: string | null; blocked: string | null } => {
    const img = classifyImageUrl(raw);
    switch (img.kind) {
      case 'cid':
        cids.add(img.cid);
        return { src: img.url, blocked: null };
      case 'data':
        return { src: img.url, blocked: null };
      case 'remote':
        if (!opts.allowRemoteImages) {
          blockedRemoteImages++;
          return { src: null, blocked: img.url };
        }
        return { src: opts.imageProxyUrl ? opts.imageProxyUrl(img.url) : img.url, blocked: null };
      case 'refused':
        return { src: null, blocked: null };
    }
  };

  const transform = (tagName: string, attribs: sanitizeHtml.Attributes): sanitizeHtml.Tag => {
    const out: sanitizeHtml.Attributes = {};
    for (const [name, value] of Object.entries(attribs)) {
      const n = name.toLowerCase();
      // Our own markers only ever come from us.
      if (n.startsWith('on') || n.startsWith('data-')) continue;
      out[n] = value;
    }

    if (out.style !== undefined) {
      const style = sanitizeInlineStyle(out.style, (raw) => imageTarget(raw).src);
      if (style) out.style = style;
      else delete out.style;
    }

    if (out.background !== undefined) {
      const t = imageTarget(out.background);
      delete out.background;
      if (t.src) out.background = t.src;
      else if (t.blocked) out['data-blocked-background'] = t.blocked;
    }

    if (tagName === 'img') {
      const t = out.src !== undefined ? imageTarget(out.src) : { src: null, blocked: null };
      delete out.src;
      if (t.src) out.src = t.src;
      else if (t.blocked) out['data-blocked-src'] = t.blocked;
    }

    if (tagName === 'a') {
      delete out.target;
      delete out.rel;
      const href = out.href !== undefined ? safeLinkHref(out.href) : null;
      delete out.href;
      if (href) {
        out.href = href;
        if (!href.startsWith('#')) {
          out.target = '_blank';
          out.rel = LINK_REL;
        }
      }
    }
    return { tagName, attribs: out };
  };

  const result = sanitizeHtml(html, {
    allowedTags: [...EMAIL_ALLOWED_TAGS],
    allowedAttributes: ALLOWED_ATTRIBUTES,
    allowedSchemes: ['http', 'https', 'mailto', 'cid'],
    allowedSchemesByTag: { img: ['http', 'https', 'cid', 'data'], a: ['http', 'https', 'mailto', 'cid'] },
    allowedSchemesAppliedToAttributes: ['href', 'src', 'background', 'cite', 'action', 'formaction', 'poster', 'xlink:href'],
    allowProtocolRelative: false,
    disallowedTagsMode: 'discard',
    nonTextTags: NON_TEXT_TAGS,
    transformTags: { '*': transform },
    parseStyleAttributes: true,
    enforceHtmlBoundary: false,
  });
  return { html: result, blockedRemoteImages, cidReferences: [...cids] };
}

/** Sanitises email HTML for display. See the module comment for what survives. */
export function sanitizeEmailHtml(html: string, opts: SanitizeEmailHtmlOptions): string {
  return sanitizeEmailHtmlDetailed(html, opts).html;
}
