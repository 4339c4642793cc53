import { checkRelease } from '../domain/connection-rules.js';
import { userFactsFromRow } from '../../accounts/index.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { connectionViewById, loadConnection } from '../queries.js';
import { loadUser } from '../../accounts/index.js';
import { changeUserState } from '../../accounts/index.js';
import { disconnectEmail } from './disconnectEmail.js';
import { markReleased } from '../lifecycle.js';
import { refusalError } from './connectEmail.js';

export interface ReleaseInput {
  /**
   * restore_and_disconnect: restore the (deactivated or removed) holder and disconnect the address.
   * disconnect: disconnect the address, leaving the holder as they are.
   * transfer: give the connection (and its history) to another user of the account.
   */
  action: 'restore_and_disconnect' | 'disconnect' | 'transfer';
  toUserId?: string;
}

/**
 * The one-step fix an admin is offered when an address they want is held by someone, typically a
 * deactivated or removed user. Runs in one transaction; nothing the connection logged is lost.
 */
export async function releaseConnection(env: CommandEnv, actor: Actor, connectionId: string, input: ReleaseInput) {
  return env.db.transaction().execute(async (trx) => {
    const c = await loadConnection(trx, actor.accountId, connectionId);
    const holder = await loadUser(trx, actor.accountId, c.user_id);
    const to = input.action === 'transfer' && input.toUserId ? await loadUser(trx, actor.accountId, input.toUserId) : undefined;
    const toCount = to
      ? Number(
          (
            await trx.selectFrom('connections').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', to.id).where('type', '=', 'personal').where('disconnected_at', 'is', null).executeTakeFirstOrThrow()
          ).n,
        )
      : 0;
    const inbox = c.inbox_id ? await trx.selectFrom('inboxes').select(['id', 'name']).where('id', '=', c.inbox_id).executeTakeFirst() : undefined;
    const decision = checkRelease(
      userFactsFromRow(actor.user),
      c.type === 'personal'
        ? { kind: 'personal', connectionId: c.id, userId: holder.id, userName: holder.name, userState: holder.state as never }
        : { kind: 'team', connectionId: c.id, inboxId: c.inbox_id ?? '', inboxName: inbox?.name ?? '', connectedByUserId: holder.id },
      input.action,
      to ? { toUser: userFactsFromRow(to), toUserPersonalCount: toCount, plan: actor.plan } : undefined,
    );
    if (!decision.ok) throw refusalError(decision.refusal);
    const now = env.now();
    const effects = decision.effects;
    if (effects.restoreUser) await changeUserState(env, actor, holder.id, 'restore', trx);
    if (effects.disconnect) await disconnectEmail(env, actor, c.id, trx);
    if (effects.transferToUserId) {
      await markReleased(trx, c.id, { toUserId: effects.transferToUserId, makeDefaultFrom: effects.makeDefaultFrom, now });
    }
    await recordAudit(trx, {
      accountId: actor.accountId,
      actorUserId: actor.user.id,
      action: 'connection.released',
      targetType: 'connection',
      targetId: c.id,
      data: { action: input.action, holderUserId: holder.id, holderState: holder.state, ...(to ? { toUserId: to.id } : {}) },
      at: now,
    });
    return connectionViewById(trx, actor.accountId, c.id);
  });
}
