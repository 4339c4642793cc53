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
import {
  classifyImageUrl,
  EMAIL_ALLOWED_TAGS,
  EMAIL_ATTRIBUTES_BY_TAG,
  EMAIL_DROPPED_WITH_CONTENT,
  EMAIL_GLOBAL_ATTRIBUTES,
  EMAIL_IMAGE_SCHEMES,
  EMAIL_LINK_REL,
  EMAIL_LINK_SCHEMES,
  safeLinkHref,
  sanitizeInlineStyle,
} from '../../shared/html-allow-list.js';

// The allow-list itself (tags, attributes, schemes, the CSS filter) lives in src/shared/html-allow-list.ts,
// shared with the browser's sanitiser; this module is its sanitize-html configuration.
export { EMAIL_ALLOWED_TAGS, sanitizeInlineStyle };

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
          out.rel = EMAIL_LINK_REL;
        }
      }
    }
    return { tagName, attribs: out };
  };

  const result = sanitizeHtml(html, {
    allowedTags: [...EMAIL_ALLOWED_TAGS],
    allowedAttributes: { '*': [...EMAIL_GLOBAL_ATTRIBUTES], ...Object.fromEntries(Object.entries(EMAIL_ATTRIBUTES_BY_TAG).map(([tag, names]) => [tag, [...names]])) },
    allowedSchemes: [...EMAIL_LINK_SCHEMES],
    allowedSchemesByTag: { img: [...EMAIL_IMAGE_SCHEMES], a: [...EMAIL_LINK_SCHEMES] },
    allowedSchemesAppliedToAttributes: ['href', 'src', 'background', 'cite', 'action', 'formaction', 'poster', 'xlink:href'],
    allowProtocolRelative: false,
    disallowedTagsMode: 'discard',
    nonTextTags: [...EMAIL_DROPPED_WITH_CONTENT],
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
