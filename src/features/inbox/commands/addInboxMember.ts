import { invalidRequest, notFound } from '../../../platform/errors.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { loadLiveInbox } from '../queries.js';
import { inboxMembersView } from '../settings.js';
import { inboxPolicies } from '../policies.js';
import { authorize } from '../../../platform/authorize.js';

/**
 * Lists a user or a team on an inbox. Members matter when the inbox's access is "restricted" (with
 * "everyone", every active user is a member already). Adding someone twice changes nothing.
 */
export async function addInboxMember(env: CommandEnv, actor: Actor, inboxId: string, input: { userId?: string; teamId?: string }) {
  return env.db.transaction().execute(async (trx) => {
    const inbox = await loadLiveInbox(trx, actor.accountId, inboxId);
    authorize(actor, inboxPolicies.manageMembersAndRouting);
    if (Boolean(input.userId) === Boolean(input.teamId)) throw invalidRequest('Give either a userId or a teamId.', { field: 'userId' });
    const type = input.userId ? 'user' : 'team';
    const id = (input.userId ?? input.teamId)!;
    const found =
      type === 'user'
        ? await trx.selectFrom('users').select(['id', 'state']).where('id', '=', id).where('account_id', '=', actor.accountId).executeTakeFirst()
        : await trx.selectFrom('teams').select(['id']).where('id', '=', id).where('account_id', '=', actor.accountId).executeTakeFirst();
    if (!found || ('state' in found && found.state === 'removed')) throw notFound(type === 'user' ? 'User' : 'Team');
    const exists = await trx.selectFrom('inbox_members').select('member_id').where('inbox_id', '=', inbox.id).where('member_type', '=', type).where('member_id', '=', id).executeTakeFirst();
    if (!exists) {
      const now = env.now();
      await trx.insertInto('inbox_members').values({ inbox_id: inbox.id, account_id: actor.accountId, member_type: type, member_id: id, created_at: now }).execute();
      await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'inbox.member_added', targetType: 'inbox', targetId: inbox.id, data: { type, id }, at: now });
    }
    return inboxMembersView(trx, inbox);
  });
}
