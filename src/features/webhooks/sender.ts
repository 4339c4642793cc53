/**
 * The one way a webhook leaves Mailroom: a POST to the endpoint's URL, SSRF-safe. The host is resolved
 * at send time and checked by the host guard (private, loopback, link-local and metadata addresses are
 * refused unless the operator allows them with MAILROOM_ALLOW_PRIVATE_HOSTS), and the connection is
 * pinned to the checked address, over kept-alive pooled connections (src/platform/security/pinned-fetch.ts,
 * shared with CalDAV).
 * https is required except for hosts the operator allowed. Redirects are not followed (a 3xx is an
 * answer like any other, and not a success), the whole request has a timeout, and at most
 * `maxResponseBytes` of the answer are read.
 */
import { setMaxListeners } from 'node:events';
import type http from 'node:http';
import { BAD_PORTS, HostNotAllowedError, InvalidHostError, resolveSafeHost, type SafeHost } from '../../platform/security/host-guard.js';
import { closePinnedAgents, pinnedRequest } from '../../platform/security/pinned-fetch.js';

export interface PostResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The answer's first bytes (as text). */
  body: string;
}

export type SendErrorCode = 'host_not_allowed' | 'https_required' | 'invalid_url' | 'port_not_allowed' | 'host_not_found' | 'timeout' | 'connection_error';

/** A request that got no HTTP answer (or was refused before sending). */
export class SendError extends Error {
  override readonly name = 'SendError';
  constructor(
    readonly code: SendErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface PostOptions {
  timeoutMs: number;
  maxResponseBytes: number;
  signal?: AbortSignal;
}

/** Closes every pooled connection (tests, shutdown). */
export const closeWebhookAgents = closePinnedAgents;

export async function postWebhook(urlText: string, headers: Record<string, string>, body: string, o: PostOptions): Promise<PostResult> {
  let url: URL;
  try {
    url = new URL(urlText);
  } catch {
    throw new SendError('invalid_url', 'The endpoint URL is not valid.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new SendError('invalid_url', `Webhooks are not sent over ${url.protocol}.`);
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  if (BAD_PORTS.has(port)) throw new SendError('port_not_allowed', `Port ${port} is not allowed for webhooks.`);

  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new SendError('timeout', `No answer within ${o.timeoutMs} ms.`)), o.timeoutMs);
  const onOuter = () => controller.abort(new SendError('connection_error', 'The delivery was stopped (the worker is shutting down).'));
  // The worker's stop signal is shared by all its deliveries in flight (up to 16 per endpoint, 16 endpoints).
  if (o.signal) setMaxListeners(0, o.signal);
  o.signal?.addEventListener('abort', onOuter, { once: true });
  try {
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    let safe: SafeHost;
    try {
      safe = await resolveSafeHost(hostname, { signal: controller.signal });
    } catch (err) {
      if (err instanceof HostNotAllowedError) throw new SendError('host_not_allowed', err.message);
      if (err instanceof InvalidHostError) throw new SendError('invalid_url', err.message);
      if (err instanceof SendError) throw err;
      if (controller.signal.aborted) throw controller.signal.reason;
      throw new SendError('host_not_found', `${hostname} could not be resolved (${(err as Error).message}).`);
    }
    if (url.protocol === 'http:' && !safe.allowListed) throw new SendError('https_required', 'Webhooks are sent over https; http only to hosts the operator allows (MAILROOM_ALLOW_PRIVATE_HOSTS).');
    try {
      const res = await pinnedRequest(url, safe, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'Mailroom-Webhooks/1', ...headers },
        body: Buffer.from(body, 'utf8'),
        signal: controller.signal,
        maxBytes: o.maxResponseBytes,
        overflow: 'truncate',
        keepAlive: true,
      });
      return { status: res.status, headers: res.headers, body: res.body.toString('utf8') };
    } catch (err) {
      if (controller.signal.aborted) throw controller.signal.reason;
      if (err instanceof SendError) throw err;
      throw new SendError('connection_error', `Could not deliver: ${(err as Error).message}`);
    }
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onOuter);
  }
}
