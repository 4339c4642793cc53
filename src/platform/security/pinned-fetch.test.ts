import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveSafeHost } from './host-guard.js';
import { closePinnedAgents, PinnedFetchRefused, pinnedFetch, pinnedRequest } from './pinned-fetch.js';

// A real HTTP server on loopback; names are resolved by an injected lookup so that the test proves the
// connection goes to the CHECKED address, not to whatever the system resolver would answer later.
let server: http.Server;
let port = 0;
const seen: string[] = [];
/** The client port of each request's connection (the same port twice: a reused connection). */
const sockets: number[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      seen.push(`${req.method} ${req.headers.host} ${req.url} ${req.headers.depth ?? ''} ${body}`);
      sockets.push(req.socket.remotePort ?? 0);
      if (req.url === '/redirect') {
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
        res.end();
      } else if (req.url === '/big') {
        res.writeHead(200);
        res.end(Buffer.alloc(4096, 'x'));
      } else {
        res.writeHead(207, { 'content-type': 'application/xml', 'set-cookie': ['a=1', 'b=2'] });
        res.end('<multistatus/>');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const checked = () => resolveSafeHost('cal.example.test', { allowHosts: ['cal.example.test'], lookup: async () => [{ address: '127.0.0.1', family: 4 }] });

describe('pinnedFetch', () => {
  it('connects to the checked address of the one host (a name the system resolver does not know), method, headers and body as given', async () => {
    const f = pinnedFetch(await checked());
    const res = await f(`http://cal.example.test:${port}/dav/`, { method: 'PROPFIND', headers: { Depth: '1' }, body: '<propfind/>' });
    expect(res.status).toBe(207);
    expect(await res.text()).toBe('<multistatus/>');
    expect(res.headers.get('content-type')).toBe('application/xml');
    expect(seen.at(-1)).toBe(`PROPFIND cal.example.test:${port} /dav/ 1 <propfind/>`);
  });

  it('refuses any other host before a packet is sent, even one on the same address', async () => {
    const f = pinnedFetch(await checked());
    const before = seen.length;
    await expect(f(`http://127.0.0.1:${port}/`)).rejects.toBeInstanceOf(PinnedFetchRefused);
    await expect(f(`http://localhost:${port}/`)).rejects.toBeInstanceOf(PinnedFetchRefused);
    await expect(f('file:///etc/passwd')).rejects.toThrow();
    expect(seen.length).toBe(before);
  });

  it('returns a redirect as it is (never follows it) and caps the response size', async () => {
    const f = pinnedFetch(await checked(), { maxBytes: 1000 });
    const res = await f(`http://cal.example.test:${port}/redirect`);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toContain('169.254.169.254');
    await expect(f(`http://cal.example.test:${port}/big`)).rejects.toThrow(/larger than 1000 bytes/);
  });

  it('keeps connections alive when asked (one socket for several requests), a fresh socket each time otherwise', async () => {
    const safe = await checked();
    const kept = pinnedFetch(safe, { keepAlive: true });
    const from = sockets.length;
    for (let i = 0; i < 3; i++) expect((await kept(`http://cal.example.test:${port}/k`)).status).toBe(207);
    expect(new Set(sockets.slice(from)).size).toBe(1);
    const fresh = pinnedFetch(safe);
    const from2 = sockets.length;
    for (let i = 0; i < 3; i++) expect((await fresh(`http://cal.example.test:${port}/f`)).status).toBe(207);
    expect(new Set(sockets.slice(from2)).size).toBe(3);
    closePinnedAgents();
  });
});

describe('pinnedRequest', () => {
  it('truncates a large answer when asked (the status is what counts)', async () => {
    const url = new URL(`http://cal.example.test:${port}/big`);
    const res = await pinnedRequest(url, await checked(), { method: 'POST', headers: {}, body: Buffer.from('{}'), signal: AbortSignal.timeout(5000), maxBytes: 100, overflow: 'truncate', keepAlive: true });
    expect(res.status).toBe(200);
    expect(res.truncated).toBe(true);
    expect(res.body.toString()).toBe('x'.repeat(100));
    closePinnedAgents();
  });
});
