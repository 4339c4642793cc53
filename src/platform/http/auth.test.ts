import { describe, expect, it } from 'vitest';
import type { FastifyRequest } from 'fastify';
import { createAuthenticator, type CredentialStore } from './auth.js';
import { hashToken } from '../security/passwords.js';
import type { CommandEnv, UserRow } from '../context.js';

const user = (state: UserRow['state'] = 'active'): UserRow => ({
  id: 'usr_1',
  account_id: 'acc_1',
  email: 'ada@example.com',
  email_key: 'ada@example.com',
  name: 'Ada',
  password_hash: null,
  role: 'member',
  seat: 'paid',
  state,
  perm_personal_email: 1,
  perm_account_access: 0,
  perm_availability: 0,
  primary_team_id: null,
  availability: 'available',
  working_hours: null,
  settings: '{}',
  created_at: 0,
  state_changed_at: null,
});

/** A credential store in memory that counts its lookups and writes. */
function fakeStore() {
  const s = {
    tokens: new Map<string, { user: UserRow; tokenId: string }>([[hashToken('tok'), { user: user(), tokenId: 'tok_1' }]]),
    sessions: new Map<string, { user: UserRow; expiresAt: number }>([[hashToken('sid'), { user: user(), expiresAt: 10_000 }]]),
    lookups: 0,
    marks: 0,
    version: 0,
    /** Runs during the next lookup (a change committed while the lookup reads). */
    during: null as null | (() => void),
  };
  const store: CredentialStore = {
    async apiTokenUser(_env, hash) {
      s.lookups += 1;
      const row = s.tokens.get(hash);
      const answer = row ? { user: { ...row.user }, tokenId: row.tokenId, plan: 'professional' as const } : null;
      s.during?.();
      s.during = null;
      return answer;
    },
    async markApiTokenUsed() {
      s.marks += 1;
    },
    async sessionUser(_env, hash) {
      s.lookups += 1;
      const row = s.sessions.get(hash);
      return row ? { user: { ...row.user }, plan: 'professional' as const, csrfToken: 'csrf', expiresAt: row.expiresAt } : null;
    },
    version: () => s.version,
  };
  return { s, store };
}

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` }, method: 'GET', cookies: {} }) as unknown as FastifyRequest;
const cookie = (sid: string) => ({ headers: {}, method: 'GET', cookies: { mailroom_session: sid } }) as unknown as FastifyRequest;

function setup(opts: { now?: () => number } = {}) {
  const { s, store } = fakeStore();
  let clock = 0;
  const env = { now: opts.now ?? (() => 1_000) } as unknown as CommandEnv;
  const auth = createAuthenticator(env, store, { cacheMs: 2_000, markUsedEveryMs: 60_000, clock: () => clock });
  return { s, auth, tick: (ms: number) => (clock += ms) };
}

describe('the verified-credential cache', () => {
  it('reuses a verified token for cacheMs, then asks the store again', async () => {
    const { s, auth, tick } = setup();
    expect((await auth.resolveActor(bearer('tok')))?.actor.user.id).toBe('usr_1');
    await auth.resolveActor(bearer('tok'));
    tick(1_999);
    await auth.resolveActor(bearer('tok'));
    expect(s.lookups).toBe(1);
    tick(1);
    await auth.resolveActor(bearer('tok'));
    expect(s.lookups).toBe(2);
  });

  it('a change in this process (the store version moves) takes effect on the next request', async () => {
    const { s, auth } = setup();
    await auth.resolveActor(bearer('tok'));
    s.tokens.clear(); // revoked
    s.version += 1;
    await expect(auth.resolveActor(bearer('tok'))).rejects.toMatchObject({ code: 'unauthenticated', status: 401 });
    s.tokens.set(hashToken('tok'), { user: user('deactivated'), tokenId: 'tok_1' });
    s.version += 1;
    await expect(auth.resolveActor(bearer('tok'))).rejects.toMatchObject({ code: 'user_not_active' });
  });

  it('a change made by another process is seen within cacheMs', async () => {
    const { s, auth, tick } = setup();
    await auth.resolveActor(bearer('tok'));
    s.tokens.clear(); // revoked elsewhere: the version here does not move
    tick(2_000);
    await expect(auth.resolveActor(bearer('tok'))).rejects.toMatchObject({ code: 'unauthenticated' });
  });

  it('keeps nothing read while a change was being made, nor a missing token or an inactive user', async () => {
    const { s, auth } = setup();
    s.during = () => (s.version += 1); // a revocation commits while the lookup runs
    await auth.resolveActor(bearer('tok'));
    await auth.resolveActor(bearer('tok'));
    expect(s.lookups).toBe(2);
    await expect(auth.resolveActor(bearer('nope'))).rejects.toMatchObject({ code: 'unauthenticated' });
    await expect(auth.resolveActor(bearer('nope'))).rejects.toMatchObject({ code: 'unauthenticated' });
    expect(s.lookups).toBe(4);
    s.tokens.set(hashToken('tok'), { user: user('deactivated'), tokenId: 'tok_1' });
    s.version += 1;
    await expect(auth.resolveActor(bearer('tok'))).rejects.toMatchObject({ code: 'user_not_active' });
    s.tokens.set(hashToken('tok'), { user: user('active'), tokenId: 'tok_1' }); // restored elsewhere
    expect((await auth.resolveActor(bearer('tok')))?.actor.user.state).toBe('active');
  });

  it('writes a token last use at most once per interval', async () => {
    const { s, auth, tick } = setup();
    await auth.resolveActor(bearer('tok'));
    tick(30_000);
    await auth.resolveActor(bearer('tok'));
    expect(s.marks).toBe(1);
    tick(30_000);
    await auth.resolveActor(bearer('tok'));
    expect(s.marks).toBe(2);
  });

  it('sessions: cached, but an expired one is refused at once', async () => {
    let now = 1_000;
    const { s, auth } = setup({ now: () => now });
    expect((await auth.resolveActor(cookie('sid')))?.kind).toBe('session');
    expect((await auth.resolveActor(cookie('sid')))?.kind).toBe('session');
    expect(s.lookups).toBe(1);
    now = 10_001;
    expect(await auth.resolveActor(cookie('sid'))).toBeNull();
    s.sessions.clear(); // signed out in this process
    s.version += 1;
    now = 1_000;
    expect(await auth.resolveActor(cookie('sid'))).toBeNull();
  });
});
