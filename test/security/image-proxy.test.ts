/**
 * The image proxy route against a real local image server (allowed for this file the way tests allow
 * local mail servers: MAILROOM_ALLOW_PRIVATE_HOSTS=127.0.0.1), on SQLite or PostgreSQL.
 * What it refuses with the guard fully on is in ssrf.test.ts; safeFetch's own cases in
 * src/platform/security/host-guard.test.ts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { allowLocalMailServers } from '../support/local-hosts.js';

const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex'), Buffer.alloc(40, 1)]);
const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

let t: TestApp;
let a: { token: string; password: string; adminUserId: string };
let server: http.Server;
let base: string;
const seen: Array<{ url: string; headers: http.IncomingHttpHeaders }> = [];
allowLocalMailServers();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    const m = /^\/chain\/(\d+)$/.exec(req.url ?? '');
    if (m) {
      const n = Number(m[1]);
      if (n === 0) return void res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
      return void res.writeHead(302, { location: `/chain/${n - 1}` }).end();
    }
    switch (req.url) {
      case '/pixel.png':
        // A lying type, an upstream cookie and cache headers: none of it may reach the reader.
        return void res
          .writeHead(200, { 'content-type': 'image/jpeg', 'set-cookie': 'tracker=1; Path=/', 'cache-control': 'public, max-age=99999999', 'access-control-allow-origin': '*' })
          .end(GIF);
      case '/plain.png':
        return void res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
      case '/html-as-png':
        return void res.writeHead(200, { 'content-type': 'image/png' }).end('<html><script>alert(document.cookie)</script></html>');
      case '/svg':
        return void res.writeHead(200, { 'content-type': 'image/svg+xml' }).end('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>');
      case '/html':
        return void res.writeHead(200, { 'content-type': 'text/html' }).end('<script>alert(1)</script>');
      case '/huge':
        res.writeHead(200, { 'content-type': 'image/png' });
        res.write(PNG);
        return void res.end(Buffer.alloc(5 * 1024 * 1024 + 1));
      case '/gone':
        return void res.writeHead(404, { 'content-type': 'text/plain' }).end('nope');
      case '/to-metadata':
        return void res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/iam/' }).end();
      case '/to-private':
        return void res.writeHead(302, { location: 'http://10.0.0.1/admin.png' }).end();
      default:
        return void res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t = await createTestApp();
  a = await t.account();
});
afterAll(async () => {
  await t?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

const proxy = (remote: string, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'GET', url: `/api/v1/image-proxy?url=${encodeURIComponent(remote)}`, headers: { authorization: `Bearer ${a.token}`, ...headers } });

describe('image proxy', () => {
  it('refuses readers who are not signed in, without fetching', async () => {
    seen.length = 0;
    const anon = await t.app.inject({ method: 'GET', url: `/api/v1/image-proxy?url=${encodeURIComponent(`${base}/plain.png`)}` });
    expect(anon.statusCode).toBe(401);
    expect(anon.json().error.code).toBe('unauthenticated');
    const badToken = await t.app.inject({ method: 'GET', url: `/api/v1/image-proxy?url=${encodeURIComponent(`${base}/plain.png`)}`, headers: { authorization: 'Bearer nope' } });
    expect(badToken.statusCode).toBe(401);
    expect(seen).toEqual([]);
  });

  it('serves an image to a token and to a browser session, with the type read from the bytes and hardened headers', async () => {
    const r = await proxy(`${base}/pixel.png`, { cookie: 'mailroom_session=should-not-travel', referer: 'https://mailroom.example/inbox/secret-conversation' });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.rawPayload.equals(GIF)).toBe(true);
    expect(r.headers['content-type']).toBe('image/gif');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(String(r.headers['content-security-policy'])).toMatch(/^default-src 'none'/);
    expect(r.headers['referrer-policy']).toBe('no-referrer');
    expect(r.headers['cross-origin-resource-policy']).toBe('cross-origin'); // the sandboxed frame is another origin
    expect(r.headers['cache-control']).toBe('private, max-age=86400');
    expect(r.headers['set-cookie']).toBeUndefined();
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    // Nothing of the reader travels to the sender's server.
    const upstream = seen.at(-1)!.headers;
    expect(upstream.cookie).toBeUndefined();
    expect(upstream.referer).toBeUndefined();
    expect(upstream.authorization).toBeUndefined();

    const login = await t.app.inject({ method: 'POST', url: '/api/v1/session', payload: { email: (await t.api(a.token, 'GET', '/api/v1/session')).json().user.email, password: a.password } });
    const sid = login.cookies.find((c) => c.name === 'mailroom_session')!.value;
    const viaCookie = await t.app.inject({ method: 'GET', url: `/api/v1/image-proxy?url=${encodeURIComponent(`${base}/plain.png`)}`, cookies: { mailroom_session: sid } });
    expect(viaCookie.statusCode).toBe(200);
    expect(viaCookie.headers['content-type']).toBe('image/png');
  });

  it("the session's image-proxy token stands in for the cookie (the sandboxed email frame sends none) and dies with the session", async () => {
    const email = (await t.api(a.token, 'GET', '/api/v1/session')).json().user.email;
    const login = await t.app.inject({ method: 'POST', url: '/api/v1/session', payload: { email, password: a.password } });
    const { imageProxyToken, csrfToken } = login.json();
    expect(imageProxyToken).toMatch(/^[0-9a-f]{64}\.[A-Za-z0-9_-]{22}$/);
    const sid = login.cookies.find((c) => c.name === 'mailroom_session')!.value;
    expect(imageProxyToken).not.toContain(sid);
    // GET /session gives the same token to the browser; API tokens get none.
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/session', cookies: { mailroom_session: sid } })).json().imageProxyToken).toBe(imageProxyToken);
    expect((await t.api(a.token, 'GET', '/api/v1/session')).json().imageProxyToken).toBe('');

    const withToken = (tok: string) => t.app.inject({ method: 'GET', url: `/api/v1/image-proxy?url=${encodeURIComponent(`${base}/plain.png`)}&t=${encodeURIComponent(tok)}` });
    const ok = await withToken(imageProxyToken);
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.headers['content-type']).toBe('image/png');
    const [hash, mac] = imageProxyToken.split('.');
    for (const bad of [`${hash}.${mac.slice(0, -2)}AA`, `${'0'.repeat(64)}.${mac}`, hash, 'nonsense', '']) {
      const r = await withToken(bad);
      expect([r.statusCode, r.json().error.code], bad).toEqual([401, 'unauthenticated']);
    }
    // The token opens the image proxy and nothing else.
    const other = await t.app.inject({ method: 'GET', url: `/api/v1/session?t=${encodeURIComponent(imageProxyToken)}` });
    expect(other.statusCode).toBe(401);
    // Signing out ends it.
    await t.app.inject({ method: 'DELETE', url: '/api/v1/session', cookies: { mailroom_session: sid }, headers: { 'x-csrf-token': csrfToken } });
    expect((await withToken(imageProxyToken)).statusCode).toBe(401);
  });

  it('follows 3 redirects and refuses a 4th', async () => {
    expect((await proxy(`${base}/chain/3`)).statusCode).toBe(200);
    const r = await proxy(`${base}/chain/4`);
    expect([r.statusCode, r.json().error.code]).toEqual([502, 'too_many_redirects']);
  });

  it.each([
    ['/html-as-png', 502, 'not_an_image'],
    ['/svg', 502, 'content_type_not_allowed'],
    ['/html', 502, 'content_type_not_allowed'],
    ['/huge', 502, 'image_too_large'],
    ['/gone', 502, 'upstream_status'],
    ['/to-metadata', 403, 'host_not_allowed'],
    ['/to-private', 403, 'host_not_allowed'],
  ] as const)('refuses %s with %i %s, in the error shape, cached nowhere', async (path, status, code) => {
    const r = await proxy(`${base}${path}`);
    expect(r.statusCode, r.body).toBe(status);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    const body = r.json();
    expect(body.error.code).toBe(code);
    expect(body.error.message.length).toBeGreaterThan(10);
    expect(r.body).not.toMatch(/\bat .+\.(ts|js):\d+/); // no stack
    expect(r.body).not.toContain('alert(');
  });

  it('validates the query string: url is required, other schemes refused', async () => {
    const missing = await t.api(a.token, 'GET', '/api/v1/image-proxy');
    expect([missing.statusCode, missing.json().error.code]).toEqual([400, 'invalid_request']);
    for (const [url, code] of [
      ['file:///etc/passwd', 'scheme_not_allowed'],
      ['gopher://127.0.0.1:70/_x', 'scheme_not_allowed'],
      ['javascript:alert(1)', 'scheme_not_allowed'],
      ['not a url', 'invalid_url'],
      [`http://user:pw@127.0.0.1/x.png`, 'invalid_url'],
      ['http://127.0.0.1:25/', 'port_not_allowed'],
    ]) {
      const r = await proxy(url!);
      expect([r.statusCode, r.json().error.code], url).toEqual([400, code]);
    }
  });

  it('is in the OpenAPI document with its querystring', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    const op = doc.paths['/api/v1/image-proxy']?.get;
    expect(op).toBeTruthy();
    expect(op.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'url', in: 'query', required: true })]));
  });
});
