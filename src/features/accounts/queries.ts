import { notFound } from '../../platform/errors.js';
import type { Executor, UserRow } from '../../platform/context.js';
import type { PlanId } from './domain/plans.js';

/** Loads a user of the given account, or answers 404 (never reveals other accounts' ids). */
export async function loadUser(db: Executor, accountId: string, userId: string): Promise<UserRow> {
  const u = await db.selectFrom('users').selectAll().where('id', '=', userId).where('account_id', '=', accountId).executeTakeFirst();
  if (!u) throw notFound('User');
  return u;
}

export async function teamIdsOf(db: Executor, userId: string): Promise<string[]> {
  const rows = await db.selectFrom('team_members').select('team_id').where('user_id', '=', userId).execute();
  return rows.map((r) => r.team_id);
}

export async function loadAccount(db: Executor, accountId: string) {
  const a = await db.selectFrom('accounts').selectAll().where('id', '=', accountId).executeTakeFirst();
  if (!a) throw notFound('Account');
  return a;
}

/** The user of an unrevoked API token (in whatever state), the token's id and the account's plan; null when there is none. */
export async function apiTokenUser(db: Executor, tokenHash: string): Promise<{ user: UserRow; tokenId: string; plan: PlanId } | null> {
  const row = await db
    .selectFrom('api_tokens')
    .innerJoin('users', 'users.id', 'api_tokens.user_id')
    .innerJoin('accounts', 'accounts.id', 'users.account_id')
    .selectAll('users')
    .select(['api_tokens.id as token_id', 'accounts.plan as plan'])
    .where('api_tokens.token_hash', '=', tokenHash)
    .where('api_tokens.revoked_at', 'is', null)
    .executeTakeFirst();
  if (!row) return null;
  const { token_id, plan, ...user } = row;
  return { user, tokenId: token_id, plan };
}

/** The user of a session (by its stored id hash), the session's CSRF token and expiry, and the account's plan. */
export async function sessionUser(db: Executor, idHash: string): Promise<{ user: UserRow; plan: PlanId; csrfToken: string; expiresAt: number } | null> {
  const row = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .innerJoin('accounts', 'accounts.id', 'users.account_id')
    .selectAll('users')
    .select(['sessions.csrf_token as csrf_token', 'sessions.expires_at as expires_at', 'accounts.plan as plan'])
    .where('sessions.id_hash', '=', idHash)
    .executeTakeFirst();
  if (!row) return null;
  const { csrf_token, expires_at, plan, ...user } = row;
  return { user, plan, csrfToken: csrf_token, expiresAt: expires_at };
}

/** The CSRF token of a session (by its stored id hash), or null when the session is gone. */
export async function sessionCsrfToken(db: Executor, idHash: string): Promise<string | null> {
  const row = await db.selectFrom('sessions').select('csrf_token').where('id_hash', '=', idHash).executeTakeFirst();
  return row?.csrf_token ?? null;
}

/** The id, name and plan of an account (the session's `account`). */
export async function accountSummary(db: Executor, accountId: string): Promise<{ id: string; name: string; plan: string }> {
  return db.selectFrom('accounts').select(['id', 'name', 'plan']).where('id', '=', accountId).executeTakeFirstOrThrow();
}

/** The users of an account by name (optionally in one state), each with the ids of their teams. */
export async function listUsers(db: Executor, accountId: string, state?: UserRow['state']): Promise<Array<{ user: UserRow; teamIds: string[] }>> {
  let q = db.selectFrom('users').selectAll().where('account_id', '=', accountId);
  if (state) q = q.where('state', '=', state);
  const rows = await q.orderBy('name').execute();
  const members = rows.length ? await db.selectFrom('team_members').select(['user_id', 'team_id']).where('account_id', '=', accountId).execute() : [];
  const byUser = new Map<string, string[]>();
  for (const m of members) byUser.set(m.user_id, [...(byUser.get(m.user_id) ?? []), m.team_id]);
  return rows.map((user) => ({ user, teamIds: byUser.get(user.id) ?? [] }));
}

/** Loads a team of the given account, or answers 404 not_found (as for every resource: never reveals other accounts' ids). */
export async function loadTeam(db: Executor, accountId: string, teamId: string) {
  const t = await db.selectFrom('teams').selectAll().where('id', '=', teamId).where('account_id', '=', accountId).executeTakeFirst();
  if (!t) throw notFound('Team');
  return t;
}

/** The teams of an account by name (all, or those with the given ids), with their members. */
export async function listTeams(db: Executor, accountId: string, teamIds?: string[]) {
  let q = db.selectFrom('teams').selectAll().where('account_id', '=', accountId);
  if (teamIds) q = q.where('id', 'in', teamIds);
  const teams = await q.orderBy('name').execute();
  const members = teams.length ? await db.selectFrom('team_members').select(['team_id', 'user_id']).where('account_id', '=', accountId).execute() : [];
  return teams.map((t) => ({
    id: t.id,
    name: t.name,
    memberIds: members.filter((m) => m.team_id === t.id).map((m) => m.user_id),
    createdAt: new Date(t.created_at).toISOString(),
  }));
}

/** A user's own unrevoked API tokens, oldest first (never the secret). */
export async function listApiTokens(db: Executor, accountId: string, userId: string) {
  const rows = await db.selectFrom('api_tokens').selectAll().where('account_id', '=', accountId).where('user_id', '=', userId).where('revoked_at', 'is', null).orderBy('created_at').execute();
  return rows.map((t) => ({ id: t.id, name: t.name, userId: t.user_id, createdAt: new Date(t.created_at).toISOString(), lastUsedAt: t.last_used_at ? new Date(t.last_used_at).toISOString() : null }));
}

/** The account's audit events, newest first: before a time, about one target, at most `limit`. */
export async function listAuditEvents(db: Executor, accountId: string, opts: { limit: number; before?: number; targetId?: string }) {
  let q = db.selectFrom('audit_events').selectAll().where('account_id', '=', accountId);
  if (opts.before) q = q.where('created_at', '<', opts.before);
  if (opts.targetId) q = q.where('target_id', '=', opts.targetId);
  const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(opts.limit).execute();
  return rows.map((e) => ({ id: e.id, actorUserId: e.actor_user_id, action: e.action, targetType: e.target_type, targetId: e.target_id, data: JSON.parse(e.data), createdAt: new Date(e.created_at).toISOString(), at: e.created_at }));
}
