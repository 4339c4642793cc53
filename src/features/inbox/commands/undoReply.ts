import { undoSend } from '../../outbox/index.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { notFound } from '../../../platform/errors.js';
import { requireConversation } from '../queries.js';
import { inboxEvents } from '../live.js';

/**
 * Undo send of a reply (or forward) still inside its sender's undo window: the outbox entry is cancelled,
 * nothing reaches the customer, and the composer puts the draft back. Only the agent who sent it.
 * Too late (the window passed or the outbox took it): 409 `too_late_to_undo`, and it is sent once.
 */
export async function undoReply(env: CommandEnv, actor: Actor, conversationId: string, outboxId: string): Promise<{ outboxId: string; undone: true }> {
  const now = env.now();
  const r = await env.db.transaction().execute(async (trx) => {
    const { conversation, inbox } = await requireConversation(trx, actor, conversationId, 'act');
    const undone = await undoSend(trx, { accountId: actor.accountId, userId: actor.user.id, outboxId, now });
    if (undone.conversationId !== conversation.id) throw notFound('Email');
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'conversation.reply_undone', targetType: 'conversation', targetId: conversation.id, data: { outboxId }, at: now });
    return { conversation, inbox };
  });
  await inboxEvents.publish(env, [{ type: 'conversation.updated', inboxId: r.inbox.id, conversationId: r.conversation.id, at: now, data: { outboxId, undone: true } }]);
  return { outboxId, undone: true };
}
