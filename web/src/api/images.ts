/**
 * Remote images in email are fetched through Mailroom's image proxy (which refuses private
 * addresses), never directly from the sender's server. The proxy route is part of the
 * conversations work (issue 5/7); this is the one place that names it.
 */
export const IMAGE_PROXY_PATH = '/api/v1/image-proxy';

export function proxiedImageUrl(remote: string): string {
  return `${window.location.origin}${IMAGE_PROXY_PATH}?url=${encodeURIComponent(remote)}`;
}

/** The CSP source that lets the message frame load proxied images and nothing else. */
export function imageProxySource(): string {
  return `${window.location.origin}${IMAGE_PROXY_PATH}`;
}
