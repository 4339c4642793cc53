/**
 * The one way a webhook leaves Mailroom: a POST to the endpoint's URL, SSRF-safe. The host is resolved
 * at send time and checked by the host guard (private, loopback, link-local and metadata addresses are
 * refused unless the operator allows them with MAILROOM_ALLOW_PRIVATE_HOSTS), and the connection is
 * pinned to the checked address. Connections are kept alive, in one agent per (scheme, host, port, set of
 * checked addresses) whose lookup is pinned to those addresses: a pooled socket is only reused for a
 * request whose fresh check gave the same addresses, so no pooled socket skips the check. A request
 * that fails on a reused socket before any answer (the receiver closed it meanwhile) is sent once more on
 * a fresh socket.
 * https is required except for hosts the operator allowed. Redirects are not followed (a 3xx is an
 * answer like any other, and not a success), the whole request has a timeout, and at most
 * `maxResponseBytes` of the answer are read.
 */
import { setMaxListeners } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import { BAD_PORTS, HostNotAllowedError, InvalidHostError, pinnedLookup, resolveSafeHost, type SafeHost } from '../../platform/security/host-guard.js';

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

/** Keep-alive agents, at most this many (the least recently used is closed). */
const MAX_AGENTS = 256;
/** An idle pooled socket is closed after this long. */
const IDLE_SOCKET_MS = 30_000;
const agents = new Map<string, http.Agent>();

function agentFor(url: URL, safe: SafeHost): http.Agent {
  const key = `${url.protocol}//${safe.host}:${url.port}|${safe.addresses.map((a) => a.address).join(',')}|${safe.allowListed ? 1 : 0}`;
  let agent = agents.get(key);
  if (agent) {
    agents.delete(key);
    agents.set(key, agent);
    return agent;
  }
  const options = { keepAlive: true, timeout: IDLE_SOCKET_MS, scheduling: 'lifo' as const, lookup: pinnedLookup(safe) };
  agent = url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
  agents.set(key, agent);
  if (agents.size > MAX_AGENTS) {
    const [oldest, a] = agents.entries().next().value as [string, http.Agent];
    agents.delete(oldest);
    a.destroy();
  }
  return agent;
}

/** Closes every pooled connection (tests, shutdown). */
export function closeWebhookAgents(): void {
  for (const a of agents.values()) a.destroy();
  agents.clear();
}

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
  // The worker's stop signal is shared by all its deliveries in flight (16 at once).
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
      return await request(url, hostname, safe, headers, body, o.maxResponseBytes, controller.signal, agentFor(url, safe));
    } catch (err) {
      if (!(err instanceof StaleSocketError) || controller.signal.aborted) throw err instanceof StaleSocketError ? err.cause : err;
      return await request(url, hostname, safe, headers, body, o.maxResponseBytes, controller.signal, false);
    }
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onOuter);
  }
}

/** A reused keep-alive socket failed before any answer: nothing was processed, send again on a fresh one. */
class StaleSocketError extends Error {
  constructor(override readonly cause: SendError) {
    super(cause.message);
  }
}

function request(url: URL, hostname: string, safe: SafeHost, headers: Record<string, string>, body: string, maxBytes: number, signal: AbortSignal, agent: http.Agent | false): Promise<PostResult> {
  const mod = url.protocol === 'https:' ? https : http;
  const payload = Buffer.from(body, 'utf8');
  return new Promise<PostResult>((resolve, reject) => {
    let settled = false;
    let answered = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      const e = signal.aborted ? signal.reason : err instanceof SendError ? err : new SendError('connection_error', `Could not deliver: ${(err as Error).message}`);
      const code = (err as NodeJS.ErrnoException | undefined)?.code;
      const stale = !answered && !signal.aborted && req.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED');
      reject(stale && e instanceof SendError ? new StaleSocketError(e) : e);
    };
    const req = mod.request(
      {
        protocol: url.protocol,
        hostname,
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(payload.length), 'user-agent': 'Mailroom-Webhooks/1', ...headers },
        agent,
        lookup: pinnedLookup(safe),
        signal,
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        let total = 0;
        const done = () => {
          if (settled) return;
          settled = true;
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
        };
        res.on('data', (chunk: Buffer) => {
          if (total >= maxBytes) return;
          chunks.push(chunk.subarray(0, maxBytes - total));
          total += chunk.length;
          // The status is what counts: stop reading a large answer.
          if (total >= maxBytes) {
            done();
            res.destroy();
          }
        });
        res.on('end', done);
        res.on('close', done);
        res.on('error', (err) => (total >= maxBytes ? done() : fail(err)));
      },
    );
    req.on('error', fail);
    req.end(payload);
  });
}
