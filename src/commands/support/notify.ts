import { newId } from '../../store/ids.js';
import type { Executor } from './context.js';

/** Writes in-app notifications, inside the caller's transaction. */
export async function notifyUsers(trx: Executor, p: { accountId: string; userIds: string[]; kind: string; message: string; data?: Record<string, unknown>; at: number }): Promise<void> {
  for (const userId of [...new Set(p.userIds)]) {
    await trx
      .insertInto('notifications')
      .values({ id: newId('ntf'), account_id: p.accountId, user_id: userId, kind: p.kind, message: p.message, data: JSON.stringify(p.data ?? {}), created_at: p.at, read_at: null })
      .execute();
  }
}

export async function adminIds(trx: Executor, accountId: string): Promise<string[]> {
  const rows = await trx.selectFrom('users').select('id').where('account_id', '=', accountId).where('state', '=', 'active').where('role', 'in', ['admin', 'super_admin']).execute();
  return rows.map((r) => r.id);
}
