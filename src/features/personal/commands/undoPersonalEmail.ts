import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { undoSend } from '../../outbox/index.js';
import { loadOwnPersonalEmail, personalEmailViews, type PersonalEmailView } from '../queries.js';

/**
 * Undo send of a one-to-one email still inside its sender's undo window: its outbox entry is cancelled and
 * the composer puts the draft back. Only the user who sent it (anyone else: 404). Too late (the window
 * passed or the outbox took it): 409 `too_late_to_undo`, and it is sent once. Audited.
 */
export async function undoPersonalEmail(env: CommandEnv, actor: Actor, personalEmailId: string): Promise<PersonalEmailView> {
  const now = env.now();
  return env.db.transaction().execute(async (trx) => {
    const row = await loadOwnPersonalEmail(trx, actor, personalEmailId);
    await undoSend(trx, { accountId: actor.accountId, userId: actor.user.id, outboxId: row.outbox_id, now });
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'personal_email.undone', targetType: 'personal_email', targetId: row.id, at: now });
    const [view] = await personalEmailViews(trx, [row]);
    return view!;
  });
}
