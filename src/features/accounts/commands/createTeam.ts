import { AppError, invalidRequest } from '../../../platform/errors.js';
import { isUniqueViolation } from '../../../platform/database/database.js';
import { newId } from '../../../platform/database/ids.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { accountsPolicies } from '../policies.js';
import { authorize } from '../../../platform/authorize.js';

/** Creates a team (admins only). Users join teams through updateUser. */
export async function createTeam(env: CommandEnv, actor: Actor, input: { name: string }) {
  authorize(actor, accountsPolicies.createTeam);
  const name = input.name?.trim();
  if (!name) throw invalidRequest('A team needs a name.');
  const id = newId('team');
  const now = env.now();
  try {
    await env.db.transaction().execute(async (trx) => {
      await trx.insertInto('teams').values({ id, account_id: actor.accountId, name, created_at: now }).execute();
      await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'team.created', targetType: 'team', targetId: id, data: { name }, at: now });
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('team_name_taken', 409, `There is already a team called "${name}". Pick another name.`);
    throw err;
  }
  return { id, name, memberIds: [] as string[], createdAt: new Date(now).toISOString() };
}
