import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { loadEditableTemplate } from '../templates.js';

/** Deletes a template or snippet (its owner, or an admin for a shared one). Emails already sent keep their text. Audited. */
export async function deleteEmailTemplate(env: CommandEnv, actor: Actor, id: string): Promise<{ deleted: true; id: string }> {
  const now = env.now();
  return env.db.transaction().execute(async (trx) => {
    const row = await loadEditableTemplate(trx, actor, id, 'delete');
    await trx.deleteFrom('email_templates').where('id', '=', row.id).execute();
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: `email_${row.kind}.deleted`, targetType: row.kind, targetId: row.id, data: { name: row.name }, at: now });
    return { deleted: true as const, id: row.id };
  });
}
