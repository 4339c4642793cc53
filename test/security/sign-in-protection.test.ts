/**
 * Sign-in protection across clients (issue 21, item 8), on SQLite or PostgreSQL: failed sign-ins for one
 * address are counted in the database whatever the client, IP or process; after a few, each attempt waits
 * longer (sign_in_delayed), then the address is locked for a while (sign_in_locked with retryAt), never
 * for good, no CAPTCHA; a success resets the count; the owner is notified once per lock. The clock is the
 * test's (env.now), so no test waits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { makeCommandEnv } from '../../src/app/env.js';
import { loadConfig } from '../../src/app/config.js';
import { signIn as signInCommand } from '../../src/features/accounts/commands/signIn.js';

let t: TestApp;
let clock = Date.now();
beforeAll(async () => {
  t = await createTestApp({ now: () => clock });
});
afterAll(async () => {
  await t?.close();
});

let ip = 0;
/** One attempt, each from another IP (the per-address count is the same for all of them). */
const attempt = (email: string, password: string) => {
  ip += 1;
  return t.app.inject({ method: 'POST', url: '/api/v1/session', payload: { email, password }, remoteAddress: `198.51.${Math.floor(ip / 250) % 250}.${(ip % 250) + 1}` });
};
const emailOf = async (token: string) => (await t.api(token, 'GET', '/api/v1/session')).json().user.email as string;
const notes = (userId: string) => t.database.db.selectFrom('notifications').selectAll().where('user_id', '=', userId).where('kind', '=', 'sign_in_locked').execute();

describe('failed sign-ins for one address', () => {
  it('slow down, then lock with the time it lifts; the right password waits too; the owner is told once; the lock lifts by itself', async () => {
    const a = await t.account();
    const email = await emailOf(a.token);
    for (let i = 1; i <= 4; i++) expect((await attempt(email, `wrong-${i}`)).json().error.code).toBe('invalid_credentials');
    // The 5th failure makes the next attempt wait 1 s, even with the right password (and from another IP).
    expect((await attempt(email.toUpperCase(), 'wrong-5')).json().error.code).toBe('invalid_credentials');
    const delayed = await attempt(email, a.password);
    expect(delayed.statusCode).toBe(429);
    expect(delayed.json().error).toMatchObject({ code: 'sign_in_delayed', details: { retryAt: new Date(clock + 1000).toISOString() } });
    // Growing waits: 1, 2, 4, 8, 16 s.
    const waits: number[] = [];
    for (let i = 6; i <= 9; i++) {
      const before = (await t.database.db.selectFrom('sign_in_failures').select('next_allowed_at').where('email_key', '=', email.toLowerCase()).executeTakeFirstOrThrow()).next_allowed_at;
      clock = Number(before);
      expect((await attempt(email, `wrong-${i}`)).json().error.code).toBe('invalid_credentials');
      const after = await attempt(email, `wrong-${i}-early`);
      expect(after.json().error.code).toBe('sign_in_delayed');
      waits.push(Date.parse(after.json().error.details.retryAt) - clock);
    }
    expect(waits).toEqual([2000, 4000, 8000, 16000]);
    clock += 16_000;
    // The 10th failure locks the address for 15 minutes.
    const locked = await attempt(email, 'wrong-10');
    expect(locked.statusCode).toBe(429);
    const err = locked.json().error;
    expect(err.code).toBe('sign_in_locked');
    const liftsAt = clock + 15 * 60_000;
    expect(err.details.retryAt).toBe(new Date(liftsAt).toISOString());
    expect(err.message).toContain(new Date(liftsAt).toISOString().slice(11, 16));
    expect(err.message).toContain('in 15 minutes');
    // Right password, other IP, other process: still locked until it lifts.
    clock += 10 * 60_000;
    expect((await attempt(email, a.password)).json().error.code).toBe('sign_in_locked');
    const otherProcess = await makeCommandEnv(t.database, loadConfig({ DATA_DIR: t.database.dataDir, PORT: '0' }), { now: () => clock });
    await expect(signInCommand(otherProcess, { email, password: a.password })).rejects.toMatchObject({ code: 'sign_in_locked' });
    // The owner was told once, with how many failures and until when.
    const told = await notes(a.adminUserId);
    expect(told).toHaveLength(1);
    expect(told[0]!.message).toContain('10 sign-ins');
    expect(told[0]!.message).toContain(new Date(liftsAt).toISOString().slice(0, 16).replace('T', ' '));
    // It lifts by itself; the right password then signs in and resets the count.
    clock = liftsAt;
    const ok = await attempt(email, a.password);
    expect(ok.statusCode, ok.body).toBe(200);
    expect(await t.database.db.selectFrom('sign_in_failures').selectAll().where('email_key', '=', email.toLowerCase()).execute()).toEqual([]);
    expect((await attempt(email, 'wrong-again')).json().error.code).toBe('invalid_credentials');
    expect((await attempt(email, a.password)).statusCode).toBe(200);
    expect(await notes(a.adminUserId)).toHaveLength(1);
  });

  it('after a lock lifts, failures go on counting: 60 s between attempts, then a longer lock, told again once', async () => {
    const a = await t.account();
    const email = await emailOf(a.token);
    const fail = async (n: number) => {
      const row = await t.database.db.selectFrom('sign_in_failures').select('next_allowed_at').where('email_key', '=', email.toLowerCase()).executeTakeFirst();
      if (row) clock = Math.max(clock, Number(row.next_allowed_at));
      return (await attempt(email, `wrong-${n}`)).json().error;
    };
    for (let n = 1; n <= 9; n++) expect((await fail(n)).code).toBe('invalid_credentials');
    expect((await fail(10)).code).toBe('sign_in_locked');
    for (let n = 11; n <= 14; n++) {
      expect((await fail(n)).code).toBe('invalid_credentials');
      expect((await attempt(email, a.password)).json().error).toMatchObject({ code: 'sign_in_delayed', details: { retryAt: new Date(clock + 60_000).toISOString() } });
    }
    const second = await fail(15);
    expect(second.code).toBe('sign_in_locked');
    expect(second.details.retryAt).toBe(new Date(clock + 30 * 60_000).toISOString());
    expect(await notes(a.adminUserId)).toHaveLength(2);
  });

  it('counts an address nobody has the same way (the answers do not tell which addresses exist), with nobody to notify', async () => {
    const email = `nobody-${Date.now()}@example.com`;
    let last: { code: string } = { code: '' };
    for (let n = 1; n <= 10; n++) {
      const row = await t.database.db.selectFrom('sign_in_failures').select('next_allowed_at').where('email_key', '=', email).executeTakeFirst();
      if (row) clock = Math.max(clock, Number(row.next_allowed_at));
      last = (await attempt(email, `guess-${n}`)).json().error;
    }
    expect(last.code).toBe('sign_in_locked');
  });
});
