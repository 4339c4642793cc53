import { AppError } from '../../../platform/errors.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv, Executor } from '../../../platform/context.js';
import { loadOwnPersonalEmail, personalEmailViews, type PersonalEmailView } from '../queries.js';

/**
 * Stops the outbox entry of a personal email that has not left yet (scheduled, or queued and not yet
 * picked up). Inside the caller's transaction; 409 when it already left or is being sent. The claim in the
 * sender (`state in (queued, scheduled)`) and this update exclude each other, so it is never both sent
 * and cancelled.
 */
export async function stopBeforeSending(trx: Executor, outboxId: string): Promise<void> {
  const r = await trx.updateTable('outbox').set({ state: 'cancelled' }).where('id', '=', outboxId).where('state', 'in', ['scheduled', 'queued']).executeTakeFirst();
  if (Number(r.numUpdatedRows) === 1) return;
  const row = await trx.selectFrom('outbox').select(['state']).where('id', '=', outboxId).executeTakeFirst();
  const state = row?.state ?? 'unknown';
  const message =
    state === 'cancelled'
      ? 'This email was already cancelled.'
      : state === 'sending' || state === 'sent' || state === 'uncertain'
        ? 'This email has already left (or is leaving right now), so it can no longer be cancelled or changed.'
        : `This email is ${state} and can no longer be cancelled or changed.`;
  throw new AppError('email_not_cancellable', 409, message, { state });
}

/** Cancels a scheduled email. Only the user who scheduled it may (anyone else: 404). Audited. */
export async function cancelScheduledEmail(env: CommandEnv, actor: Actor, personalEmailId: string): Promise<PersonalEmailView> {
  return env.db.transaction().execute(async (trx) => {
    const row = await loadOwnPersonalEmail(trx, actor, personalEmailId);
    await stopBeforeSending(trx, row.outbox_id);
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'personal_email.cancelled', targetType: 'personal_email', targetId: row.id, at: env.now() });
    const [view] = await personalEmailViews(trx, [row]);
    return view!;
  });
}
