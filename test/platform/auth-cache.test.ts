/**
 * The API reuses a verified token or session for a moment (src/platform/http/auth.ts, AUTH_CACHE_MS): a
 * revocation, deactivation, role change or sign-out made through Mailroom still takes effect on the very next
 * request, and one made behind its back (another process) within AUTH_CACHE_MS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { AUTH_CACHE_MS } from '../../src/platform/http/auth.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

async function member(a: Awaited<ReturnType<TestApp['account']>>, role = 'member') {
  const email = `m-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
  const created = await t.api(a.token, 'POST', '/api/v1/users', { email, name: 'Mo Member', role, password: 'member-password' });
  expect(created.statusCode).toBe(201);
  const user = created.json().user as { id: string };
  const tok = await t.api(a.token, 'POST', '/api/v1/tokens', { name: 'script', userId: user.id });
  return { user, email, token: tok.json().token as string, tokenId: tok.json().id as string };
}

const me = (token: string) => t.api(token, 'GET', '/api/v1/session');

describe('verified credentials are cached, and changes still take effect at once', () => {
  it('a revoked token is refused on the next request', async () => {
    const a = await t.account();
    const m = await member(a);
    expect((await me(m.token)).statusCode).toBe(200);
    expect((await me(m.token)).statusCode).toBe(200);
    const tokens = (await t.api(a.token, 'GET', `/api/v1/tokens`)).json().tokens as Array<{ id: string }>;
    expect(tokens.length).toBeGreaterThan(0);
    expect((await t.api(m.token, 'DELETE', `/api/v1/tokens/${m.tokenId}`)).statusCode).toBe(204);
    const after = await me(m.token);
    expect(after.statusCode).toBe(401);
    expect(after.json().error.code).toBe('unauthenticated');
  });

  it('a deactivated user is refused on the next request (token and session); restored, let in again', async () => {
    const a = await t.account();
    const m = await member(a);
    const login = await t.app.inject({ method: 'POST', url: '/api/v1/session', payload: { email: m.email, password: 'member-password' } });
    const sid = login.cookies.find((c) => c.name === 'mailroom_session')!.value;
    const bySession = () => t.app.inject({ method: 'GET', url: '/api/v1/session', cookies: { mailroom_session: sid } });
    expect((await me(m.token)).statusCode).toBe(200);
    expect((await bySession()).statusCode).toBe(200);
    expect((await t.api(a.token, 'POST', `/api/v1/users/${m.user.id}/deactivate`)).statusCode).toBe(200);
    expect((await me(m.token)).json().error.code).toBe('user_not_active');
    expect((await bySession()).statusCode).toBe(401);
    expect((await t.api(a.token, 'POST', `/api/v1/users/${m.user.id}/restore`)).statusCode).toBe(200);
    expect((await me(m.token)).statusCode).toBe(200);
  });

  it('a role change applies to the next request', async () => {
    const a = await t.account();
    const m = await member(a, 'admin');
    expect((await t.api(m.token, 'GET', '/api/v1/users')).statusCode).toBe(200);
    expect((await me(m.token)).json().user.role).toBe('admin');
    expect((await t.api(a.token, 'PATCH', `/api/v1/users/${m.user.id}`, { role: 'member' })).statusCode).toBe(200);
    expect((await me(m.token)).json().user.role).toBe('member');
  });

  it('a signed-out session is refused on the next request', async () => {
    const a = await t.account();
    const m = await member(a);
    const login = await t.app.inject({ method: 'POST', url: '/api/v1/session', payload: { email: m.email, password: 'member-password' } });
    const sid = login.cookies.find((c) => c.name === 'mailroom_session')!.value;
    const csrf = login.json().csrfToken as string;
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/session', cookies: { mailroom_session: sid } })).statusCode).toBe(200);
    const out = await t.app.inject({ method: 'DELETE', url: '/api/v1/session', cookies: { mailroom_session: sid }, headers: { 'x-csrf-token': csrf } });
    expect(out.statusCode).toBeLessThan(300);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/session', cookies: { mailroom_session: sid } })).statusCode).toBe(401);
  });

  it(`a token revoked by another process (straight in the database) is refused within ${AUTH_CACHE_MS} ms`, async () => {
    const a = await t.account();
    const m = await member(a);
    expect((await me(m.token)).statusCode).toBe(200);
    await t.env.db.updateTable('api_tokens').set({ revoked_at: Date.now() }).where('id', '=', m.tokenId).execute();
    await new Promise((r) => setTimeout(r, AUTH_CACHE_MS + 50));
    expect((await me(m.token)).statusCode).toBe(401);
  });

  it('records when a token was first used (lastUsedAt, written at most once a minute)', async () => {
    const a = await t.account();
    const m = await member(a);
    await me(m.token);
    await me(m.token);
    const row = await t.env.db.selectFrom('api_tokens').select('last_used_at').where('id', '=', m.tokenId).executeTakeFirstOrThrow();
    expect(row.last_used_at).not.toBeNull();
  });
});
