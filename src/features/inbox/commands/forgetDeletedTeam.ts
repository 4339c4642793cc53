/**
 * A team is being deleted (a `teamDeleting` reaction, inside that transaction): nothing in the inbox may
 * keep pointing at it. The team leaves the member lists of the inboxes that listed it (in a restricted
 * inbox, conversations assigned to people who were members only through it are unassigned, and routed
 * again where a rule says so), and every routing rule that named it is retargeted to the rest of its pool,
 * or disabled when the team was all it had; each change is audited and the rule's last editor and the
 * admins are told.
 */
import type { TeamDeletionAdjustment, TeamDeletionHook } from '../../accounts/index.js';
import { adminIds, notifyUsers } from '../../notifications/index.js';
import { recordAudit } from '../../../platform/audit.js';
import { parseStoredRule, routingRuleWithoutTeam } from '../domain/routing.js';
import { afterCommit, type InboxEvent } from '../live.js';
import { unassignNonMembers } from './removeInboxMember.js';

export const forgetDeletedTeam: TeamDeletionHook = async (trx, p, env) => {
  const adjustments: TeamDeletionAdjustment[] = [];
  const events: InboxEvent[] = [];

  const listedIn = await trx
    .selectFrom('inbox_members')
    .innerJoin('inboxes', 'inboxes.id', 'inbox_members.inbox_id')
    .selectAll('inboxes')
    .where('inbox_members.account_id', '=', p.accountId)
    .where('inbox_members.member_type', '=', 'team')
    .where('inbox_members.member_id', '=', p.teamId)
    .execute();
  for (const inbox of listedIn) {
    await trx.deleteFrom('inbox_members').where('inbox_id', '=', inbox.id).where('member_type', '=', 'team').where('member_id', '=', p.teamId).execute();
    if (inbox.deleted_at !== null) continue;
    const unassigned = inbox.access === 'restricted' ? await unassignNonMembers(trx, inbox, { actorUserId: p.actorUserId, now: p.now, by: 'team_deleted', summary: `Unassigned: the team ${p.teamName} was deleted and the assignee is no longer a member of ${inbox.name}.` }) : [];
    events.push(...unassigned);
    await recordAudit(trx, { accountId: p.accountId, actorUserId: p.actorUserId, action: 'inbox.member_removed', targetType: 'inbox', targetId: inbox.id, data: { type: 'team', id: p.teamId, reason: 'team_deleted' }, at: p.now });
    adjustments.push({
      kind: 'inbox_member_removed',
      summary: `${p.teamName} left the members of ${inbox.name}${unassigned.length ? `; ${unassigned.length} conversation${unassigned.length === 1 ? '' : 's'} assigned to people who were members only through it unassigned` : ''}.`,
      inboxId: inbox.id,
      conversationIds: unassigned.map((e) => e.conversationId),
    });
  }

  const rules = await trx
    .selectFrom('routing_rules')
    .innerJoin('connections', 'connections.id', 'routing_rules.connection_id')
    .innerJoin('inboxes', 'inboxes.id', 'routing_rules.inbox_id')
    .select(['routing_rules.connection_id', 'routing_rules.inbox_id', 'routing_rules.rule', 'routing_rules.updated_by', 'connections.address', 'inboxes.name as inboxName'])
    .where('routing_rules.account_id', '=', p.accountId)
    .execute();
  const admins = await adminIds(trx, p.accountId);
  for (const r of rules) {
    const before = parseStoredRule(r.rule);
    const after = routingRuleWithoutTeam(before, p.teamId);
    if (!after) continue;
    await trx.updateTable('routing_rules').set({ rule: JSON.stringify(after.rule), rr_last_user_id: null, updated_at: p.now, updated_by: p.actorUserId }).where('connection_id', '=', r.connection_id).execute();
    await recordAudit(trx, { accountId: p.accountId, actorUserId: p.actorUserId, action: 'inbox.routing_rule_set', targetType: 'connection', targetId: r.connection_id, data: { inboxId: r.inbox_id, rule: after.rule, previous: before, reason: 'team_deleted', teamId: p.teamId, teamName: p.teamName }, at: p.now });
    const summary = after.disabled
      ? before.kind === 'users'
        ? `The routing rule of ${r.address} (${r.inboxName}) routed only to ${p.teamName}; it is off now and new conversations stay unassigned until someone sets a rule.`
        : `The contact-owner fallback of ${r.address} (${r.inboxName}) routed only to ${p.teamName}; it has no fallback now.`
      : `The routing rule of ${r.address} (${r.inboxName}) no longer routes to ${p.teamName}; it routes to the rest of its people and teams.`;
    adjustments.push({ kind: after.disabled ? 'routing_rule_disabled' : 'routing_rule_retargeted', summary, inboxId: r.inbox_id, connectionId: r.connection_id });
    const told = [...new Set([...(r.updated_by ? [r.updated_by] : []), ...admins])].filter((id) => id !== p.actorUserId);
    const active = told.length ? (await trx.selectFrom('users').select('id').where('id', 'in', told).where('state', '=', 'active').execute()).map((u) => u.id) : [];
    if (active.length) await notifyUsers(trx, { accountId: p.accountId, userIds: active, kind: 'routing_rule_changed', message: `Team ${p.teamName} was deleted. ${summary}`, data: { inboxId: r.inbox_id, connectionId: r.connection_id, teamId: p.teamId, disabled: after.disabled }, at: p.now });
  }

  afterCommit(env, async (db) => !(await db.selectFrom('teams').select('id').where('id', '=', p.teamId).executeTakeFirst()), events);
  return adjustments;
};
