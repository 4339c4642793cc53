/**
 * The image proxy route against a real local image server (allowed for this file through the image
 * proxy's own allow-list, MAILROOM_IMAGE_PROXY_ALLOW_HOSTS=127.0.0.1; the mail servers' list does not
 * apply to it), on SQLite or PostgreSQL. The message-bound image token is read from the real HTML
 * endpoint of messages stored through the ingest pipeline.
 * What it refuses with the guard fully on is in ssrf.test.ts; safeFetch's own cases in
 * src/platform/security/host-guard.test.ts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { setPrivateHostsForTest } from '../support/local-hosts.js';
import { insertConnection } from '../support/connections.js';
import { deliver, inboxFixture, rawMail } from '../inbox/support.js';
import { IMAGE_TOKEN_TTL_MS } from '../../src/platform/security/image-proxy-token.js';

const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex'), Buffer.alloc(40, 1)]);
const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

let t: TestApp;
let a: { token: string; password: string; adminUserId: string; accountId: string };
let server: http.Server;
let base: string;
const seen: Array<{ url: string; headers: http.IncomingHttpHeaders }> = [];
/** The app's clock (image tokens expire after 10 minutes). */
let clock = Date.now();

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
  t = await createTestApp({ now: () => clock, configEnv: { MAILROOM_IMAGE_PROXY_ALLOW_HOSTS: '127.0.0.1' } });
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

  it("a message's image token stands in for the cookie (the sandboxed email frame sends none): that message only, 10 minutes, dies with the session", async () => {
    const email = (await t.api(a.token, 'GET', '/api/v1/session')).json().user.email;
    const login = await t.app.inject({ method: 'POST', url: '/api/v1/session', payload: { email, password: a.password } });
    const sid = login.cookies.find((c) => c.name === 'mailroom_session')!.value;
    const { csrfToken } = login.json();
    // Nothing session-wide is handed out any more.
    expect(login.json().imageProxyToken).toBeUndefined();
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/session', cookies: { mailroom_session: sid } })).json().imageProxyToken).toBeUndefined();

    // Two messages (A and B) in the admin's inbox; reading each hands out a token for it.
    const s = await inboxFixture(t);
    const htmlMail = (subject: string) => rawMail({ subject }).replace('Content-Type: text/plain; charset=utf-8', 'Content-Type: text/html; charset=utf-8').replace('Hello, my order has not arrived.', `<p>${subject}</p><img src="${base}/plain.png">`);
    const read = async (subject: string) => {
      const conversationId = await deliver(t, s.conn, htmlMail(subject));
      const thread = (await t.api(s.a.token, 'GET', `/api/v1/conversations/${conversationId}`)).json();
      const messageId = thread.messages[0].id as string;
      const session = await t.app.inject({ method: 'POST', url: '/api/v1/session', payload: { email: (await t.api(s.a.token, 'GET', '/api/v1/session')).json().user.email, password: s.a.password } });
      const cookie = session.cookies.find((c) => c.name === 'mailroom_session')!.value;
      const r = await t.app.inject({ method: 'GET', url: `/api/v1/conversations/${conversationId}/messages/${messageId}/html`, cookies: { mailroom_session: cookie } });
      expect(r.statusCode, r.body).toBe(200);
      return { messageId, conversationId, cookie, csrf: session.json().csrfToken as string, ...(r.json() as { imageToken: string; imageTokenExpiresAt: string }) };
    };
    const A = await read('Message A');
    const B = await read('Message B');
    expect(A.imageToken).toMatch(/^[0-9a-f]{64}\.[0-9a-z]+\.[A-Za-z0-9_-]{22}$/);
    expect(A.imageToken).not.toContain(A.cookie);
    expect(Date.parse(A.imageTokenExpiresAt) - clock).toBe(IMAGE_TOKEN_TTL_MS);
    // An API token reads the HTML too, but gets no image token (it sends its header with every request).
    const viaApi = (await t.api(s.a.token, 'GET', `/api/v1/conversations/${A.conversationId}/messages/${A.messageId}/html`)).json();
    expect([viaApi.imageToken, viaApi.imageTokenExpiresAt]).toEqual(['', null]);

    const withToken = (m: string, tok: string) =>
      t.app.inject({ method: 'GET', url: `/api/v1/image-proxy?url=${encodeURIComponent(`${base}/plain.png`)}&m=${encodeURIComponent(m)}&t=${encodeURIComponent(tok)}` });
    const ok = await withToken(A.messageId, A.imageToken);
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.headers['content-type']).toBe('image/png');
    expect((await withToken(B.messageId, B.imageToken)).statusCode).toBe(200);

    // A's token does not open B's images (nor anything without the message id), and no altered token works.
    seen.length = 0;
    const crossed = await withToken(B.messageId, A.imageToken);
    expect([crossed.statusCode, crossed.json().error.code]).toEqual([401, 'image_token_invalid']);
    const [hash, exp, mac] = A.imageToken.split('.');
    const later = (parseInt(exp!, 36) + 60 * 60_000).toString(36);
    for (const [m, bad] of [
      ['', A.imageToken],
      [A.messageId, `${hash}.${exp}.${mac!.slice(0, -2)}AA`],
      [A.messageId, `${hash}.${later}.${mac}`], // a longer life is not signed
      [A.messageId, `${'0'.repeat(64)}.${exp}.${mac}`],
      [A.messageId, `${hash}.${mac}`],
      [A.messageId, 'nonsense'],
    ] as const) {
      const r = await withToken(m, bad);
      expect([r.statusCode, r.json().error.code], `${m} ${bad}`).toEqual([401, 'image_token_invalid']);
    }
    const none = await t.app.inject({ method: 'GET', url: `/api/v1/image-proxy?url=${encodeURIComponent(`${base}/plain.png`)}&m=${A.messageId}` });
    expect([none.statusCode, none.json().error.code]).toEqual([401, 'unauthenticated']);
    expect(seen).toEqual([]); // nothing fetched for a refused token
    // The token opens the image proxy and nothing else.
    const other = await t.app.inject({ method: 'GET', url: `/api/v1/session?t=${encodeURIComponent(A.imageToken)}` });
    expect(other.statusCode).toBe(401);

    // Ten minutes later it has expired; reading the message again gives a new one.
    const issuedAt = clock;
    try {
      clock = issuedAt + IMAGE_TOKEN_TTL_MS - 1000;
      expect((await withToken(A.messageId, A.imageToken)).statusCode).toBe(200);
      clock = issuedAt + IMAGE_TOKEN_TTL_MS;
      const expired = await withToken(A.messageId, A.imageToken);
      expect([expired.statusCode, expired.json().error.code]).toEqual([401, 'image_token_expired']);
      expect(expired.json().error.message).toMatch(/Open the message again/);
      const again = (await t.app.inject({ method: 'GET', url: `/api/v1/conversations/${A.conversationId}/messages/${A.messageId}/html`, cookies: { mailroom_session: A.cookie } })).json();
      expect(again.imageToken).not.toBe(A.imageToken);
      expect((await withToken(A.messageId, again.imageToken)).statusCode).toBe(200);
    } finally {
      clock = issuedAt;
    }

    // Signing out ends it before its ten minutes.
    await t.app.inject({ method: 'DELETE', url: '/api/v1/session', cookies: { mailroom_session: B.cookie }, headers: { 'x-csrf-token': B.csrf } });
    expect((await withToken(B.messageId, B.imageToken)).json().error.code).toBe('image_token_invalid');
    await t.app.inject({ method: 'DELETE', url: '/api/v1/session', cookies: { mailroom_session: sid }, headers: { 'x-csrf-token': csrfToken } });
  });

  it("a template preview's token opens that template's preview images only", async () => {
    const email = (await t.api(a.token, 'GET', '/api/v1/session')).json().user.email;
    const login = await t.app.inject({ method: 'POST', url: '/api/v1/session', payload: { email, password: a.password } });
    const cookie = login.cookies.find((c) => c.name === 'mailroom_session')!.value;
    // Previews need a personal mailbox (its signature and font); its servers are never contacted here.
    await insertConnection(t, { accountId: a.accountId, userId: a.adminUserId, type: 'personal', address: `ada-${Date.now()}@example.org` });
    const template = async (name: string) => (await t.api(a.token, 'POST', '/api/v1/email-templates', { kind: 'template', name, subject: 'Hi', html: `<p>Hi</p><img src="${base}/plain.png">` })).json().id as string;
    const [one, two] = [await template('Logo one'), await template('Logo two')];
    const contactId = (await t.api(a.token, 'POST', '/api/v1/contacts', { firstName: 'Pat', emails: [`pat-${Date.now()}@example.org`] })).json().id as string;
    const preview = await t.app.inject({ method: 'GET', url: `/api/v1/email-templates/${one}/preview?contactId=${contactId}`, cookies: { mailroom_session: cookie } });
    expect(preview.statusCode, preview.body).toBe(200);
    const { imageToken } = preview.json();
    const image = (subject: string) => t.app.inject({ method: 'GET', url: `/api/v1/image-proxy?url=${encodeURIComponent(`${base}/plain.png`)}&m=${encodeURIComponent(subject)}&t=${encodeURIComponent(imageToken)}` });
    expect((await image(`template:${one}`)).statusCode).toBe(200);
    expect((await image(`template:${two}`)).json().error.code).toBe('image_token_invalid');
    expect((await image(one)).json().error.code).toBe('image_token_invalid');
  });

  it("private hosts: only the image proxy's own allow-list opens them, never the mail servers' one", async () => {
    // Another Mailroom whose operator allows 127.0.0.1 for mail servers (MAILROOM_ALLOW_PRIVATE_HOSTS)
    // but not for the image proxy.
    const restore = setPrivateHostsForTest(['127.0.0.1']);
    const mailOnly = await createTestApp();
    try {
      const b = await mailOnly.account();
      seen.length = 0;
      const r = await mailOnly.app.inject({ method: 'GET', url: `/api/v1/image-proxy?url=${encodeURIComponent(`${base}/plain.png`)}`, headers: { authorization: `Bearer ${b.token}` } });
      expect([r.statusCode, r.json().error.code], r.body).toEqual([403, 'host_not_allowed']);
      expect(seen).toEqual([]);
    } finally {
      await mailOnly.close();
      restore();
    }
    // This file's app lists it in MAILROOM_IMAGE_PROXY_ALLOW_HOSTS (and the process's mail list is empty).
    const listed = await proxy(`${base}/plain.png`);
    expect(listed.statusCode, listed.body).toBe(200);
    // Listing one private host opens no other.
    expect((await proxy('http://10.0.0.1/x.png')).json().error.code).toBe('host_not_allowed');
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
