/**
 * Remote images in email are fetched through Mailroom's image proxy (which refuses private
 * addresses), never directly from the sender's server (route: src/platform/http/image-proxy-routes.ts);
 * this is the one place that names it.
 */
export const IMAGE_PROXY_PATH = '/api/v1/image-proxy';

/**
 * The session's image-proxy token (from /api/v1/session). The email frame is sandboxed, so its image
 * requests carry no session cookie; the proxy accepts this token instead.
 */
let imageProxyToken = '';

export function setImageProxyToken(token: string | undefined): void {
  imageProxyToken = token ?? '';
}

export function proxiedImageUrl(remote: string): string {
  const t = imageProxyToken ? `&t=${encodeURIComponent(imageProxyToken)}` : '';
  return `${window.location.origin}${IMAGE_PROXY_PATH}?url=${encodeURIComponent(remote)}${t}`;
}

/** The CSP source that lets the message frame load proxied images and nothing else. */
export function imageProxySource(): string {
  return `${window.location.origin}${IMAGE_PROXY_PATH}`;
}
