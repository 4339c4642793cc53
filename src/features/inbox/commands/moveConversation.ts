import { invalidRequest, notFound } from '../../../platform/errors.js';
import { inboxAccessLevel } from '../domain/membership.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { accessLevelOf, conversationItemById, loadLiveInbox, membershipFacts, recordActivity, requireConversation } from '../queries.js';
import { inboxEvents } from '../live.js';
import { refreshConversationSla } from '../sla.js';

/**
 * Moves a conversation to another inbox of the account (a member of the current inbox may move it to
 * any inbox they can see). The assignee stays when they are a member of the new inbox, else it is
 * unassigned. Replies still go out from the team address the customer wrote to, so threading holds.
 */
export async function moveConversation(env: CommandEnv, actor: Actor, conversationId: string, input: { inboxId: string }) {
  const now = env.now();
  const r = await env.db.transaction().execute(async (trx) => {
    const { conversation, inbox } = await requireConversation(trx, actor, conversationId, 'act');
    const target = await loadLiveInbox(trx, actor.accountId, input.inboxId).catch(() => null);
    if (!target || (await accessLevelOf(trx, actor, target)) === 'none') throw notFound('Inbox');
    if (target.id === inbox.id) throw invalidRequest(`This conversation is already in ${inbox.name}.`, { field: 'inboxId' });
    let assignee = conversation.assignee_id;
    if (assignee) {
      const u = await trx.selectFrom('users').selectAll().where('id', '=', assignee).executeTakeFirst();
      if (!u || inboxAccessLevel(u, await membershipFacts(trx, target, u.id)) !== 'act') assignee = null;
    }
    await trx.updateTable('conversations').set({ inbox_id: target.id, assignee_id: assignee, updated_at: now }).where('id', '=', conversation.id).execute();
    await recordActivity(trx, {
      accountId: actor.accountId,
      conversationId: conversation.id,
      kind: 'move',
      actorUserId: actor.user.id,
      at: now,
      data: { fromInboxId: inbox.id, fromInboxName: inbox.name, toInboxId: target.id, toInboxName: target.name, unassigned: assignee !== conversation.assignee_id, summary: `${actor.user.name} moved this from ${inbox.name} to ${target.name}${assignee !== conversation.assignee_id ? ' (unassigned: the assignee is not a member there)' : ''}.` },
    });
    await refreshConversationSla(trx, [conversation.id], now); // the new inbox's targets, or none
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'conversation.moved', targetType: 'conversation', targetId: conversation.id, data: { from: inbox.id, to: target.id }, at: now });
    return { conversation, from: inbox, to: target, assignee };
  });
  await inboxEvents.publish(env, [
    { type: 'conversation.moved_out', inboxId: r.from.id, conversationId: r.conversation.id, at: now, data: { toInboxId: r.to.id } },
    { type: 'conversation.moved_in', inboxId: r.to.id, conversationId: r.conversation.id, at: now, data: { fromInboxId: r.from.id, assigneeId: r.assignee } },
  ]);
  return conversationItemById(env.db, actor.accountId, r.conversation.id, now);
}
