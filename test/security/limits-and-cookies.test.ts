/**
 * Limits that hold against the obvious ways around them, and the session cookie's attributes.
 *
 * - Sign-in: 10 attempts a minute per address and client (MAILROOM_LOGIN_RATE_MAX), whatever spelling of
 *   the address is used (case, spaces: sign-in compares addresses by their key, so must the limit), and
 *   a client cannot reset its bucket with an X-Forwarded-For header unless the operator trusts a proxy;
 *   10 times that per client across all addresses.
 *   test/platform/users-and-sessions.test.ts checks the plain case.
 * - Inbound SMTP: connections per client address per minute, and concurrent clients, are capped (421).
 * - The session cookie is HttpOnly, SameSite=Lax, Path=/, and Secure whenever Mailroom is served over
 *   TLS: PUBLIC_URL https://, SECURE_COOKIES=true, or X-Forwarded-Proto: https from a trusted proxy
 *   (TRUST_PROXY=true). Signing out clears it with the same attributes.
 */
import net from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { createIngestor } from '../../src/app/engine.js';
import { inboundWiring } from '../../src/app/features.js';
import { startInboundSmtp, type RunningInboundSmtp } from '../../src/mail/inbound-smtp.js';

let t: TestApp;
// The database's per-address protection (test/security/sign-in-protection.test.ts) makes attempts wait
// after a few failures; this file's clock moves a minute per failed attempt so only the in-process rate
// limit (real time) is at work here.
let skew = 0;
beforeAll(async () => {
  t = await createTestApp({ now: () => Date.now() + skew });
});
afterAll(async () => {
  await t?.close();
});

async function emailOf(app: TestApp, token: string): Promise<string> {
  return (await app.api(token, 'GET', '/api/v1/session')).json().user.email;
}

const signIn = (app: TestApp, email: string, password: string, headers: Record<string, string> = {}, remoteAddress = '198.51.100.7') =>
  app.app.inject({ method: 'POST', url: '/api/v1/session', payload: { email, password }, headers, remoteAddress });

describe('sign-in rate limit', () => {
  it('counts every spelling of one address together', async () => {
    const a = await t.account();
    const email = await emailOf(t, a.token);
    const spellings = [email, email.toUpperCase(), ` ${email}`, `${email} `, `\t${email}`, ` ${email.toUpperCase()} `];
    // Each spelling really is the same address to sign-in.
    expect((await signIn(t, ` ${email.toUpperCase()} `, a.password, {}, '198.51.100.99')).statusCode).toBe(200);
    const codes: number[] = [];
    const errors: string[] = [];
    for (let i = 0; i < 12; i++) {
      skew += 61_000;
      const r = await signIn(t, spellings[i % spellings.length]!, `wrong-${i}`);
      codes.push(r.statusCode);
      errors.push(r.json().error.code);
    }
    // The 10th failure locks the address in the database too (sign-in protection, one count for every spelling).
    expect(errors.slice(0, 10), errors.join()).toEqual([...Array(9).fill('invalid_credentials'), 'sign_in_locked']);
    expect(errors.slice(10)).toEqual(['rate_limited', 'rate_limited']);
    expect(codes.slice(10)).toEqual([429, 429]);
    const right = await signIn(t, spellings[3]!, a.password);
    expect(right.statusCode).toBe(429);
    expect(right.json().error.code).toBe('rate_limited');
    expect(Number(right.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('is not reset by an X-Forwarded-For header when no proxy is trusted', async () => {
    const a = await t.account();
    const email = await emailOf(t, a.token);
    const codes: number[] = [];
    for (let i = 0; i < 12; i++) codes.push((await signIn(t, email, `wrong-${i}`, { 'x-forwarded-for': `203.0.113.${i + 1}` }, '198.51.100.8')).statusCode);
    expect(codes.slice(10)).toEqual([429, 429]);
  });
});

describe('sign-in attempts from one client across many addresses (password spraying)', () => {
  let small: TestApp;
  beforeAll(async () => {
    small = await createTestApp({ configEnv: { MAILROOM_LOGIN_RATE_MAX: '2' } }); // 2 per address and client, 20 per client
  });
  afterAll(async () => {
    await small?.close();
  });

  it('allows 10 times the per-address limit a minute per client, then 429 for any address; other clients unaffected', async () => {
    // The bucket refills continuously (20 a minute), so the first refusal comes after 20 plus what
    // refilled while the attempts ran (each costs a password check).
    const started = Date.now();
    let allowed = 0;
    let refused: Awaited<ReturnType<typeof signIn>> | null = null;
    for (let i = 0; i < 40; i++) {
      const r = await signIn(small, `sprayed-${i}@example.com`, 'Summer2026!', {}, '198.51.100.50');
      if (r.statusCode === 429) {
        refused = r;
        break;
      }
      expect(r.statusCode).toBe(401);
      allowed += 1;
    }
    expect(allowed).toBeGreaterThanOrEqual(20);
    expect(allowed).toBeLessThanOrEqual(20 + Math.ceil(((Date.now() - started) * 20) / 60_000));
    expect(refused!.json().error.code).toBe('rate_limited');
    expect(Number(refused!.headers['retry-after'])).toBeGreaterThan(0);
    const a = await small.account();
    expect((await signIn(small, await emailOf(small, a.token), a.password, {}, '198.51.100.51')).statusCode).toBe(200);
  });
});

describe('inbound SMTP limits', () => {
  let smtp: RunningInboundSmtp;
  beforeAll(async () => {
    smtp = await startInboundSmtp(createIngestor(t.env), { ...inboundWiring(), port: 0, host: '127.0.0.1', maxMessageBytes: 100_000, maxClients: 3, connectionsPerMinute: 5, log: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    await smtp?.close();
  });

  /** Opens a connection and returns it with the server's first reply line. */
  function open(localAddress?: string): Promise<{ socket: net.Socket; greeting: string }> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port: smtp.port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) });
      let buf = '';
      socket.on('data', (d) => {
        buf += d.toString();
        const nl = buf.indexOf('\n');
        if (nl !== -1) resolve({ socket, greeting: buf.slice(0, nl).trim() });
      });
      socket.on('error', reject);
      setTimeout(() => reject(new Error('no greeting')), 5000).unref();
    });
  }

  it('caps concurrent clients and new connections per client address per minute with 421', async () => {
    const held = [await open(), await open(), await open()];
    for (const h of held) expect(h.greeting).toMatch(/^220 /);
    const fourth = await open();
    expect(fourth.greeting).toMatch(/^421 /);
    fourth.socket.destroy();
    for (const h of held) h.socket.destroy();
    await new Promise((r) => setTimeout(r, 100));
    // 5 connections a minute from one address: the 3 held count, the one turned away for maxClients
    // did not get that far; two more are allowed, then 421 until the bucket refills.
    const greetings: string[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await open();
      greetings.push(c.greeting);
      c.socket.destroy();
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(greetings[0]).toMatch(/^220 /);
    expect(greetings[1]).toMatch(/^220 /);
    expect(greetings[2]).toMatch(/^421 .*too many connections/i);
  });
});

describe('session cookie attributes', () => {
  async function cookiesFor(configEnv: Record<string, string>, headers: Record<string, string> = {}) {
    const app = await createTestApp({ configEnv });
    try {
      const a = await app.account();
      const email = await emailOf(app, a.token);
      const res = await signIn(app, email, a.password, headers);
      expect(res.statusCode, res.body).toBe(200);
      const session = res.cookies.find((c) => c.name === 'mailroom_session')!;
      const out = await app.app.inject({ method: 'DELETE', url: '/api/v1/session', cookies: { mailroom_session: session.value }, headers: { 'x-csrf-token': res.json().csrfToken, ...headers } });
      expect(out.statusCode).toBe(204);
      const cleared = out.cookies.find((c) => c.name === 'mailroom_session')!;
      expect(cleared.value).toBe('');
      return { session, cleared };
    } finally {
      await app.close();
    }
  }

  function expectBase(c: { httpOnly?: boolean; sameSite?: string; path?: string }) {
    expect(c.httpOnly).toBe(true);
    expect(c.sameSite).toBe('Lax');
    expect(c.path).toBe('/');
  }

  it('plain http (the default PUBLIC_URL): HttpOnly, SameSite=Lax, not Secure', async () => {
    const { session, cleared } = await cookiesFor({});
    expectBase(session);
    expectBase(cleared);
    expect(session.secure).toBeFalsy();
  });

  it.each([
    ['PUBLIC_URL https://', { PUBLIC_URL: 'https://crm.example.com' }, {}],
    ['SECURE_COOKIES=true', { SECURE_COOKIES: 'true' }, {}],
    ['X-Forwarded-Proto https from a trusted proxy', { TRUST_PROXY: 'true' }, { 'x-forwarded-proto': 'https' }],
  ] as const)('served over TLS (%s): Secure too, set and cleared', async (_what, env, headers) => {
    const { session, cleared } = await cookiesFor(env, headers);
    expectBase(session);
    expect(session.secure).toBe(true);
    expectBase(cleared);
    expect(cleared.secure).toBe(true);
  });

  it('an X-Forwarded-Proto header is not believed without TRUST_PROXY', async () => {
    const { session } = await cookiesFor({}, { 'x-forwarded-proto': 'https' });
    expect(session.secure).toBeFalsy();
  });
});
