/**
 * Deactivating or removing a user unassigns their open and snoozed team conversations, so nothing
 * waits on someone who is gone (a `userStateChanged` reaction, inside the same transaction). Where the
 * team address has a routing rule, open ones go on the routing backlog and are routed again to someone
 * eligible. Closed and spam conversations keep their assignee as history; the list can still filter by them.
 */
import type { UserStateHook } from '../../accounts/index.js';
import { recordActivity } from '../queries.js';
import { afterCommit, type InboxEvent } from '../live.js';
import { addToRoutingBacklog, hasRoutingRule } from './routeIncomingConversation.js';

export const unassignDepartedUser: UserStateHook = async (trx, p, env) => {
  if (p.action === 'restore') return;
  const rows = await trx
    .selectFrom('conversations')
    .select(['id', 'inbox_id', 'status', 'connection_id'])
    .where('account_id', '=', p.accountId)
    .where('assignee_id', '=', p.userId)
    .where('kind', '=', 'team')
    .where('status', 'in', ['open', 'snoozed'])
    .where('deleted_at', 'is', null)
    .execute();
  if (!rows.length) return;
  const user = await trx.selectFrom('users').select(['name', 'state']).where('id', '=', p.userId).executeTakeFirst();
  const state = p.action === 'deactivate' ? 'deactivated' : 'removed';
  const events: InboxEvent[] = [];
  for (const r of rows) {
    await trx.updateTable('conversations').set({ assignee_id: null, updated_at: p.now }).where('id', '=', r.id).execute();
    await recordActivity(trx, {
      accountId: p.accountId,
      conversationId: r.id,
      kind: 'assignment',
      actorUserId: null,
      at: p.now,
      data: { by: 'user_left', previousAssigneeId: p.userId, assigneeId: null, summary: `Unassigned: ${user?.name ?? 'the assignee'} was ${state}.` },
    });
    if (r.inbox_id && r.status === 'open' && (await hasRoutingRule(trx, r.connection_id))) {
      await addToRoutingBacklog(trx, { conversationId: r.id, accountId: p.accountId, inboxId: r.inbox_id, reason: 'assignee_left', now: p.now });
    }
    if (r.inbox_id) events.push({ type: 'conversation.updated', inboxId: r.inbox_id, conversationId: r.id, at: p.now, data: { assigneeId: null } });
  }
  afterCommit(env, async (db) => (await db.selectFrom('users').select('state').where('id', '=', p.userId).executeTakeFirst())?.state === state, events);
};
