import type { Actor, CommandEnv } from '../../../platform/context.js';
import { notFound } from '../../../platform/errors.js';

/** Marks one of the actor's own notifications read (404 for anyone else's). */
export async function markNotificationRead(env: CommandEnv, actor: Actor, id: string): Promise<void> {
  const r = await env.db.updateTable('notifications').set({ read_at: env.now() }).where('id', '=', id).where('user_id', '=', actor.user.id).where('account_id', '=', actor.accountId).executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) throw notFound('Notification');
}
