import { AppError, notFound } from '../../../platform/errors.js';
import type { Executor } from '../../../platform/context.js';

/**
 * Undo send: cancels an email still inside its undo window (held `queued`, send time in the future),
 * only for the user who sent it. The sender's claim (`state in (queued, scheduled)` once the send time has
 * come) and this update exclude each other, so an email is never both undone and sent. Too late (the window
 * passed, or the sender claimed it): 409 `too_late_to_undo`, and the email goes out once.
 * Inside the caller's transaction.
 */
export async function undoSend(trx: Executor, input: { accountId: string; userId: string; outboxId: string; now: number }): Promise<{ outboxId: string; conversationId: string | null }> {
  const row = await trx
    .selectFrom('outbox')
    .select(['id', 'state', 'send_at', 'conversation_id', 'user_id'])
    .where('id', '=', input.outboxId)
    .where('account_id', '=', input.accountId)
    .executeTakeFirst();
  if (!row || row.user_id !== input.userId) throw notFound('Email');
  if (row.state === 'cancelled') throw new AppError('already_undone', 409, 'This email was already undone or cancelled.', { state: row.state });
  if (row.state === 'scheduled') throw new AppError('invalid_state_change', 409, 'This email is scheduled, not waiting to be undone: cancel it instead.', { state: row.state });
  const r = await trx
    .updateTable('outbox')
    .set({ state: 'cancelled', last_error: null })
    .where('id', '=', row.id)
    .where('state', '=', 'queued')
    .where('send_at', '>', input.now)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) {
    throw new AppError('too_late_to_undo', 409, 'Too late to undo: this email has already been sent (or is being sent right now). It goes out once.', { state: row.state });
  }
  return { outboxId: row.id, conversationId: row.conversation_id };
}
