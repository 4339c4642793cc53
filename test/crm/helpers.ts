import type { Actor } from '../../src/platform/context.js';
import type { TestApp } from '../support/app.js';

let n = 0;

/** Adds a user to an account through the API and returns its id and an API token. */
export async function addUser(t: TestApp, adminToken: string, opts: { role?: 'admin' | 'member'; seat?: 'paid' | 'free' | 'view_only'; name?: string; email?: string } = {}) {
  n += 1;
  const email = opts.email ?? `user-${process.pid}-${n}-${Math.random().toString(36).slice(2, 7)}@example.com`;
  const u = await t.api(adminToken, 'POST', '/api/v1/users', { email, name: opts.name ?? `User ${n}`, role: opts.role ?? 'member', seat: opts.seat ?? 'paid', password: 'correct horse battery' });
  if (u.statusCode !== 201) throw new Error(`creating a user failed: ${u.body}`);
  const userId = u.json().user.id as string;
  const tok = await t.api(adminToken, 'POST', '/api/v1/tokens', { name: 'test', userId });
  if (tok.statusCode !== 201) throw new Error(`creating a token failed: ${tok.body}`);
  return { userId, email, token: tok.json().token as string };
}

/** The actor for calling commands directly as a user. */
export async function actorOf(t: TestApp, userId: string): Promise<Actor> {
  const user = await t.env.db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirstOrThrow();
  const acc = await t.env.db.selectFrom('accounts').select('plan').where('id', '=', user.account_id).executeTakeFirstOrThrow();
  return { user, accountId: user.account_id, plan: acc.plan };
}

/** Audit events of an account with the given action. */
export async function auditOf(t: TestApp, accountId: string, action: string) {
  const rows = await t.env.db.selectFrom('audit_events').selectAll().where('account_id', '=', accountId).where('action', '=', action).orderBy('created_at').execute();
  return rows.map((r) => ({ ...r, data: JSON.parse(r.data) as Record<string, unknown> }));
}
