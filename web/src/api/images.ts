/**
 * Remote images in email are fetched through Mailroom's image proxy (which refuses private
 * addresses), never directly from the sender's server (route: src/platform/http/image-proxy-routes.ts);
 * this is the one place that names it.
 */
export const IMAGE_PROXY_PATH = '/api/v1/image-proxy';

/**
 * What lets the sandboxed email frame load one message's images: its requests carry no session cookie,
 * so each URL carries the message's id and the short-lived image token its HTML endpoint handed out
 * (bound to that message, 10 minutes). Nothing session-wide ever reaches the frame's HTML.
 */
export interface ImageAccess {
  /** The message id (or template preview subject) the token was issued for. */
  subject: string;
  token: string;
}

export function proxiedImageUrl(remote: string, access: ImageAccess | null): string {
  const bound = access?.token ? `&m=${encodeURIComponent(access.subject)}&t=${encodeURIComponent(access.token)}` : '';
  return `${window.location.origin}${IMAGE_PROXY_PATH}?url=${encodeURIComponent(remote)}${bound}`;
}

/** The CSP source that lets the message frame load proxied images and nothing else. */
export function imageProxySource(): string {
  return `${window.location.origin}${IMAGE_PROXY_PATH}`;
}

/** A token that still has at least a minute to run (else the caller fetches a new one). */
export function isFresh(expiresAt: string | null | undefined, now = Date.now()): boolean {
  return Boolean(expiresAt) && Date.parse(expiresAt!) - now > 60_000;
}
