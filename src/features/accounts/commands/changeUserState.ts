import { recordEvent } from '../../../platform/events.js';
import { AppError } from '../../../platform/errors.js';
import { checkUserStateChange, userFactsFromRow, type UserStateAction } from '../domain/users.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv, Executor } from '../../../platform/context.js';
import { loadUser, teamIdsOf } from '../queries.js';
import { assertSeatAvailable } from './createUser.js';
import { userView } from '../views.js';
import { credentialsChanged } from '../credentials.js';

/**
 * What other features do inside the same transaction when a user leaves or comes back (unassign
 * conversations...).
 */
export type UserStateHook = (trx: Executor, p: { accountId: string; userId: string; action: UserStateAction; now: number }, env: CommandEnv) => Promise<void>;

declare module '../../../platform/reactions.js' {
  interface Reactions {
    /** Run when a user is deactivated, removed or restored, inside that transaction. */
    userStateChanged: readonly UserStateHook[];
  }
}

/**
 * Deactivates, removes or restores a user (admins only). Deactivated and removed users cannot sign in;
 * everything they logged stays. Restoring a removed user needs a free seat.
 */
export async function changeUserState(env: CommandEnv, actor: Actor, userId: string, action: UserStateAction, trxIn?: Executor) {
  const run = async (trx: Executor) => {
    const target = await loadUser(trx, actor.accountId, userId);
    const supers = await trx.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', actor.accountId).where('role', '=', 'super_admin').where('state', '=', 'active').executeTakeFirstOrThrow();
    const next = checkUserStateChange(userFactsFromRow(actor.user), userFactsFromRow(target), action, Number(supers.n));
    if (!next.ok) throw new AppError(next.code, next.status, next.message, next.details ?? {});
    if (action === 'restore' && target.state === 'removed') await assertSeatAvailable(trx, actor.accountId, actor.plan, target.seat, target.id);
    const now = env.now();
    await trx.updateTable('users').set({ state: next.state, state_changed_at: now }).where('id', '=', target.id).execute();
    credentialsChanged();
    if (action !== 'restore') await trx.deleteFrom('sessions').where('user_id', '=', target.id).execute();
    for (const h of env.reactions.userStateChanged) await h(trx, { accountId: actor.accountId, userId: target.id, action, now }, env);
    if (action !== 'restore') await recordEvent(trx, { accountId: actor.accountId, type: action === 'deactivate' ? 'user.deactivated' : 'user.removed', subject: { type: 'user', id: target.id }, data: { userId: target.id }, at: now });
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: `user.${action === 'deactivate' ? 'deactivated' : action === 'remove' ? 'removed' : 'restored'}`, targetType: 'user', targetId: target.id, data: { from: target.state, to: next.state }, at: now });
    const updated = await loadUser(trx, actor.accountId, target.id);
    return userView(updated, await teamIdsOf(trx, target.id));
  };
  if (trxIn) return run(trxIn);
  const view = await env.db.transaction().execute(run);
  credentialsChanged();
  return view;
}
