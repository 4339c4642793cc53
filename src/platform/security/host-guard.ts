/**
 * Guarding outbound connections whose destination a user, or an email, chose.
 *
 * Every IMAP/SMTP host typed into the connect form and every remote image fetched through the
 * image proxy goes through `resolveSafeHost` first: the name is resolved once, EVERY address
 * it resolves to must be a public address (or be allowed by the operator), and the caller then
 * connects to the checked address (pinning), so a DNS answer that changes between the check
 * and the connect (DNS rebinding) cannot redirect the connection into the private network.
 *
 * Pinning, for callers:
 *   const target = await resolveSafeHost(host); // the process's allow-list (setAllowPrivateHosts)
 *   // raw sockets / imapflow / nodemailer: connect to the IP, keep the name for TLS
 *   { host: target.address, servername: tlsServername(target) }
 *   // node http/https/net: keep the name, pin the lookup
 *   { hostname: target.host, lookup: pinnedLookup(target) }
 */

import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress, LookupOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { domainToASCII } from 'node:url';
import {
  type AddressClass,
  type Cidr,
  classifyIp,
  cidrContains,
  describeAddressClass,
  parseCidr,
  parseIp,
} from './address-ranges.js';

export const ALLOW_PRIVATE_HOSTS_ENV = 'MAILROOM_ALLOW_PRIVATE_HOSTS';

// ---------------------------------------------------------------------------------------------
// Errors

/** A destination Mailroom refuses to connect to. `code` is stable; `message` is for people. */
export class HostNotAllowedError extends Error {
  readonly code = 'host_not_allowed' as const;
  override readonly name = 'HostNotAllowedError';
  constructor(
    /** The host as the caller gave it (normalised). */
    readonly host: string,
    /** The first offending address. */
    readonly address: string,
    readonly addressClass: AddressClass,
  ) {
    const what = describeAddressClass(addressClass);
    const subject = host === address ? `${host} is ${what}` : `${host} resolves to ${what} (${address})`;
    super(
      `${subject}; Mailroom refuses private, loopback and link-local destinations. ` +
        `An operator can allow it with ${ALLOW_PRIVATE_HOSTS_ENV}.`,
    );
  }
}

/** The text given as a host is not a host name or IP address at all. */
export class InvalidHostError extends Error {
  readonly code = 'invalid_host' as const;
  override readonly name = 'InvalidHostError';
  constructor(readonly host: string) {
    super(`"${host}" is not a valid host name or IP address.`);
  }
}

/** A malformed MAILROOM_ALLOW_PRIVATE_HOSTS entry. Thrown at startup by `parseAllowListText` (the app's config). */
export class AllowListError extends Error {
  readonly code = 'invalid_allow_list' as const;
  override readonly name = 'AllowListError';
  constructor(readonly entry: string) {
    super(
      `${ALLOW_PRIVATE_HOSTS_ENV}: "${entry}" is not a host name, "*.suffix", IP address or CIDR range ` +
        `(expected a comma-separated list such as "imap.corp.example,10.0.0.0/8,fd00::/8").`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Host names

const LABEL = '[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?';
const HOSTNAME_RE = new RegExp(`^${LABEL}(\\.${LABEL})*$`);

/**
 * Trim, lower-case, drop brackets and one trailing dot, IDN to ASCII; IP literals become their
 * canonical address (`0x7f.1` -> `127.0.0.1`, `[::FFFF:127.0.0.1]` -> `127.0.0.1`).
 * Returns null for text that is neither a host name nor an IP literal.
 */
export function normaliseHost(input: string): string | null {
  let s = input.trim();
  if (s.startsWith('[') && s.endsWith(']')) return parseIp(s)?.address ?? null;
  const ip = parseIp(s);
  if (ip) return ip.address;
  s = s.toLowerCase();
  if (s.endsWith('.')) s = s.slice(0, -1);
  // domainToASCII silently cuts at "/" and similar; refuse such text before converting.
  if (/[\x00-\x2c/:;<=>?@[\\\]^`{|}~\x7f]/.test(s)) return null;
  const ascii = domainToASCII(s);
  if (!ascii || ascii.length > 253 || !HOSTNAME_RE.test(ascii)) return null;
  // A name that turned into an IP literal after IDN mapping (full-width digits...).
  const mapped = parseIp(ascii);
  return mapped ? mapped.address : ascii;
}

function isLocalhostName(host: string): boolean {
  // RFC 6761: localhost and *.localhost always mean the local host, whatever DNS says.
  return host === 'localhost' || host.endsWith('.localhost');
}

// ---------------------------------------------------------------------------------------------
// Allow-list

export interface AllowList {
  /** Exact host names (normalised). */
  readonly hosts: ReadonlySet<string>;
  /** From `*.corp.example` entries: ".corp.example", matching any subdomain. */
  readonly suffixes: readonly string[];
  /** IP and CIDR entries (a single IP is a /32 or /128). */
  readonly cidrs: readonly Cidr[];
  /** Single-IP entries, canonical. Only these can allow a cloud metadata address. */
  readonly addresses: ReadonlySet<string>;
}

export const EMPTY_ALLOW_LIST: AllowList = Object.freeze({
  hosts: new Set<string>(),
  suffixes: [],
  cidrs: [],
  addresses: new Set<string>(),
});

/** Builds an allow-list from entries: host names, `*.suffix`, IPs, CIDRs. Throws AllowListError. */
export function parseAllowList(entries: Iterable<string>): AllowList {
  const hosts = new Set<string>();
  const suffixes: string[] = [];
  const cidrs: Cidr[] = [];
  const addresses = new Set<string>();
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === '') continue;
    if (entry.includes('/')) {
      const c = parseCidr(entry);
      if (!c) throw new AllowListError(entry);
      cidrs.push(c);
      continue;
    }
    const ip = parseIp(entry);
    if (ip) {
      const c = parseCidr(ip.address);
      if (!c) throw new AllowListError(entry);
      cidrs.push(c);
      addresses.add(ip.address);
      continue;
    }
    if (entry.startsWith('*.')) {
      const base = normaliseHost(entry.slice(2));
      if (!base || parseIp(base)) throw new AllowListError(entry);
      suffixes.push(`.${base}`);
      continue;
    }
    const host = normaliseHost(entry);
    if (!host) throw new AllowListError(entry);
    hosts.add(host);
  }
  return { hosts, suffixes, cidrs, addresses };
}

/**
 * Parses the text of MAILROOM_ALLOW_PRIVATE_HOSTS (comma- or whitespace-separated host names,
 * `*.suffix`, IPs and CIDRs). Blank means nothing private is allowed. Throws AllowListError on a
 * malformed entry, so a typo fails at startup instead of silently allowing nothing.
 */
export function parseAllowListText(value: string): AllowList {
  if (!value.trim()) return EMPTY_ALLOW_LIST;
  return parseAllowList(value.split(/[\s,]+/));
}

let processAllowList: AllowList = EMPTY_ALLOW_LIST;

/**
 * The operator's allow-list for this process (MAILROOM_ALLOW_PRIVATE_HOSTS, parsed by the app's
 * config and set once at startup by each entry point): used wherever a caller gives no list of its
 * own. Until it is set nothing private is allowed.
 */
export function setAllowPrivateHosts(list: readonly string[] | AllowList): void {
  processAllowList = Array.isArray(list) ? parseAllowList(list) : (list as AllowList);
}

export function allowPrivateHosts(): AllowList {
  return processAllowList;
}

export function isHostAllowListed(list: AllowList, host: string): boolean {
  const h = normaliseHost(host);
  if (!h) return false;
  if (list.hosts.has(h)) return true;
  return list.suffixes.some((s) => h.endsWith(s));
}

export function isAddressAllowListed(list: AllowList, address: string): boolean {
  const ip = parseIp(address);
  if (!ip) return false;
  return list.cidrs.some((c) => cidrContains(c, ip));
}

function toAllowList(allowHosts: readonly string[] | AllowList | undefined): AllowList {
  if (allowHosts === undefined) return processAllowList;
  if (Array.isArray(allowHosts)) return parseAllowList(allowHosts);
  return allowHosts as AllowList;
}

// ---------------------------------------------------------------------------------------------
// Resolution

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to all its addresses. Injectable for tests; default is dns.lookup. */
export type LookupAll = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemLookup: LookupAll = async (hostname) => {
  const found = await dnsLookup(hostname, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

export interface ResolveSafeHostOptions {
  /**
   * Operator allow-list: entries (host names, `*.suffix`, IPs, CIDRs) or a list from
   * `parseAllowList`. When omitted, the process's list (setAllowPrivateHosts) is used.
   * Pass `[]` to allow nothing.
   */
  allowHosts?: readonly string[] | AllowList;
  lookup?: LookupAll;
  signal?: AbortSignal;
  /** The DNS lookup fails with code ETIMEOUT past this long (IP literals and localhost need none). */
  timeoutMs?: number;
}

export interface SafeHost {
  /** The normalised host name (or canonical IP when an IP was given). Use it for TLS SNI and Host. */
  host: string;
  /** The checked address to connect to. */
  address: string;
  family: 4 | 6;
  /** Every checked address, in resolver order (the first is `address`). */
  addresses: ResolvedAddress[];
  /** True when a non-public address was let through by the operator's allow-list. */
  allowListed: boolean;
}

function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined, timeoutMs: number | undefined, what: string): Promise<T> {
  if (!signal && timeoutMs === undefined) return p;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = timeoutMs === undefined ? null : setTimeout(() => reject(Object.assign(new Error(`${what} took longer than ${timeoutMs} ms`), { code: 'ETIMEOUT' })), timeoutMs);
    const end = () => {
      signal?.removeEventListener('abort', onAbort);
      if (timer) clearTimeout(timer);
    };
    p.then(
      (v) => {
        end();
        resolve(v);
      },
      (e) => {
        end();
        reject(e);
      },
    );
  });
}

/**
 * Resolves `host` and checks every address it resolves to. Refuses (HostNotAllowedError) when
 * any address is not public, unless the host name or that address is allow-listed. Cloud
 * metadata addresses are only let through by an allow-list entry naming that exact IP.
 * DNS failures (ENOTFOUND, ...) propagate as they are.
 */
export async function resolveSafeHost(host: string, opts: ResolveSafeHostOptions = {}): Promise<SafeHost> {
  const list = toAllowList(opts.allowHosts);
  const known = checkedWithoutDns.get(list)?.get(host);
  if (known) return known;
  const name = normaliseHost(host);
  if (!name) throw new InvalidHostError(host);
  const literal = parseIp(name);

  let found: ResolvedAddress[];
  if (literal) {
    found = [{ address: literal.address, family: literal.family }];
  } else if (isLocalhostName(name)) {
    found = [
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
    ];
  } else {
    found = await abortable((opts.lookup ?? systemLookup)(name), opts.signal, opts.timeoutMs, `Resolving ${name}`);
  }

  // Canonicalise what the resolver said (a mapped ::ffff:a.b.c.d answer is an IPv4 destination).
  const addresses: ResolvedAddress[] = [];
  for (const a of found) {
    const ip = parseIp(a.address);
    if (!ip) throw new HostNotAllowedError(name, a.address, 'invalid');
    if (!addresses.some((x) => x.address === ip.address)) addresses.push({ address: ip.address, family: ip.family });
  }
  if (addresses.length === 0) {
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND', hostname: name });
  }

  const hostListed = !literal && isHostAllowListed(list, name);
  let allowListed = false;
  for (const a of addresses) {
    const cls = classifyIp(a.address);
    if (cls === 'public') continue;
    const ok =
      cls === 'metadata' ? list.addresses.has(a.address) : hostListed || isAddressAllowListed(list, a.address);
    if (!ok) throw new HostNotAllowedError(name, a.address, cls);
    allowListed = true;
  }
  const first = addresses[0]!;
  const safe: SafeHost = { host: name, address: first.address, family: first.family, addresses, allowListed };
  if (literal || isLocalhostName(name)) rememberWithoutDns(list, host, safe);
  return safe;
}

/**
 * Checked IP literals and localhost names, per allow-list: their answer depends on the text and the list
 * only (no resolver is asked), so a webhook to an IP address is not classified afresh at every request.
 * Host names that need DNS are resolved and checked every time. Shared answers are frozen.
 */
const checkedWithoutDns = new WeakMap<AllowList, Map<string, SafeHost>>();
const MAX_CHECKED_WITHOUT_DNS = 1000;

function rememberWithoutDns(list: AllowList, host: string, safe: SafeHost): void {
  let m = checkedWithoutDns.get(list);
  if (!m) {
    m = new Map();
    checkedWithoutDns.set(list, m);
  }
  if (m.size >= MAX_CHECKED_WITHOUT_DNS) m.clear();
  for (const a of safe.addresses) Object.freeze(a);
  Object.freeze(safe.addresses);
  m.set(host, Object.freeze(safe));
}

/** The name to send as TLS SNI and verify the certificate against; undefined for an IP. */
export function tlsServername(safe: SafeHost): string | undefined {
  return parseIp(safe.host) ? undefined : safe.host;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` function for net/http/https/tls options that answers only with the addresses
 * `resolveSafeHost` checked, so the connection cannot go anywhere else. Asked about any other
 * host name, it fails. Handles `all: true` (used by Node's happy-eyeballs autoSelectFamily).
 */
export function pinnedLookup(safe: SafeHost) {
  return (hostname: string, options: LookupOptions | number | LookupCallback, callback?: LookupCallback): void => {
    let opts: LookupOptions = {};
    let cb: LookupCallback;
    if (typeof options === 'function') cb = options;
    else {
      cb = callback!;
      opts = typeof options === 'number' ? { family: options } : options ?? {};
    }
    const asked = normaliseHost(hostname);
    if (asked !== safe.host) {
      const err: NodeJS.ErrnoException = new Error(
        `pinned lookup for ${safe.host} was asked to resolve ${hostname}`,
      );
      err.code = 'ENOTFOUND';
      process.nextTick(() => cb(err, ''));
      return;
    }
    const family = opts.family === 'IPv4' ? 4 : opts.family === 'IPv6' ? 6 : opts.family;
    const matching = family === 4 || family === 6 ? safe.addresses.filter((a) => a.family === family) : safe.addresses;
    if (matching.length === 0) {
      const err: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
      err.code = 'ENOTFOUND';
      process.nextTick(() => cb(err, ''));
      return;
    }
    if (opts.all) process.nextTick(() => cb(null, matching.map((a) => ({ address: a.address, family: a.family }))));
    else process.nextTick(() => cb(null, matching[0]!.address, matching[0]!.family));
  };
}

// ---------------------------------------------------------------------------------------------
// safeFetch: the image proxy's only way out

export type SafeFetchErrorCode =
  | 'invalid_url'
  | 'scheme_not_allowed'
  | 'port_not_allowed'
  | 'too_many_redirects'
  | 'too_large'
  | 'content_type_not_allowed'
  | 'upstream_status'
  | 'timeout'
  | 'network_error';

export class SafeFetchError extends Error {
  override readonly name = 'SafeFetchError';
  constructor(
    readonly code: SafeFetchErrorCode,
    message: string,
    readonly url: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Ports browsers refuse to fetch from (WHATWG Fetch "bad port"): mail, shell, DNS... An image
 * URL pointing at one is an attempt to talk some other protocol, e.g. SMTP on port 25.
 */
export const BAD_PORTS: ReadonlySet<number> = new Set([
  0, 1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109,
  110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530,
  531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190,
  5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/**
 * Raster image types the proxy may pass on. SVG is excluded: it is a document that can carry
 * script, and the proxy serves from Mailroom's own origin.
 */
export function isSafeImageContentType(contentType: string): boolean {
  const t = contentType.split(';')[0]!.trim().toLowerCase();
  return /^image\/[a-z0-9.+-]+$/.test(t) && t !== 'image/svg+xml' && !t.includes('xml');
}

/**
 * Headers the image proxy route sends with every answer (defence in depth). CORP is cross-origin
 * because the email frame is sandboxed (an opaque origin): to the browser its image loads are
 * cross-origin, and same-origin here would block every image (seen in Chromium).
 */
export const IMAGE_PROXY_RESPONSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': "default-src 'none'; sandbox",
  'x-content-type-options': 'nosniff',
  'content-disposition': 'inline',
  'cross-origin-resource-policy': 'cross-origin',
  'referrer-policy': 'no-referrer',
});

export interface SafeFetchOptions {
  /** As for resolveSafeHost; omitted means the process's list (setAllowPrivateHosts). */
  allowHosts?: readonly string[] | AllowList;
  /** Default 5 MiB. */
  maxBytes?: number;
  /** Whole request including DNS, redirects and body. Default 10 s. */
  timeoutMs?: number;
  /** Default 3. */
  maxRedirects?: number;
  /** Default `isSafeImageContentType`. */
  acceptContentType?: (contentType: string) => boolean;
  /** Extra request headers (no cookies or credentials are ever sent unless given here). */
  headers?: Record<string, string>;
  lookup?: LookupAll;
  signal?: AbortSignal;
}

export interface SafeFetchResult {
  /** The final URL after redirects. */
  url: string;
  status: number;
  contentType: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** URLs redirected through, in order (not including the first). */
  redirects: string[];
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

function checkUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SafeFetchError('invalid_url', `Not a valid URL: ${text.slice(0, 200)}`, text);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SafeFetchError('scheme_not_allowed', `Only http and https URLs can be fetched (got ${url.protocol})`, text);
  }
  if (url.username || url.password) {
    throw new SafeFetchError('invalid_url', 'URLs with credentials are not fetched', url.origin);
  }
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  if (BAD_PORTS.has(port)) {
    throw new SafeFetchError('port_not_allowed', `Port ${port} is not allowed`, url.href);
  }
  return url;
}

/**
 * Fetches a URL for the image proxy: http/https only, every hop resolved and checked with
 * resolveSafeHost and the connection pinned to the checked address, at most `maxRedirects`
 * redirects (each re-checked), body capped at `maxBytes`, content type checked, one overall
 * timeout. Throws HostNotAllowedError, InvalidHostError, SafeFetchError, or a DNS error.
 */
export async function safeFetch(urlText: string, opts: SafeFetchOptions = {}): Promise<SafeFetchResult> {
  const maxBytes = opts.maxBytes ?? 5 * 1024 * 1024;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const maxRedirects = opts.maxRedirects ?? 3;
  const accept = opts.acceptContentType ?? isSafeImageContentType;
  const allowHosts = toAllowList(opts.allowHosts);

  const controller = new AbortController();
  const timeoutError = new SafeFetchError('timeout', `Fetching took longer than ${timeoutMs} ms`, urlText);
  const timer = setTimeout(() => controller.abort(timeoutError), timeoutMs);
  const onOuterAbort = () => controller.abort(opts.signal!.reason);
  if (opts.signal) {
    if (opts.signal.aborted) controller.abort(opts.signal.reason);
    else opts.signal.addEventListener('abort', onOuterAbort, { once: true });
  }
  const signal = controller.signal;

  try {
    let url = checkUrl(urlText);
    const redirects: string[] = [];
    for (;;) {
      const safe = await resolveSafeHost(url.hostname, { allowHosts, lookup: opts.lookup, signal });
      const response = await request(url, safe, opts.headers ?? {}, signal);
      const status = response.statusCode ?? 0;

      if (REDIRECT_STATUSES.has(status)) {
        response.resume();
        const location = response.headers.location;
        if (!location) throw new SafeFetchError('upstream_status', `Redirect ${status} without a Location`, url.href, status);
        if (redirects.length >= maxRedirects) {
          throw new SafeFetchError('too_many_redirects', `More than ${maxRedirects} redirects`, url.href, status);
        }
        let next: string;
        try {
          next = new URL(location, url).href;
        } catch {
          throw new SafeFetchError('invalid_url', `Redirect to an invalid URL`, url.href, status);
        }
        url = checkUrl(next);
        redirects.push(url.href);
        continue;
      }

      if (status < 200 || status > 299) {
        response.resume();
        throw new SafeFetchError('upstream_status', `The server answered ${status}`, url.href, status);
      }
      const contentType = String(response.headers['content-type'] ?? '');
      if (!accept(contentType)) {
        response.destroy();
        throw new SafeFetchError(
          'content_type_not_allowed',
          `Content type "${contentType.slice(0, 100)}" is not allowed`,
          url.href,
          status,
        );
      }
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) {
        response.destroy();
        throw new SafeFetchError('too_large', `The response is larger than ${maxBytes} bytes`, url.href, status);
      }
      const body = await readCapped(response, maxBytes, url.href, signal);
      return { url: url.href, status, contentType, headers: response.headers, body, redirects };
    }
  } catch (err) {
    if (signal.aborted && signal.reason === timeoutError) {
      throw timeoutError;
    }
    throw err;
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onOuterAbort);
  }
}

function request(
  url: URL,
  safe: SafeHost,
  extraHeaders: Record<string, string>,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  const isHttps = url.protocol === 'https:';
  const mod = isHttps ? https : http;
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      {
        protocol: url.protocol,
        hostname,
        port: url.port || (isHttps ? 443 : 80),
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        headers: {
          'user-agent': 'Mailroom-ImageProxy/1',
          accept: 'image/avif,image/webp,image/png,image/*;q=0.8',
          'accept-encoding': 'identity',
          ...extraHeaders,
        },
        // A fresh connection per request: a pooled socket would skip the pinned lookup.
        agent: false,
        lookup: pinnedLookup(safe),
        signal,
      },
      resolve,
    );
    req.on('error', (err) => {
      if (signal.aborted) reject(signal.reason);
      else reject(new SafeFetchError('network_error', `Could not fetch: ${err.message}`, url.href, undefined, { cause: err }));
    });
    req.end();
  });
}

function readCapped(response: IncomingMessage, maxBytes: number, url: string, signal: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    response.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) {
        response.destroy();
        reject(new SafeFetchError('too_large', `The response is larger than ${maxBytes} bytes`, url, response.statusCode));
        return;
      }
      chunks.push(chunk);
    });
    response.on('end', () => resolve(Buffer.concat(chunks)));
    response.on('error', (err) => {
      if (signal.aborted) reject(signal.reason);
      else reject(new SafeFetchError('network_error', `Could not read the response: ${err.message}`, url, undefined, { cause: err }));
    });
    response.on('close', () => {
      if (!response.complete) {
        if (signal.aborted) reject(signal.reason);
        else reject(new SafeFetchError('network_error', 'The response was cut short', url));
      }
    });
  });
}
