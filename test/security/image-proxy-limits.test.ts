/**
 * The image proxy cannot be turned into a bandwidth or memory sink: images per reader per minute
 * (MAILROOM_IMAGE_PROXY_RATE_MAX, 429 rate_limited) and fetches in flight per process
 * (IMAGE_PROXY_MAX_IN_FLIGHT, 503 image_proxy_busy) are capped, and a slot is given back however a
 * fetch ends. A real local image server is allowed for this file (MAILROOM_IMAGE_PROXY_ALLOW_HOSTS).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { IMAGE_PROXY_MAX_IN_FLIGHT } from '../../src/platform/http/image-proxy-routes.js';

const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
const RATE = 100;

let t: TestApp;
let server: http.Server;
let base: string;
const held: http.ServerResponse[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/hold') return void held.push(res.writeHead(200, { 'content-type': 'image/gif' }));
    res.writeHead(200, { 'content-type': 'image/gif' }).end(GIF);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t = await createTestApp({ configEnv: { MAILROOM_IMAGE_PROXY_RATE_MAX: String(RATE), MAILROOM_IMAGE_PROXY_ALLOW_HOSTS: '127.0.0.1' } });
});
afterAll(async () => {
  await t?.close();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
});

const proxy = (token: string, url: string) =>
  t.app.inject({ method: 'GET', url: `/api/v1/image-proxy?url=${encodeURIComponent(url)}`, headers: { authorization: `Bearer ${token}` } });

describe('image proxy limits', () => {
  it(`allows ${RATE} images a minute per reader, then 429 (other readers unaffected)`, async () => {
    const a = await t.account();
    const b = await t.account();
    // Refused requests count too: the limit is on asking, not on succeeding. The bucket refills
    // continuously (RATE a minute), so the first refusal comes after RATE plus what refilled meanwhile.
    const started = Date.now();
    let allowed = 0;
    let over: Awaited<ReturnType<typeof proxy>> | null = null;
    for (let i = 0; i < RATE * 2; i++) {
      const r = await proxy(a.token, i % 2 ? `${base}/x${i}.gif` : 'file:///etc/passwd');
      if (r.statusCode === 429) {
        over = r;
        break;
      }
      allowed += 1;
    }
    const refilled = Math.ceil(((Date.now() - started) * RATE) / 60_000);
    expect(allowed).toBeGreaterThanOrEqual(RATE);
    expect(allowed).toBeLessThanOrEqual(RATE + refilled);
    expect(over!.json().error.code).toBe('rate_limited');
    expect(Number(over!.headers['retry-after'])).toBeGreaterThan(0);
    expect((await proxy(b.token, `${base}/x.gif`)).statusCode).toBe(200);
  });

  it(`holds at most ${IMAGE_PROXY_MAX_IN_FLIGHT} fetches at once, and frees the slots when they end`, async () => {
    const readers = [await t.account(), await t.account()];
    const pending = Array.from({ length: IMAGE_PROXY_MAX_IN_FLIGHT }, (_, i) => proxy(readers[i % 2]!.token, `${base}/hold`));
    await expect.poll(() => held.length, { timeout: 10_000 }).toBe(IMAGE_PROXY_MAX_IN_FLIGHT);
    const busy = await proxy(readers[0]!.token, `${base}/x.gif`);
    expect(busy.statusCode).toBe(503);
    expect(busy.json().error.code).toBe('image_proxy_busy');
    for (const res of held.splice(0)) res.end(GIF);
    const done = await Promise.all(pending);
    expect(done.every((r) => r.statusCode === 200)).toBe(true);
    expect((await proxy(readers[1]!.token, `${base}/x.gif`)).statusCode).toBe(200);
  });
});
