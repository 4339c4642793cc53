import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv, Executor } from '../../../platform/context.js';
import { accountsPolicies } from '../policies.js';
import { authorize } from '../../../platform/authorize.js';
import { loadTeam } from '../queries.js';
import { notifyUsers } from '../../notifications/index.js';

/** One thing another feature changed because a team was deleted (a routing rule retargeted, an inbox's member list...). */
export interface TeamDeletionAdjustment {
  /** e.g. inbox_member_removed, routing_rule_retargeted, routing_rule_disabled. */
  kind: string;
  /** What was changed, in words (shown to the admin and written in the audit log). */
  summary: string;
  inboxId?: string;
  connectionId?: string;
  conversationIds?: string[];
}

/**
 * What other features do inside the delete transaction, before the team and its memberships go, so that
 * nothing is left pointing at it. Each answers what it changed.
 */
export type TeamDeletionHook = (trx: Executor, p: { accountId: string; teamId: string; teamName: string; memberIds: string[]; actorUserId: string; now: number }, env: CommandEnv) => Promise<TeamDeletionAdjustment[]>;

declare module '../../../platform/reactions.js' {
  interface Reactions {
    /** Run before a team is deleted, inside that transaction. */
    teamDeleting: readonly TeamDeletionHook[];
  }
}

/**
 * Deletes a team (admins only). Other features first let go of it (inbox member lists, routing rules;
 * see src/app/features.ts), then its members leave it (a member whose primary team it was gets another of
 * their teams, or none) and are told, and the team goes. Users stay; everything they logged stays.
 */
export async function deleteTeam(env: CommandEnv, actor: Actor, teamId: string) {
  authorize(actor, accountsPolicies.deleteTeam);
  const now = env.now();
  return env.db.transaction().execute(async (trx) => {
    const team = await loadTeam(trx, actor.accountId, teamId);
    const memberIds = (await trx.selectFrom('team_members').select('user_id').where('team_id', '=', team.id).execute()).map((r) => r.user_id);
    const adjustments: TeamDeletionAdjustment[] = [];
    for (const h of env.reactions.teamDeleting) adjustments.push(...(await h(trx, { accountId: actor.accountId, teamId: team.id, teamName: team.name, memberIds, actorUserId: actor.user.id, now }, env)));
    await trx.deleteFrom('team_members').where('team_id', '=', team.id).execute();
    const primaries = await trx.selectFrom('users').select('id').where('account_id', '=', actor.accountId).where('primary_team_id', '=', team.id).execute();
    for (const u of primaries) {
      const other = await trx.selectFrom('team_members').innerJoin('teams', 'teams.id', 'team_members.team_id').select('teams.id').where('team_members.user_id', '=', u.id).orderBy('teams.name').limit(1).executeTakeFirst();
      await trx.updateTable('users').set({ primary_team_id: other?.id ?? null }).where('id', '=', u.id).execute();
    }
    await trx.deleteFrom('teams').where('id', '=', team.id).execute();
    const told = memberIds.filter((id) => id !== actor.user.id);
    if (told.length) {
      await notifyUsers(trx, {
        accountId: actor.accountId,
        userIds: told,
        kind: 'team_deleted',
        message: `${actor.user.name} deleted the team ${team.name}; you are no longer in it.${adjustments.length ? ' Inbox access and routing that went through it changed.' : ''}`,
        data: { teamId: team.id, teamName: team.name },
        at: now,
      });
    }
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'team.deleted', targetType: 'team', targetId: team.id, data: { name: team.name, memberIds, adjustments }, at: now });
    return { id: team.id, name: team.name, memberIds, adjustments };
  });
}
