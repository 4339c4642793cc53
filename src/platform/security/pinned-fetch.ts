/**
 * A `fetch` for one checked host: every request connects to the addresses `resolveSafeHost` checked
 * (no second DNS lookup, so a name that re-resolves to a private address between check and connect,
 * DNS rebinding, goes nowhere else), only to that host (a URL naming any other host is refused before a
 * packet is sent), never follows redirects (a 3xx is returned as it is), with a timeout and a cap on the
 * response size. For clients that take a fetch function (tsdav for CalDAV).
 */
import http from 'node:http';
import https from 'node:https';
import { normaliseHost, pinnedLookup, tlsServername, type SafeHost } from './host-guard.js';

export interface PinnedFetchOptions {
  /** Whole request, connect to last byte (default 15 s). */
  timeoutMs?: number;
  /** Largest response body accepted (default 20 MB). */
  maxBytes?: number;
}

export class PinnedFetchRefused extends TypeError {
  override readonly name = 'PinnedFetchRefused';
}

const NO_BODY_STATUS = new Set([204, 205, 304]);

export function pinnedFetch(safe: SafeHost, opts: PinnedFetchOptions = {}): typeof fetch {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const maxBytes = opts.maxBytes ?? 20 * 1024 * 1024;
  const lookup = pinnedLookup(safe);
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
    if (body) headers['content-length'] = String(body.length);
    const signal = init?.signal ? AbortSignal.any([init.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
    const mod = url.protocol === 'https:' ? https : http;
    return await new Promise<Response>((resolve, reject) => {
      const r = mod.request(
        url,
        { method: req.method, headers, lookup, servername: url.protocol === 'https:' ? tlsServername(safe) : undefined, signal, agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > maxBytes) {
              res.destroy(new PinnedFetchRefused(`The response from ${safe.host} is larger than ${maxBytes} bytes.`));
              return;
            }
            chunks.push(c);
          });
          res.on('error', reject);
          res.on('end', () => {
            const h = new Headers();
            for (const [k, v] of Object.entries(res.headers)) {
              if (v === undefined) continue;
              for (const one of Array.isArray(v) ? v : [v]) h.append(k, one);
            }
            const status = res.statusCode ?? 502;
            try {
              resolve(new Response(NO_BODY_STATUS.has(status) || req.method === 'HEAD' ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage ?? '', headers: h }));
            } catch (err) {
              reject(err); // a status a Response cannot carry (1xx)
            }
          });
        },
      );
      r.on('error', reject);
      r.end(body);
    });
  };
}
