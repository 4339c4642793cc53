/**
 * Authentication lives in the /api/v1 scope of src/app/http.ts: every API route needs a signed-in user
 * unless it is marked public; routes outside the scope never ask for one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('the authenticated /api/v1 scope', () => {
  it('refuses anonymous API requests, known paths and unknown ones alike (401 before 404)', async () => {
    for (const [method, url] of [['GET', '/api/v1/users'], ['GET', '/api/v1/session'], ['DELETE', '/api/v1/session'], ['GET', '/api/v1/nope'], ['POST', '/api/v1/nope']] as const) {
      const res = await t.app.inject({ method, url });
      expect(res.statusCode, `${method} ${url}`).toBe(401);
      expect(res.json().error.code).toBe('unauthenticated');
    }
  });

  it('answers 404 for unknown API paths once signed in', async () => {
    const a = await t.account();
    for (const method of ['GET', 'POST']) {
      const res = await t.api(a.token, method, '/api/v1/nope', method === 'POST' ? {} : undefined);
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('not_found');
    }
  });

  it('lets the public routes through: sign-in and the image proxy (which checks its own token) inside; health, docs and tracking outside', async () => {
    const signIn = await t.app.inject({ method: 'POST', url: '/api/v1/session', payload: { email: 'nobody@example.com', password: 'wrong password' } });
    expect(signIn.json().error.code).not.toBe('unauthenticated');
    const proxy = await t.app.inject({ url: '/api/v1/image-proxy?url=https%3A%2F%2Fexample.com%2Fa.png' });
    expect(proxy.statusCode).toBe(401);
    expect((await t.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/api/openapi.json' })).statusCode).toBe(200);
    const pixel = await t.app.inject({ url: '/t/o/not-a-token.gif' });
    expect(pixel.statusCode).toBe(404);
    expect(pixel.json().error.code).toBe('not_found');
  });

  it('an invalid bearer token is refused on every API route, public ones too', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: { authorization: 'Bearer nope' }, payload: { email: 'a@example.com', password: 'x' } });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.message).toContain('not valid or was revoked');
  });
});
