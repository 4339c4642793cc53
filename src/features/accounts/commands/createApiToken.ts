import { generateToken, hashToken } from '../../../platform/security/passwords.js';
import { newId } from '../../../platform/database/ids.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv, Executor } from '../../../platform/context.js';
import { loadUser } from '../queries.js';
import { invalidRequest } from '../../../platform/errors.js';
import { accountsPolicies } from '../policies.js';
import { authorize } from '../../../platform/authorize.js';

/** Inserts a token row (hashed) and returns the plain token once. Used inside other transactions too. */
export async function issueApiToken(
  trx: Executor,
  p: { accountId: string; userId: string; name: string; now: number },
): Promise<{ id: string; token: string }> {
  const token = generateToken('mr');
  const id = newId('tok');
  await trx
    .insertInto('api_tokens')
    .values({ id, account_id: p.accountId, user_id: p.userId, name: p.name, token_hash: hashToken(token), created_at: p.now, last_used_at: null, revoked_at: null })
    .execute();
  return { id, token };
}

export interface CreateApiTokenInput {
  /** What the token is for, shown in the token list. */
  name: string;
  /** Admins may create tokens for other users of the account; default is the actor. */
  userId?: string;
}

/** Creates an API token for scripts (`Authorization: Bearer ...`). The token is shown once. */
export async function createApiToken(env: CommandEnv, actor: Actor, input: CreateApiTokenInput) {
  const name = input.name?.trim();
  if (!name) throw invalidRequest('Give the token a name that says what it is for.');
  const userId = input.userId ?? actor.user.id;
  authorize(actor, accountsPolicies.createTokenFor, { userId });
  return env.db.transaction().execute(async (trx) => {
    const user = await loadUser(trx, actor.accountId, userId);
    if (user.state !== 'active') throw invalidRequest(`${user.name} is ${user.state}; restore the user before creating a token.`);
    const t = await issueApiToken(trx, { accountId: actor.accountId, userId, name, now: env.now() });
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'api_token.created', targetType: 'api_token', targetId: t.id, data: { userId, name }, at: env.now() });
    return { id: t.id, name, userId, token: t.token };
  });
}
