import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { loadInbox } from '../views.js';
import { disconnectEmail } from '../../connections/index.js';
import { inboxPolicies } from '../policies.js';
import { authorize } from '../../../platform/authorize.js';

/** Deletes an inbox: its team addresses are disconnected first (with the usual notifications); conversations stay in the database. */
export async function deleteInbox(env: CommandEnv, actor: Actor, inboxId: string): Promise<void> {
  authorize(actor, inboxPolicies.delete);
  await env.db.transaction().execute(async (trx) => {
    const inbox = await loadInbox(trx, actor.accountId, inboxId);
    const live = await trx.selectFrom('connections').select('id').where('inbox_id', '=', inbox.id).where('disconnected_at', 'is', null).execute();
    for (const c of live) await disconnectEmail(env, actor, c.id, trx);
    const now = env.now();
    await trx.updateTable('inboxes').set({ deleted_at: now }).where('id', '=', inbox.id).execute();
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'inbox.deleted', targetType: 'inbox', targetId: inbox.id, data: { name: inbox.name, disconnected: live.map((c) => c.id) }, at: now });
  });
}
