import { notFound } from '../../../platform/errors.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv, Executor } from '../../../platform/context.js';
import type { InboxesTable } from '../../../platform/database/schema.js';
import { inboxMemberIds, loadLiveInbox, recordActivity } from '../queries.js';
import { inboxMembersView } from '../settings.js';
import { afterCommit, type InboxEvent } from '../live.js';
import { addToRoutingBacklog, hasRoutingRule } from './routeIncomingConversation.js';
import { inboxPolicies } from '../policies.js';
import { authorize } from '../../../platform/authorize.js';

/**
 * Takes a user or team off an inbox. Open and snoozed conversations assigned to people who are no
 * longer members are unassigned (they could no longer answer them); open ones go on the routing backlog
 * where the team address has a rule.
 */
export async function removeInboxMember(env: CommandEnv, actor: Actor, inboxId: string, memberId: string) {
  const now = env.now();
  const events: InboxEvent[] = [];
  const view = await env.db.transaction().execute(async (trx) => {
    const inbox = await loadLiveInbox(trx, actor.accountId, inboxId);
    authorize(actor, inboxPolicies.manageMembersAndRouting);
    const row = await trx.selectFrom('inbox_members').selectAll().where('inbox_id', '=', inbox.id).where('member_id', '=', memberId).executeTakeFirst();
    if (!row) throw notFound('Inbox member');
    await trx.deleteFrom('inbox_members').where('inbox_id', '=', inbox.id).where('member_id', '=', memberId).execute();
    if (inbox.access === 'restricted') events.push(...(await unassignNonMembers(trx, inbox, { actorUserId: actor.user.id, now, by: 'member_removed', summary: `Unassigned: the assignee is no longer a member of ${inbox.name}.` })));
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'inbox.member_removed', targetType: 'inbox', targetId: inbox.id, data: { type: row.member_type, id: memberId }, at: now });
    return inboxMembersView(trx, inbox);
  });
  afterCommit(env, async () => true, events);
  return view;
}

/**
 * Unassigns the open and snoozed conversations of a restricted inbox whose assignee is no longer a member
 * (they could no longer answer them); open ones go on the routing backlog where the team address has a
 * rule. Answers the live events to publish after commit.
 */
export async function unassignNonMembers(trx: Executor, inbox: InboxesTable, p: { actorUserId: string; now: number; by: string; summary: string }): Promise<InboxEvent[]> {
  const events: InboxEvent[] = [];
  const members = await inboxMemberIds(trx, inbox);
  const orphaned = await trx.selectFrom('conversations').select(['id', 'assignee_id', 'status', 'connection_id']).where('inbox_id', '=', inbox.id).where('status', 'in', ['open', 'snoozed']).where('assignee_id', 'is not', null).where('deleted_at', 'is', null).execute();
  for (const c of orphaned.filter((c) => !members.has(c.assignee_id!))) {
    await trx.updateTable('conversations').set({ assignee_id: null, updated_at: p.now }).where('id', '=', c.id).execute();
    await recordActivity(trx, { accountId: inbox.account_id, conversationId: c.id, kind: 'assignment', actorUserId: p.actorUserId, at: p.now, data: { by: p.by, previousAssigneeId: c.assignee_id, assigneeId: null, summary: p.summary } });
    if (c.status === 'open' && (await hasRoutingRule(trx, c.connection_id))) await addToRoutingBacklog(trx, { conversationId: c.id, accountId: inbox.account_id, inboxId: inbox.id, reason: 'assignee_not_member', now: p.now });
    events.push({ type: 'conversation.updated', inboxId: inbox.id, conversationId: c.id, at: p.now, data: { assigneeId: null } });
  }
  return events;
}
