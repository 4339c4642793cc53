import { notFound } from '../../../platform/errors.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { accountsPolicies } from '../policies.js';
import { authorize } from '../../../platform/authorize.js';
import { credentialsChanged } from '../credentials.js';

/** Revokes an API token: your own, or any token of the account for admins. */
export async function revokeApiToken(env: CommandEnv, actor: Actor, tokenId: string): Promise<void> {
  await env.db.transaction().execute(async (trx) => {
    const t = await trx.selectFrom('api_tokens').selectAll().where('id', '=', tokenId).where('account_id', '=', actor.accountId).where('revoked_at', 'is', null).executeTakeFirst();
    if (!t) throw notFound('API token');
    authorize(actor, accountsPolicies.revokeToken, { userId: t.user_id });
    await trx.updateTable('api_tokens').set({ revoked_at: env.now() }).where('id', '=', t.id).execute();
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'api_token.revoked', targetType: 'api_token', targetId: t.id, at: env.now() });
  });
  credentialsChanged();
}
