/**
 * Fetching one remote email image for a signed-in reader (the image proxy's use case).
 *
 * The network part is `safeFetch` (host-guard.ts): http/https only, every hop resolved once and
 * checked (private, loopback, link-local, CGNAT, unique-local, mapped and metadata addresses
 * refused unless the operator allow-lists them in MAILROOM_IMAGE_PROXY_ALLOW_HOSTS), the connection pinned to the checked address,
 * at most 3 redirects, 5 MiB, one 10 s timeout, no cookies or Referer sent.
 *
 * On top of it, this file decides WHAT is served: only raster images whose bytes are what they
 * claim. The type served is the one read from the magic bytes, never the sender's header, so a
 * page labelled image/png cannot reach the browser as anything but an image. SVG is refused, not
 * served under a sandbox CSP: it is a document (script, external references, foreignObject) and
 * email images display fine without it.
 *
 * Every failure is an ImageProxyError with a stable code and an HTTP status; messages never
 * include the address a name resolved to (that would map the internal network for the caller).
 */
import {
  HostNotAllowedError,
  InvalidHostError,
  SafeFetchError,
  safeFetch,
  type AllowList,
  type LookupAll,
} from './host-guard.js';
import { describeAddressClass } from './address-ranges.js';

export const IMAGE_PROXY_MAX_BYTES = 5 * 1024 * 1024;
export const IMAGE_PROXY_TIMEOUT_MS = 10_000;
export const IMAGE_PROXY_MAX_REDIRECTS = 3;

export type ImageProxyErrorCode =
  | 'invalid_url'
  | 'scheme_not_allowed'
  | 'port_not_allowed'
  | 'host_not_allowed'
  | 'host_not_found'
  | 'too_many_redirects'
  | 'image_too_large'
  | 'content_type_not_allowed'
  | 'not_an_image'
  | 'upstream_status'
  | 'upstream_timeout'
  | 'upstream_unreachable';

export class ImageProxyError extends Error {
  override readonly name = 'ImageProxyError';
  constructor(
    readonly code: ImageProxyErrorCode,
    readonly status: number,
    message: string,
    readonly upstreamStatus?: number,
  ) {
    super(message);
  }
}

/** Raster formats served, recognised by their first bytes. */
export function sniffImageType(body: Buffer): string | null {
  const at = (offset: number, bytes: number[]) => bytes.every((b, i) => body[offset + i] === b);
  const ascii = (offset: number, text: string) => body.subarray(offset, offset + text.length).toString('latin1') === text;
  if (at(0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (at(0, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (ascii(0, 'GIF87a') || ascii(0, 'GIF89a')) return 'image/gif';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'image/webp';
  if (ascii(4, 'ftyp') && (ascii(8, 'avif') || ascii(8, 'avis'))) return 'image/avif';
  if (ascii(0, 'BM') && body.length >= 26) return 'image/bmp';
  if (at(0, [0x00, 0x00, 0x01, 0x00]) && body.length >= 22) return 'image/x-icon';
  return null;
}

export interface ProxiedImage {
  /** The type read from the bytes (image/png, image/jpeg, ...). */
  contentType: string;
  body: Buffer;
  /** The URL finally fetched, after redirects. */
  finalUrl: string;
}

export interface FetchProxiedImageOptions {
  /**
   * Private hosts allowed. The route passes the image proxy's own list (MAILROOM_IMAGE_PROXY_ALLOW_HOSTS);
   * when absent, the process's list (setAllowPrivateHosts, the mail servers') is used.
   */
  allowHosts?: readonly string[] | AllowList;
  lookup?: LookupAll;
  maxBytes?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Fetches `url` for the image proxy. Throws ImageProxyError only. */
export async function fetchProxiedImage(url: string, opts: FetchProxiedImageOptions = {}): Promise<ProxiedImage> {
  const maxBytes = opts.maxBytes ?? IMAGE_PROXY_MAX_BYTES;
  let result;
  try {
    result = await safeFetch(url, {
      ...(opts.allowHosts !== undefined ? { allowHosts: opts.allowHosts } : {}),
      ...(opts.lookup ? { lookup: opts.lookup } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      maxBytes,
      timeoutMs: opts.timeoutMs ?? IMAGE_PROXY_TIMEOUT_MS,
      maxRedirects: IMAGE_PROXY_MAX_REDIRECTS,
    });
  } catch (err) {
    throw toProxyError(err, maxBytes);
  }
  const contentType = sniffImageType(result.body);
  if (!contentType) {
    throw new ImageProxyError('not_an_image', 502, 'The remote server said this is an image, but its content is not a supported image format (PNG, JPEG, GIF, WebP, AVIF, BMP, ICO).');
  }
  return { contentType, body: result.body, finalUrl: result.url };
}

function toProxyError(err: unknown, maxBytes: number): ImageProxyError {
  if (err instanceof ImageProxyError) return err;
  if (err instanceof HostNotAllowedError) {
    return new ImageProxyError(
      'host_not_allowed',
      403,
      `Images are not fetched from ${err.host}: it is (or resolves to) ${describeAddressClass(err.addressClass)}, and Mailroom only fetches images from public servers.`,
    );
  }
  if (err instanceof InvalidHostError) return new ImageProxyError('invalid_url', 400, 'The image URL does not name a valid host.');
  if (err instanceof SafeFetchError) {
    switch (err.code) {
      case 'invalid_url':
        return new ImageProxyError('invalid_url', 400, 'The image URL is not a valid http or https URL without credentials.');
      case 'scheme_not_allowed':
        return new ImageProxyError('scheme_not_allowed', 400, 'Only http and https images are fetched.');
      case 'port_not_allowed':
        return new ImageProxyError('port_not_allowed', 400, 'Images are not fetched from that port (it belongs to another protocol).');
      case 'too_many_redirects':
        return new ImageProxyError('too_many_redirects', 502, `The image server redirected more than ${IMAGE_PROXY_MAX_REDIRECTS} times.`);
      case 'too_large':
        return new ImageProxyError('image_too_large', 502, `The image is larger than ${Math.round(maxBytes / 1024 / 1024)} MB.`);
      case 'content_type_not_allowed':
        return new ImageProxyError('content_type_not_allowed', 502, 'The remote server did not answer with a raster image (SVG and other documents are not shown).');
      case 'upstream_status':
        return new ImageProxyError('upstream_status', 502, `The image server answered ${err.status ?? 'an error'}.`, err.status);
      case 'timeout':
        return new ImageProxyError('upstream_timeout', 504, 'The image server did not answer in time.');
      case 'network_error':
        return new ImageProxyError('upstream_unreachable', 502, 'The image server could not be reached.');
    }
  }
  const code = (err as { code?: string } | null)?.code;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ENODATA') {
    return new ImageProxyError('host_not_found', 502, 'The image server could not be found.');
  }
  return new ImageProxyError('upstream_unreachable', 502, 'The image could not be fetched.');
}
