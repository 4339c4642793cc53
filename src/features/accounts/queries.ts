import { notFound } from '../../platform/errors.js';
import type { Executor, UserRow } from '../../platform/context.js';

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
