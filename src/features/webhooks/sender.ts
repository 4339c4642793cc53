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

/** An endpoint URL as the sender needs it, parsed and checked once per URL text (not per request). */
interface Target {
  url: URL;
  /** The host as resolveSafeHost takes it (an IPv6 literal without its brackets). */
  hostname: string;
}

const targets = new Map<string, Target | SendError>();
const MAX_TARGETS = 1000;

function targetOf(urlText: string): Target {
  let t = targets.get(urlText);
  if (t === undefined) {
    t = parseTarget(urlText);
    if (targets.size >= MAX_TARGETS) targets.clear();
    targets.set(urlText, t);
  }
  if (t instanceof SendError) throw new SendError(t.code, t.message);
  return t;
}

function parseTarget(urlText: string): Target | SendError {
  let url: URL;
  try {
    url = new URL(urlText);
  } catch {
    return new SendError('invalid_url', 'The endpoint URL is not valid.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return new SendError('invalid_url', `Webhooks are not sent over ${url.protocol}.`);
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  if (BAD_PORTS.has(port)) return new SendError('port_not_allowed', `Port ${port} is not allowed for webhooks.`);
  return { url, hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname };
}

/** The content type and user agent of every webhook request. */
export const BASE_HEADERS = { 'content-type': 'application/json', 'user-agent': 'Mailroom-Webhooks/1' } as const;

/**
 * The headers of one attempt as sent (and logged): the content type and user agent, then the three
 * Standard Webhooks headers, in one object made once.
 */
export function webhookHeaders(id: string, timestampSeconds: number, signature: string): Record<string, string> {
  return {
    'content-type': BASE_HEADERS['content-type'],
    'user-agent': BASE_HEADERS['user-agent'],
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': signature,
  };
}

/**
 * POSTs `body` with `headers` (the content type and user agent first, unless `headers` has them: see
 * `webhookHeaders`). The timeout covers the whole
 * request, the host's resolution included; the host is resolved and checked at every call (an IP literal
 * is classified once per allow-list, resolveSafeHost), and the connection pinned to the checked address.
 */
export async function postWebhook(urlText: string, headers: Record<string, string>, body: string, o: PostOptions): Promise<PostResult> {
  const { url, hostname } = targetOf(urlText);
  const deadline = performance.now() + o.timeoutMs;
  const timeout = timeoutError(o.timeoutMs);
  // The worker's stop signal is shared by all its deliveries in flight: each DNS lookup listens to it.
  if (o.signal && !unlimited.has(o.signal)) {
    setMaxListeners(0, o.signal);
    unlimited.add(o.signal);
  }
  let safe: SafeHost;
  try {
    safe = await resolveSafeHost(hostname, { signal: o.signal, timeoutMs: o.timeoutMs });
  } catch (err) {
    if (err instanceof HostNotAllowedError) throw new SendError('host_not_allowed', err.message);
    if (err instanceof InvalidHostError) throw new SendError('invalid_url', err.message);
    if (o.signal?.aborted) throw stopped();
    if ((err as NodeJS.ErrnoException).code === 'ETIMEOUT') throw timeout();
    throw new SendError('host_not_found', `${hostname} could not be resolved (${(err as Error).message}).`);
  }
  if (url.protocol === 'http:' && !safe.allowListed) throw new SendError('https_required', 'Webhooks are sent over https; http only to hosts the operator allows (MAILROOM_ALLOW_PRIVATE_HOSTS).');
  try {
    const res = await pinnedRequest(url, safe, {
      method: 'POST',
      headers: headers['content-type'] !== undefined && headers['user-agent'] !== undefined ? headers : { ...BASE_HEADERS, ...headers },
      body,
      signal: o.signal,
      timeoutMs: Math.max(0, deadline - performance.now()),
      timeoutError: timeout,
      maxBytes: o.maxResponseBytes,
      overflow: 'truncate',
      keepAlive: true,
    });
    return { status: res.status, headers: res.headers, body: res.body.toString('utf8') };
  } catch (err) {
    if (err instanceof SendError) throw err;
    if (o.signal?.aborted) throw stopped();
    throw new SendError('connection_error', `Could not deliver: ${(err as Error).message}`);
  }
}

/** The timeout's error maker per timeout (one function per setting, not one made per request). */
const timeoutErrors = new Map<number, () => SendError>();
function timeoutError(timeoutMs: number): () => SendError {
  let make = timeoutErrors.get(timeoutMs);
  if (!make) {
    make = () => new SendError('timeout', `No answer within ${timeoutMs} ms.`);
    if (timeoutErrors.size >= 100) timeoutErrors.clear();
    timeoutErrors.set(timeoutMs, make);
  }
  return make;
}

/** Signals whose listener limit is lifted. */
const unlimited = new WeakSet<AbortSignal>();

const stopped = () => new SendError('connection_error', 'The delivery was stopped (the worker is shutting down).');
