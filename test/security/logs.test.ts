/**
 * Logs carry no credentials: the request log line of a sign-in, an API call with a bearer token, and an
 * image-proxy call with a message's image token in the query string, at debug level, contain none of the
 * secrets. Uses the logger options production passes (a level), plus a stream to read them.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app/http.js';
import { loadConfig } from '../../src/app/config.js';
import { makeCommandEnv } from '../../src/app/env.js';
import { createAccount } from '../../src/features/accounts/commands/createAccount.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { signImageToken } from '../../src/platform/security/image-proxy-token.js';
import { hashToken } from '../../src/platform/security/passwords.js';
import type { CommandEnv } from '../../src/platform/context.js';

let database: TestDatabase;
let app: FastifyInstance;
let commandEnv: CommandEnv;
const lines: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  const config = loadConfig({ DATA_DIR: database.dataDir, PORT: '0' });
  const env = await makeCommandEnv(database, config, { now: () => Date.now() });
  commandEnv = env;
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  app = await buildApp({ database, config, env, logger: { level: 'debug', stream } });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await database?.drop();
});

describe('logs', () => {
  it('never contain a password, API token, session id or image-proxy token', async () => {
    const password = `Log-Secret-pw-${Math.random().toString(36).slice(2)}`;
    const email = `logs-${Math.random().toString(36).slice(2, 8)}@example.com`;
    const created = await createAccount(app.deps.env, { name: 'Logs', plan: 'professional', adminEmail: email, adminName: 'Lou', adminPassword: password });
    const login = await app.inject({ method: 'POST', url: '/api/v1/session', payload: { email, password } });
    expect(login.statusCode).toBe(200);
    const sid = login.cookies.find((c) => c.name === 'mailroom_session')!.value;
    // The token the HTML endpoint would hand out for a message (signed the same way).
    const imageProxyToken = signImageToken({ sessionIdHash: hashToken(sid), messageId: 'msg-1', expiresAt: Date.now() + 60_000 }, commandEnv.secrets.derive('image-proxy'));
    await app.inject({ method: 'GET', url: '/api/v1/session', headers: { authorization: `Bearer ${created.apiToken}` } });
    await app.inject({ method: 'GET', url: '/api/v1/session', cookies: { mailroom_session: sid } });
    const proxied = await app.inject({ method: 'GET', url: `/api/v1/image-proxy?url=${encodeURIComponent('http://127.0.0.1/x.png')}&m=msg-1&t=${imageProxyToken}` });
    expect(proxied.statusCode).toBe(403); // authenticated by the token, then refused by the SSRF guard

    const all = lines.join('');
    expect(all).toContain('/api/v1/image-proxy?url=');
    expect(all).toContain('t=[redacted]');
    for (const [what, secret] of Object.entries({ password, apiToken: created.apiToken, sid, imageProxyToken, macOfImageToken: imageProxyToken.split('.')[2] })) {
      expect(all.includes(secret!), what).toBe(false);
    }
  });
});
