/**
 * HTTP to one checked host, the one way Mailroom's outbound HTTP to user-given URLs is made (webhooks,
 * CalDAV). Every request connects to the addresses `resolveSafeHost` checked (no second DNS lookup, so
 * a name that re-resolves to a private address between check and connect, DNS rebinding, goes nowhere
 * else), never follows redirects (a 3xx is returned as it is), has a deadline (`timeoutMs`, or the caller's signal) and a
 * cap on the response size (refused, or truncated for callers that only need the first bytes).
 *
 * `keepAlive: true` pools connections in one agent per (scheme, host, port, set of checked addresses)
 * whose lookup is pinned to those addresses: a pooled socket is only reused for a request whose fresh
 * check gave the same addresses, so no pooled socket skips the check. A request that fails on a reused
 * socket before any answer (the server closed it meanwhile) is sent once more on a fresh socket.
 *
 * `pinnedRequest` is the primitive; `pinnedFetch` wraps it as a `fetch` limited to that one host (a URL
 * naming any other host is refused before a packet is sent), for clients that take a fetch (tsdav).
 */
import http from 'node:http';
import https from 'node:https';
import { normaliseHost, pinnedLookup, tlsServername, type SafeHost } from './host-guard.js';

export interface PinnedRequestOptions {
  method: string;
  headers: Record<string, string>;
  /**
   * A string is sent as UTF-8, and written with the request's head in one piece (Node joins a string
   * body to the head; a Buffer goes as a second chunk, a vectored write per request).
   */
  body?: Buffer | string;
  /** Cancellation (the request fails with the signal's reason). */
  signal?: AbortSignal;
  /**
   * The deadline of the whole request, connect to last byte (including a resend on a fresh socket): past
   * it the request is destroyed and fails with `timeoutError()`. One timer per request, where an
   * `AbortSignal.timeout` would cost an AbortController, a signal and their listeners (webhooks send
   * thousands a second).
   */
  timeoutMs?: number;
  timeoutError?: () => Error;
  /** Largest response body read. */
  maxBytes: number;
  /** Past `maxBytes`: 'refuse' fails the request, 'truncate' returns the first `maxBytes` (and stops reading). */
  overflow: 'refuse' | 'truncate';
  /** Reuse pooled connections (pinned like every other). */
  keepAlive: boolean;
}

export interface PinnedResponse {
  status: number;
  statusMessage: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer<ArrayBuffer>;
  /** The body was cut at `maxBytes` (overflow 'truncate'). */
  truncated: boolean;
}

export class PinnedFetchRefused extends TypeError {
  override readonly name = 'PinnedFetchRefused';
}

/** Keep-alive agents, at most this many (the least recently used is closed). */
const MAX_AGENTS = 256;
/** An idle pooled socket is closed after this long. */
const IDLE_SOCKET_MS = 30_000;
const agents = new Map<string, http.Agent>();

/**
 * The pool key of a URL and checked host, made once per pair (a webhook sender passes the same parsed URL
 * and, for an IP literal, the same SafeHost at every request: ~2,000 keys a second otherwise).
 */
const agentKeys = new WeakMap<SafeHost, WeakMap<URL, string>>();
function agentKey(url: URL, safe: SafeHost): string {
  let byUrl = agentKeys.get(safe);
  if (!byUrl) {
    byUrl = new WeakMap();
    agentKeys.set(safe, byUrl);
  }
  let key = byUrl.get(url);
  if (key === undefined) {
    key = `${url.protocol}//${safe.host}:${url.port}|${safe.addresses.map((a) => a.address).join(',')}|${safe.allowListed ? 1 : 0}`;
    byUrl.set(url, key);
  }
  return key;
}

/** The key used last: already the most recently used agent (no need to move it to the end again). */
let newestKey: string | null = null;

function agentFor(url: URL, safe: SafeHost): http.Agent {
  const key = agentKey(url, safe);
  let agent = agents.get(key);
  if (agent) {
    if (key !== newestKey) {
      agents.delete(key);
      agents.set(key, agent);
      newestKey = key;
    }
    return agent;
  }
  newestKey = key;
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
export function closePinnedAgents(): void {
  for (const a of agents.values()) a.destroy();
  agents.clear();
  newestKey = null;
}

/** A reused keep-alive socket failed before any answer: nothing was processed, send again on a fresh one. */
class StaleSocketError extends Error {
  constructor(override readonly cause: unknown) {
    super((cause as Error).message);
  }
}

/**
 * The requests in flight of each caller's signal (a webhook worker's stop signal is shared by hundreds):
 * one abort listener per signal, not one per request.
 */
const watched = new WeakMap<AbortSignal, Set<Cancel>>();

function watchSignal(signal: AbortSignal, c: Cancel): Set<Cancel> {
  let set = watched.get(signal);
  if (!set) {
    const cancels = new Set<Cancel>();
    set = cancels;
    watched.set(signal, cancels);
    signal.addEventListener(
      'abort',
      () => {
        for (const one of [...cancels]) one.cancel(signal.reason);
        cancels.clear();
      },
      { once: true },
    );
  }
  set.add(c);
  return set;
}

/**
 * The end of a request before its answer: the signal aborted or the deadline passed. The request in
 * flight (the first try, then the resend) is destroyed with the reason.
 */
class Cancel {
  reason: unknown = undefined;
  cancelled = false;
  private timer: NodeJS.Timeout | null = null;
  private current: ((reason: unknown) => void) | null = null;
  private readonly watchers: Set<Cancel> | null = null;
  constructor(signal: AbortSignal | undefined, timeoutMs: number | undefined, timeoutError: (() => Error) | undefined) {
    if (signal?.aborted) this.cancel(signal.reason);
    else if (signal) this.watchers = watchSignal(signal, this);
    if (timeoutMs !== undefined && !this.cancelled) this.timer = setTimeout(() => this.cancel(timeoutError ? timeoutError() : new Error(`No answer within ${timeoutMs} ms.`)), timeoutMs);
  }
  cancel(reason: unknown): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.reason = reason;
    this.current?.(reason);
  }
  /** `stop` ends the request in flight (null: none). */
  watch(stop: ((reason: unknown) => void) | null): void {
    this.current = stop;
  }
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.watchers?.delete(this);
  }
}

/**
 * One request to `url`, connected to `safe`'s checked addresses only. The caller has checked that `url`
 * names `safe.host`. Rejects with the signal's reason when it aborts, with `timeoutError()` past the
 * deadline, with the network error otherwise.
 */
export async function pinnedRequest(url: URL, safe: SafeHost, o: PinnedRequestOptions): Promise<PinnedResponse> {
  const cancel = new Cancel(o.signal, o.timeoutMs, o.timeoutError);
  try {
    if (cancel.cancelled) throw cancel.reason;
    if (!o.keepAlive) return await once(url, safe, o, false, cancel);
    try {
      return await once(url, safe, o, agentFor(url, safe), cancel);
    } catch (err) {
      if (!(err instanceof StaleSocketError)) throw err;
      if (cancel.cancelled) throw cancel.reason;
      return await once(url, safe, o, false, cancel).catch((e: unknown) => {
        throw e instanceof StaleSocketError ? e.cause : e;
      });
    }
  } finally {
    cancel.dispose();
  }
}

/** The pinned lookup of a checked host, made once per SafeHost (resolveSafeHost shares those of IP literals). */
const lookups = new WeakMap<SafeHost, ReturnType<typeof pinnedLookup>>();
function lookupOf(safe: SafeHost): ReturnType<typeof pinnedLookup> {
  let l = lookups.get(safe);
  if (!l) {
    l = pinnedLookup(safe);
    lookups.set(safe, l);
  }
  return l;
}

function once(url: URL, safe: SafeHost, o: PinnedRequestOptions, agent: http.Agent | false, cancel: Cancel): Promise<PinnedResponse> {
  const mod = url.protocol === 'https:' ? https : http;
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const headers = o.body !== undefined ? { ...o.headers, 'content-length': String(typeof o.body === 'string' ? Buffer.byteLength(o.body) : o.body.length) } : o.headers;
  return new Promise<PinnedResponse>((resolve, reject) => {
    let settled = false;
    let answered = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      cancel.watch(null);
      if (cancel.cancelled) return reject(cancel.reason);
      const code = (err as NodeJS.ErrnoException | undefined)?.code;
      const stale = agent !== false && !answered && req.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED');
      reject(stale ? new StaleSocketError(err) : err);
    };
    const req = mod.request(
      {
        protocol: url.protocol,
        hostname,
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: o.method,
        headers,
        agent,
        lookup: lookupOf(safe),
        servername: url.protocol === 'https:' ? tlsServername(safe) : undefined,
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        let total = 0;
        let truncated = false;
        const done = () => {
          if (settled) return;
          settled = true;
          cancel.watch(null);
          resolve({ status: res.statusCode ?? 0, statusMessage: res.statusMessage ?? '', headers: res.headers, body: Buffer.concat(chunks), truncated });
        };
        res.on('data', (chunk: Buffer) => {
          if (truncated) return;
          if (total + chunk.length > o.maxBytes) {
            if (o.overflow === 'refuse') {
              res.destroy(new PinnedFetchRefused(`The response from ${safe.host} is larger than ${o.maxBytes} bytes.`));
              return;
            }
            chunks.push(chunk.subarray(0, o.maxBytes - total));
            total = o.maxBytes;
            truncated = true;
            // The status is what counts: stop reading a large answer.
            done();
            res.destroy();
            return;
          }
          chunks.push(chunk);
          total += chunk.length;
        });
        res.on('end', done);
        res.on('error', fail);
        res.on('close', () => (res.complete || o.overflow === 'truncate' ? done() : fail(new Error(`${safe.host} closed the connection before the end of the response.`))));
      },
    );
    req.on('error', fail);
    cancel.watch((reason) => {
      fail(reason);
      req.destroy(reason instanceof Error ? reason : undefined);
    });
    req.end(o.body);
  });
}

export interface PinnedFetchOptions {
  /** Whole request, connect to last byte (default 15 s). */
  timeoutMs?: number;
  /** Largest response body accepted (default 20 MB). */
  maxBytes?: number;
  /** Reuse pooled connections (default false). */
  keepAlive?: boolean;
}

const NO_BODY_STATUS = new Set([204, 205, 304]);

export function pinnedFetch(safe: SafeHost, opts: PinnedFetchOptions = {}): typeof fetch {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const maxBytes = opts.maxBytes ?? 20 * 1024 * 1024;
  return async (input, init) => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new PinnedFetchRefused(`Only http(s) is allowed, not ${url.protocol}`);
    if (normaliseHost(url.hostname.replace(/^\[|\]$/g, '')) !== safe.host) {
      throw new PinnedFetchRefused(`This client may only reach ${safe.host}, not ${url.hostname}.`);
    }
    const body = req.body ? Buffer.from(await req.arrayBuffer()) : undefined;
    const headers: Record<string, string> = {};
    req.headers.forEach((value, key) => {
      headers[key] = value;
    });
    const signal = init?.signal ? AbortSignal.any([init.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
    const res = await pinnedRequest(url, safe, { method: req.method, headers, body, signal, maxBytes, overflow: 'refuse', keepAlive: opts.keepAlive ?? false });
    const h = new Headers();
    for (const [k, v] of Object.entries(res.headers)) {
      if (v === undefined) continue;
      for (const one of Array.isArray(v) ? v : [v]) h.append(k, one);
    }
    // A status a Response cannot carry (1xx) throws here.
    return new Response(NO_BODY_STATUS.has(res.status) || req.method === 'HEAD' ? null : res.body, { status: res.status, statusText: res.statusMessage, headers: h });
  };
}
