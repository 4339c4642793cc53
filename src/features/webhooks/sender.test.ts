/**
 * The webhook sender against a real HTTP server on 127.0.0.1 (allowed for the file): the whole-request
 * timeout (no answer at all, or an answer that stalls), the worker's stop signal, and kept-alive sockets
 * reused only for the same host and checked address.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { allowPrivateHosts, setAllowPrivateHosts } from '../../platform/security/host-guard.js';
import { closeWebhookAgents, postWebhook, SendError } from './sender.js';

let server: http.Server;
let base = '';
/** Client port of each request's connection, per path. */
const ports: Array<{ path: string; port: number; host: string }> = [];
const open = new Set<Socket>();
let closed = 0;
let previous: ReturnType<typeof allowPrivateHosts>;

beforeAll(async () => {
  previous = allowPrivateHosts();
  setAllowPrivateHosts(['127.0.0.1', 'localhost']);
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      ports.push({ path: req.url ?? '', port: req.socket.remotePort ?? 0, host: String(req.headers.host) });
      if (req.url === '/hang') return; // never answers
      if (req.url === '/stall') {
        // Headers and the first bytes, then nothing.
        res.writeHead(200, { 'content-length': '100' });
        res.write('partial');
        return;
      }
      res.end('ok');
    });
  });
  server.keepAliveTimeout = 10_000;
  server.on('connection', (s: Socket) => {
    open.add(s);
    s.on('close', () => {
      open.delete(s);
      closed += 1;
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(() => closeWebhookAgents());
afterAll(async () => {
  setAllowPrivateHosts(previous);
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const post = (url: string, o: { timeoutMs?: number; signal?: AbortSignal } = {}) =>
  postWebhook(url, { 'webhook-id': 'msg_1' }, '{"a":1}', { timeoutMs: o.timeoutMs ?? 5000, maxResponseBytes: 1024, signal: o.signal });

async function codeOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SendError);
    return { code: (err as SendError).code, message: (err as SendError).message };
  }
  throw new Error('expected the request to fail');
}

describe('postWebhook', () => {
  it('times out a receiver that never answers, and closes the connection', async () => {
    const closedBefore = closed;
    const t0 = performance.now();
    const r = await codeOf(post(`http://${base}/hang`, { timeoutMs: 300 }));
    const took = performance.now() - t0;
    expect(r).toEqual({ code: 'timeout', message: 'No answer within 300 ms.' });
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(3000);
    await expect.poll(() => closed - closedBefore).toBe(1);
  });

  it('the timeout covers the whole request: an answer whose body stalls fails too', async () => {
    const r = await codeOf(post(`http://${base}/stall`, { timeoutMs: 300 }));
    expect(r.code).toBe('timeout');
  });

  it('the worker stopping ends the requests in flight', async () => {
    const stop = new AbortController();
    const p = post(`http://${base}/hang`, { timeoutMs: 10_000, signal: stop.signal });
    await expect.poll(() => ports.filter((x) => x.path === '/hang').length).toBeGreaterThan(0);
    stop.abort();
    const r = await codeOf(p);
    expect(r.code).toBe('connection_error');
    expect(r.message).toMatch(/stopped/);
    // Already stopped: nothing is sent.
    const before = ports.length;
    expect((await codeOf(post(`http://${base}/ok`, { signal: stop.signal }))).code).toBe('connection_error');
    expect(ports.length).toBe(before);
  });

  it('reuses a kept-alive socket for the same host and address, never for another host on the same address', async () => {
    const port = (server.address() as AddressInfo).port;
    for (let i = 0; i < 3; i++) expect((await post(`http://127.0.0.1:${port}/same`)).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await post(`http://localhost:${port}/other`)).status).toBe(200);
    const same = ports.filter((x) => x.path === '/same');
    const other = ports.filter((x) => x.path === '/other');
    expect(new Set(same.map((x) => x.port)).size).toBe(1);
    expect(new Set(other.map((x) => x.port)).size).toBe(1);
    expect(other[0]!.port).not.toBe(same[0]!.port);
    expect(other[0]!.host).toBe(`localhost:${port}`);
  });

  it('refuses a bad URL, a bad port and a host not allowed before sending anything', async () => {
    const before = ports.length;
    expect((await codeOf(post('not a url'))).code).toBe('invalid_url');
    expect((await codeOf(post('ftp://127.0.0.1/x'))).code).toBe('invalid_url');
    expect((await codeOf(post('http://127.0.0.1:25/x'))).code).toBe('port_not_allowed');
    expect((await codeOf(post('http://10.1.2.3/x'))).code).toBe('host_not_allowed');
    // The same again (the parsed URL and the checked literal are remembered; the refusal is not lost).
    expect((await codeOf(post('http://127.0.0.1:25/x'))).code).toBe('port_not_allowed');
    expect((await codeOf(post('http://10.1.2.3/x'))).code).toBe('host_not_allowed');
    expect(ports.length).toBe(before);
  });
});
