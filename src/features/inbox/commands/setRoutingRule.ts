import { AppError, invalidRequest, notFound } from '../../../platform/errors.js';
import { checkRoutingRule, parseStoredRule, usersRuleOf } from '../domain/routing.js';
import { limitsFor } from '../../accounts/index.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { loadLiveInbox } from '../queries.js';
import { routingView } from '../settings.js';
import { inboxPolicies } from '../policies.js';
import { authorize } from '../../../platform/authorize.js';

/**
 * Sets the routing rule of one team address of an inbox: none (the default), specific users and teams
 * by round robin or least open load (with an optional per-user cap), or the contact owner with a
 * fallback. The users and teams must belong to the account. The plan sets how many addresses of an
 * inbox may have a rule (0: routing is not in the plan). Changing the rule resets the round-robin
 * position.
 */
export async function setRoutingRule(env: CommandEnv, actor: Actor, inboxId: string, connectionId: string, input: { rule: unknown }) {
  return env.db.transaction().execute(async (trx) => {
    const inbox = await loadLiveInbox(trx, actor.accountId, inboxId);
    const conn = await trx.selectFrom('connections').select(['id', 'address']).where('id', '=', connectionId).where('inbox_id', '=', inbox.id).where('account_id', '=', actor.accountId).where('type', '=', 'team').where('disconnected_at', 'is', null).executeTakeFirst();
    if (!conn) throw notFound('Team address');
    authorize(actor, inboxPolicies.manageMembersAndRouting);
    const checked = checkRoutingRule(input.rule);
    if (!checked.ok) throw invalidRequest(checked.message, { field: checked.field });
    const rule = checked.rule;
    const users = usersRuleOf(rule);
    if (users) {
      if (users.userIds.length) {
        const found = await trx.selectFrom('users').select('id').where('account_id', '=', actor.accountId).where('id', 'in', users.userIds).where('state', '!=', 'removed').execute();
        const missing = users.userIds.filter((id) => !found.some((f) => f.id === id));
        if (missing.length) throw invalidRequest(`These users are not in this account: ${missing.join(', ')}.`, { field: 'rule.userIds', missing });
      }
      if (users.teamIds.length) {
        const found = await trx.selectFrom('teams').select('id').where('account_id', '=', actor.accountId).where('id', 'in', users.teamIds).execute();
        const missing = users.teamIds.filter((id) => !found.some((f) => f.id === id));
        if (missing.length) throw invalidRequest(`These teams are not in this account: ${missing.join(', ')}.`, { field: 'rule.teamIds', missing });
      }
    }
    if (rule.kind !== 'none') {
      const limits = limitsFor(actor.plan);
      const others = await trx
        .selectFrom('routing_rules')
        .select('rule')
        .where('inbox_id', '=', inbox.id)
        .where('connection_id', '!=', conn.id)
        .execute();
      const used = others.filter((r) => parseStoredRule(r.rule).kind !== 'none').length;
      if (used >= limits.routingRulesPerInbox) {
        throw new AppError(
          'plan_limit_reached',
          409,
          limits.routingRulesPerInbox === 0 ? `Routing rules are not part of the ${limits.name} plan. Upgrade the plan to route conversations automatically.` : `The ${limits.name} plan allows routing rules on ${limits.routingRulesPerInbox} addresses per inbox, and all are in use. Remove one or upgrade the plan.`,
          { limit: { name: 'routingRulesPerInbox', max: limits.routingRulesPerInbox, plan: actor.plan }, current: used },
        );
      }
    }
    const now = env.now();
    await trx
      .insertInto('routing_rules')
      .values({ connection_id: conn.id, account_id: actor.accountId, inbox_id: inbox.id, rule: JSON.stringify(rule), rr_last_user_id: null, updated_at: now, updated_by: actor.user.id })
      .onConflict((oc) => oc.column('connection_id').doUpdateSet({ inbox_id: inbox.id, rule: JSON.stringify(rule), rr_last_user_id: null, updated_at: now, updated_by: actor.user.id }))
      .execute();
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'inbox.routing_rule_set', targetType: 'connection', targetId: conn.id, data: { inboxId: inbox.id, rule }, at: now });
    return routingView(trx, inbox);
  });
}
