/**
 * Click and open tracking at send time, pure over the email's HTML:
 * - `rewriteLinksForTracking` replaces the href of every trackable link (absolute http/https) with the
 *   tracking URL the caller makes for it, and returns the destinations in order, so they can be stored per
 *   link id: the click route redirects only to the stored destination, never to a URL from the request.
 *   mailto:, tel:, in-page anchors, relative and malformed URLs, links marked `data-mailroom-notrack`, and
 *   links already pointing at our tracking endpoint are left alone.
 * - `insertOpenPixel` adds a 1x1 image before `</body>` (or at the end).
 */
import { attribute, hasAttribute, rewriteTags, startTag, withAttribute } from './html.js';

export interface TrackedLink {
  /** 0, 1, 2... in document order of the rewritten links. */
  position: number;
  /** The destination, normalised (`new URL(href).href`): safe for a Location header. */
  url: string;
}

export interface RewriteLinksOptions {
  /** Links beyond this many are left untracked. Default 200. */
  maxLinks?: number;
  /** URLs starting with this (our tracking base) are never rewritten again. */
  trackingBase?: string;
}

/** The normalised destination of an href when it is trackable, else null. */
export function trackableUrl(href: string | null, trackingBase?: string): string | null {
  if (href === null) return null;
  const h = href.trim();
  if (!/^https?:\/\//i.test(h)) return null;
  let url: URL;
  try {
    url = new URL(h);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (!url.hostname) return null;
  if (url.username || url.password) return null; // credentials in a link: leave it exactly as written
  if (trackingBase && url.href.startsWith(trackingBase)) return null;
  if (url.href.length > 4000) return null;
  return url.href;
}

export function rewriteLinksForTracking(html: string, trackingUrlFor: (link: TrackedLink) => string, opts: RewriteLinksOptions = {}): { html: string; links: TrackedLink[] } {
  const max = opts.maxLinks ?? 200;
  const links: TrackedLink[] = [];
  const out = rewriteTags(html, (tag) => {
    if (tag.name !== 'a' || tag.closing) return null;
    if (hasAttribute(tag, 'data-mailroom-notrack')) return null;
    const url = trackableUrl(attribute(tag, 'href'), opts.trackingBase);
    if (!url || links.length >= max) return null;
    const link = { position: links.length, url };
    links.push(link);
    return startTag('a', withAttribute(tag.attributes, 'href', trackingUrlFor(link)), tag.selfClosing);
  });
  return { html: out, links };
}

/** The open pixel: a 1x1 image that clients hide, placed before `</body>` when there is one. */
export function insertOpenPixel(html: string, pixelUrl: string): string {
  const img = startTag('img', [
    { name: 'src', value: pixelUrl },
    { name: 'width', value: '1' },
    { name: 'height', value: '1' },
    { name: 'alt', value: '' },
    { name: 'style', value: 'display:block;width:1px;height:1px;border:0;margin:0;padding:0' },
  ]);
  const at = html.search(/<\/body\s*>(?![\s\S]*<\/body\s*>)/i);
  return at >= 0 ? `${html.slice(0, at)}${img}${html.slice(at)}` : `${html}${img}`;
}
