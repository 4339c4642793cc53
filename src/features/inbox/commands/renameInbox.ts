import { invalidRequest } from '../../../platform/errors.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { inboxViewById, loadInbox } from '../views.js';
import { inboxPolicies } from '../policies.js';
import { authorize } from '../../../platform/authorize.js';

/** Renames an inbox or changes who can access it. */
export async function renameInbox(env: CommandEnv, actor: Actor, inboxId: string, input: { name?: string; access?: 'everyone' | 'restricted' }) {
  authorize(actor, inboxPolicies.change);
  return env.db.transaction().execute(async (trx) => {
    const inbox = await loadInbox(trx, actor.accountId, inboxId);
    const patch: { name?: string; access?: string } = {};
    if (input.name !== undefined) {
      if (!input.name.trim()) throw invalidRequest('An inbox needs a name.', { field: 'name' });
      patch.name = input.name.trim();
    }
    if (input.access !== undefined) patch.access = input.access;
    if (Object.keys(patch).length) await trx.updateTable('inboxes').set(patch).where('id', '=', inbox.id).execute();
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'inbox.updated', targetType: 'inbox', targetId: inbox.id, data: { from: inbox.name, ...patch }, at: env.now() });
    return inboxViewById(trx, actor.accountId, inbox.id);
  });
}
