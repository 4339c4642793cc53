import { invalidRequest, permissionDenied } from '../../../platform/errors.js';
import { canConnectTeam, userFactsFromRow } from '../../accounts/index.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { inboxViewById, loadInbox } from '../views.js';

/** Renames an inbox or changes who can access it. */
export async function renameInbox(env: CommandEnv, actor: Actor, inboxId: string, input: { name?: string; access?: 'everyone' | 'restricted' }) {
  if (!canConnectTeam(userFactsFromRow(actor.user))) throw permissionDenied('Changing inboxes needs the account-access permission. Ask an admin.');
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
