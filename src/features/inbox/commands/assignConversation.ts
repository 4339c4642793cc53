import { recordEvent } from '../../../platform/events.js';
import { AppError, notFound } from '../../../platform/errors.js';
import { inboxAccessLevel } from '../domain/membership.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { conversationItemById, membershipFacts, recordActivity, requireConversation } from '../queries.js';
import { inboxEvents } from '../live.js';
import { notifyUsers } from '../../notifications/index.js';

/**
 * Assigns a conversation to a member of its inbox, or unassigns it (null). Only members act; the
 * assignee must be an active member who can act in the inbox. Records who did it, and tells the new
 * assignee.
 */
export async function assignConversation(env: CommandEnv, actor: Actor, conversationId: string, input: { assigneeId: string | null }) {
  const now = env.now();
  const result = await env.db.transaction().execute(async (trx) => {
    const { conversation, inbox } = await requireConversation(trx, actor, conversationId, 'act');
    let assignee: { id: string; name: string } | null = null;
    if (input.assigneeId) {
      const u = await trx.selectFrom('users').selectAll().where('id', '=', input.assigneeId).where('account_id', '=', actor.accountId).executeTakeFirst();
      if (!u) throw notFound('User');
      if (u.state !== 'active') throw new AppError('assignee_not_active', 400, `${u.name} is ${u.state} and cannot be assigned conversations. Pick an active member of ${inbox.name}.`, { field: 'assigneeId' });
      const level = inboxAccessLevel(u, await membershipFacts(trx, inbox, u.id));
      if (level !== 'act') {
        throw new AppError('assignee_not_member', 400, level === 'view' ? `${u.name} can only view ${inbox.name}, not answer in it. Add them to the inbox (or give them a seat that can act) first.` : `${u.name} is not a member of ${inbox.name}. Add them to the inbox first.`, { field: 'assigneeId' });
      }
      assignee = { id: u.id, name: u.name };
    }
    const previous = conversation.assignee_id;
    if (previous === (assignee?.id ?? null)) return { conversation, inbox, changed: false };
    await trx.updateTable('conversations').set({ assignee_id: assignee?.id ?? null, updated_at: now }).where('id', '=', conversation.id).execute();
    const summary = assignee ? (assignee.id === actor.user.id ? `${actor.user.name} took this conversation.` : `${actor.user.name} assigned this to ${assignee.name}.`) : `${actor.user.name} unassigned this conversation.`;
    await recordActivity(trx, { accountId: actor.accountId, conversationId: conversation.id, kind: 'assignment', actorUserId: actor.user.id, at: now, data: { by: 'manual', assigneeId: assignee?.id ?? null, assigneeName: assignee?.name ?? null, previousAssigneeId: previous, summary } });
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'conversation.assigned', targetType: 'conversation', targetId: conversation.id, data: { from: previous, to: assignee?.id ?? null }, at: now });
    await recordEvent(trx, {
      accountId: actor.accountId,
      type: 'conversation.assigned',
      subject: { type: 'conversation', id: conversation.id },
      data: { conversationId: conversation.id, inboxId: conversation.inbox_id, assigneeId: assignee?.id ?? null, previousAssigneeId: previous },
      at: now,
    });
    if (assignee && assignee.id !== actor.user.id) {
      await notifyUsers(trx, { accountId: actor.accountId, userIds: [assignee.id], kind: 'conversation.assigned', message: `${actor.user.name} assigned you a conversation in ${inbox.name}: ${conversation.subject || '(no subject)'}`, data: { conversationId: conversation.id, inboxId: inbox.id, by: actor.user.id }, at: now });
    }
    return { conversation, inbox, changed: true, assigneeId: assignee?.id ?? null };
  });
  if (result.changed) await inboxEvents.publish(env, [{ type: 'conversation.updated', inboxId: result.inbox.id, conversationId: result.conversation.id, at: now, data: { assigneeId: result.assigneeId } }]);
  return conversationItemById(env.db, actor.accountId, result.conversation.id, now);
}
