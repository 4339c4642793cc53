import { AppError, invalidRequest } from '../../../platform/errors.js';
import { isUniqueViolation } from '../../../platform/database/database.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { accountsPolicies } from '../policies.js';
import { authorize } from '../../../platform/authorize.js';
import { listTeams, loadTeam } from '../queries.js';

/** Renames a team (admins only). Inboxes and routing rules name teams by id, so they follow the new name. */
export async function renameTeam(env: CommandEnv, actor: Actor, teamId: string, input: { name: string }) {
  authorize(actor, accountsPolicies.renameTeam);
  const name = input.name?.trim();
  if (!name) throw invalidRequest('A team needs a name.', { field: 'name' });
  const now = env.now();
  try {
    return await env.db.transaction().execute(async (trx) => {
      const team = await loadTeam(trx, actor.accountId, teamId);
      if (team.name !== name) {
        await trx.updateTable('teams').set({ name }).where('id', '=', team.id).execute();
        await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'team.renamed', targetType: 'team', targetId: team.id, data: { from: team.name, to: name }, at: now });
      }
      const [view] = await listTeams(trx, actor.accountId, [team.id]);
      return view!;
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('team_name_taken', 409, `There is already a team called "${name}". Pick another name.`, { field: 'name' });
    throw err;
  }
}
