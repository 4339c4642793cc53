import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
// Moved a minute per failed attempt in the rate-limit test, so the database's per-address waits
// (test/security/sign-in-protection.test.ts) pass and the in-process rate limit (real time) is what answers.
let skew = 0;
beforeAll(async () => {
  t = await createTestApp({ now: () => Date.now() + skew });
});
afterAll(async () => {
  await t?.close();
});

async function login(email: string, password: string) {
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/session', payload: { email, password } });
  const cookie = res.cookies.find((c) => c.name === 'mailroom_session');
  return { res, cookie, body: res.json() };
}

describe('sign in, sessions and CSRF', () => {
  it('signs in with email and password and sets an HttpOnly SameSite cookie', async () => {
    const a = await t.account();
    const admin = (await t.api(a.token, 'GET', '/api/v1/session')).json().user;
    const { res, cookie, body } = await login(admin.email.toUpperCase(), a.password);
    expect(res.statusCode).toBe(200);
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe('Lax');
    expect(body.csrfToken).toMatch(/.{20,}/);
    expect(body.user.id).toBe(a.adminUserId);
    expect(JSON.stringify(body)).not.toContain('password');

    const me = await t.app.inject({ method: 'GET', url: '/api/v1/session', cookies: { mailroom_session: cookie!.value } });
    expect(me.json().user.id).toBe(a.adminUserId);

    // A change with the cookie but without the CSRF header is refused.
    const noCsrf = await t.app.inject({ method: 'POST', url: '/api/v1/teams', cookies: { mailroom_session: cookie!.value }, payload: { name: 'Ops' } });
    expect(noCsrf.statusCode).toBe(403);
    expect(noCsrf.json().error.code).toBe('csrf_token_invalid');
    const withCsrf = await t.app.inject({ method: 'POST', url: '/api/v1/teams', cookies: { mailroom_session: cookie!.value }, headers: { 'x-csrf-token': body.csrfToken }, payload: { name: 'Ops' } });
    expect(withCsrf.statusCode).toBe(201);

    const out = await t.app.inject({ method: 'DELETE', url: '/api/v1/session', cookies: { mailroom_session: cookie!.value }, headers: { 'x-csrf-token': body.csrfToken } });
    expect(out.statusCode).toBe(204);
    const after = await t.app.inject({ method: 'GET', url: '/api/v1/session', cookies: { mailroom_session: cookie!.value } });
    expect(after.statusCode).toBe(401);
    expect(after.json().error.code).toBe('unauthenticated');
  });

  it('refuses a wrong password with the same answer as an unknown email', async () => {
    const a = await t.account();
    const email = (await t.api(a.token, 'GET', '/api/v1/session')).json().user.email;
    const wrong = await login(email, 'not the password');
    const unknown = await login('nobody-here@example.com', 'whatever123');
    expect(wrong.res.statusCode).toBe(401);
    expect(unknown.res.statusCode).toBe(401);
    expect(wrong.body.error.code).toBe('invalid_credentials');
    expect(unknown.body).toEqual(wrong.body);
  });

  it('rate-limits repeated sign-in attempts for one email', async () => {
    const a = await t.account();
    const email = (await t.api(a.token, 'GET', '/api/v1/session')).json().user.email;
    const codes: string[] = [];
    for (let i = 0; i < 12; i++) {
      skew += 61_000;
      codes.push((await login(email, `wrong-${i}-password`)).body.error.code);
    }
    // The 10th failure also locks the address in the database (sign-in protection); the 11th and 12th
    // are refused by the rate limit before that.
    expect(codes).toEqual([...Array(9).fill('invalid_credentials'), 'sign_in_locked', 'rate_limited', 'rate_limited']);
    const limited = await login(email, a.password);
    expect(limited.body.error.code).toBe('rate_limited');
  });
});

describe('users: roles, seats, states', () => {
  it('deactivated users cannot sign in or use tokens; restore brings them back with their data', async () => {
    const a = await t.account();
    const created = await t.api(a.token, 'POST', '/api/v1/users', { email: `m-${Date.now()}@example.com`, name: 'Mo Member', password: 'member-password' });
    expect(created.statusCode).toBe(201);
    const user = created.json().user;
    expect(user.role).toBe('member');
    expect(user.seat).toBe('paid');
    const tokenRes = await t.api(a.token, 'POST', '/api/v1/tokens', { name: 'script', userId: user.id });
    const memberToken = tokenRes.json().token;
    expect((await t.api(memberToken, 'GET', '/api/v1/session')).statusCode).toBe(200);

    const deact = await t.api(a.token, 'POST', `/api/v1/users/${user.id}/deactivate`);
    expect(deact.statusCode).toBe(200);
    expect(deact.json().state).toBe('deactivated');
    expect((await login(user.email, 'member-password')).body.error.code).toBe('user_not_active');
    expect((await t.api(memberToken, 'GET', '/api/v1/session')).json().error.code).toBe('user_not_active');

    const again = await t.api(a.token, 'POST', `/api/v1/users/${user.id}/deactivate`);
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('invalid_state_change');

    const restored = await t.api(a.token, 'POST', `/api/v1/users/${user.id}/restore`);
    expect(restored.json().state).toBe('active');
    expect((await login(user.email, 'member-password')).res.statusCode).toBe(200);

    const audit = (await t.api(a.token, 'GET', `/api/v1/audit-events?targetId=${user.id}`)).json().events.map((e: { action: string }) => e.action);
    expect(audit).toEqual(expect.arrayContaining(['user.created', 'user.deactivated', 'user.restored']));
  });

  it('members cannot manage users, and nobody deactivates themselves or the last super admin', async () => {
    const a = await t.account();
    const m = (await t.api(a.token, 'POST', '/api/v1/users', { email: `m2-${Date.now()}@example.com`, name: 'Mia', password: 'member-password' })).json().user;
    const mt = (await t.api(a.token, 'POST', '/api/v1/tokens', { name: 'x', userId: m.id })).json().token;
    const denied = await t.api(mt, 'POST', '/api/v1/users', { email: 'x@example.com', name: 'X' });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error.code).toBe('permission_denied');
    expect((await t.api(mt, 'PATCH', `/api/v1/users/${m.id}`, { role: 'admin' })).json().error.code).toBe('permission_denied');
    // A member sets their own availability, but not someone else's.
    expect((await t.api(mt, 'PATCH', `/api/v1/users/${m.id}`, { availability: 'away' })).json().availability).toBe('away');
    expect((await t.api(mt, 'PATCH', `/api/v1/users/${a.adminUserId}`, { availability: 'away' })).statusCode).toBe(403);
    const self = await t.api(a.token, 'POST', `/api/v1/users/${a.adminUserId}/deactivate`);
    expect(self.json().error.code).toBe('cannot_change_self');
    const demote = await t.api(a.token, 'PATCH', `/api/v1/users/${a.adminUserId}`, { role: 'admin' });
    expect(demote.statusCode).toBe(409);
    expect(demote.json().error.code).toBe('last_super_admin');
  });

  it('seat quotas come from the plan table', async () => {
    const a = await t.account('free');
    const limits = (await t.api(a.token, 'GET', '/api/v1/account')).json().limits;
    const results: number[] = [];
    // The admin holds one paid seat already.
    for (let i = 1; i <= limits.paidSeats; i++) {
      results.push((await t.api(a.token, 'POST', '/api/v1/users', { email: `p${i}-${Date.now()}@example.com`, name: `P${i}`, seat: 'paid', password: 'password-123' })).statusCode);
    }
    expect(results.slice(0, limits.paidSeats - 1).every((c) => c === 201)).toBe(true);
    expect(results[limits.paidSeats - 1]).toBe(409);
    const over = await t.api(a.token, 'POST', '/api/v1/users', { email: `over-${Date.now()}@example.com`, name: 'Over', seat: 'paid' });
    expect(over.json().error.code).toBe('plan_limit_reached');
    expect(over.json().error.message).toMatch(/paid seats/);
    const free = await t.api(a.token, 'POST', '/api/v1/users', { email: `free-${Date.now()}@example.com`, name: 'Free', seat: 'free' });
    expect(free.statusCode).toBe(201);
    expect(free.json().generatedPassword).toMatch(/.{12,}/);
  });

  it('teams: a user has one primary team and may join others', async () => {
    const a = await t.account();
    const sales = (await t.api(a.token, 'POST', '/api/v1/teams', { name: 'Sales' })).json();
    const support = (await t.api(a.token, 'POST', '/api/v1/teams', { name: 'Support' })).json();
    const u = (await t.api(a.token, 'POST', '/api/v1/users', { email: `t-${Date.now()}@example.com`, name: 'Tia', primaryTeamId: sales.id, teamIds: [support.id] })).json().user;
    expect(u.primaryTeamId).toBe(sales.id);
    expect(u.teamIds.sort()).toEqual([sales.id, support.id].sort());
    const dup = await t.api(a.token, 'POST', '/api/v1/teams', { name: 'Sales' });
    expect(dup.json().error.code).toBe('team_name_taken');
    const moved = (await t.api(a.token, 'PATCH', `/api/v1/users/${u.id}`, { primaryTeamId: support.id, teamIds: [support.id] })).json();
    expect(moved.primaryTeamId).toBe(support.id);
    expect(moved.teamIds).toEqual([support.id]);
  });
});

describe('one error shape', () => {
  it('answers unknown routes, bad bodies and missing auth with code and message, never a stack', async () => {
    const a = await t.account();
    const unknown = await t.api(a.token, 'GET', '/api/v1/nope');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('not_found');
    const bad = await t.api(a.token, 'POST', '/api/v1/users', { email: 'x@example.com' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('invalid_request');
    expect(bad.json().error.message).toMatch(/name/);
    const broken = await t.app.inject({ method: 'POST', url: '/api/v1/teams', headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' }, payload: '{"name":' });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().error.code).toBe('invalid_request');
    const anon = await t.app.inject({ method: 'GET', url: '/api/v1/users' });
    expect(anon.statusCode).toBe(401);
    for (const r of [unknown, bad, broken, anon]) expect(r.body).not.toMatch(/\bat .*\.(ts|js):\d+/);
  });

  it('serves the OpenAPI document, docs page, health and metrics', async () => {
    const doc = await t.app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(doc.statusCode).toBe(200);
    expect(Object.keys(doc.json().paths)).toEqual(expect.arrayContaining(['/api/v1/users', '/api/v1/users/{id}']));
    expect((await t.app.inject({ method: 'GET', url: '/api/docs' })).body).toContain('Mailroom API');
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).json().status).toBe('ok');
    const count = (body: string) => Number(/^mailroom_http_requests_total\{method="GET",route="\/healthz",status="200"\} (\d+)$/m.exec(body)?.[1] ?? 0);
    const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(count(metrics)).toBeGreaterThanOrEqual(1);
    expect(metrics).toContain('process_cpu_user_seconds_total'); // the serving process's own metrics
    // Counted between scrapes, not reset by one.
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect(count((await t.app.inject({ method: 'GET', url: '/metrics' })).body)).toBe(count(metrics) + 1);
  });
});
