import { checkDisconnect } from '../domain/connection-rules.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv, Executor } from '../../../platform/context.js';
import { connectionViewById, loadConnection } from '../queries.js';
import { markDisconnected } from '../lifecycle.js';
import { adminIds, notifyUsers } from '../../notifications/index.js';
import { refusalError } from './connectEmail.js';
import { notFound } from '../../../platform/errors.js';
import { isAdmin, userFactsFromRow } from '../../accounts/index.js';

/**
 * Disconnects an address: sync and sending stop at once, everything already logged stays (messages,
 * conversations, timeline). Disconnecting a team email notifies the account's admins and the user who
 * connected it. The connection row is kept so a later reconnect resumes without duplicating history.
 */
export async function disconnectEmail(env: CommandEnv, actor: Actor, connectionId: string, trxIn?: Executor) {
  const run = async (trx: Executor) => {
    const c = await loadConnection(trx, actor.accountId, connectionId);
    // Someone else's personal connection is invisible to non-admins: answer as if it did not exist.
    if (c.type === 'personal' && c.user_id !== actor.user.id && !isAdmin(actor.user)) throw notFound('Connection');
    if (c.disconnected_at !== null) return connectionViewById(trx, actor.accountId, c.id);
    const decision = checkDisconnect(userFactsFromRow(actor.user), { type: c.type as 'personal' | 'team', userId: c.user_id, inboxId: c.inbox_id });
    if (!decision.ok) throw refusalError(decision.refusal);
    const now = env.now();
    await markDisconnected(trx, c.id, { by: actor.user.id, now });
    if (c.is_default_from === 1) {
      // Hand the default "from" to the user's next live personal connection, if any.
      const next = await trx.selectFrom('connections').select('id').where('user_id', '=', c.user_id).where('type', '=', 'personal').where('disconnected_at', 'is', null).orderBy('created_at').limit(1).executeTakeFirst();
      if (next) await trx.updateTable('connections').set({ is_default_from: 1 }).where('id', '=', next.id).execute();
    }
    await trx.updateTable('jobs').set({ state: 'cancelled', dedupe_key: null, finished_at: now }).where('dedupe_key', '=', `sync:${c.id}`).where('state', '=', 'queued').execute();
    if (c.type === 'team') {
      const inbox = c.inbox_id ? await trx.selectFrom('inboxes').select('name').where('id', '=', c.inbox_id).executeTakeFirst() : undefined;
      await notifyUsers(trx, {
        accountId: actor.accountId,
        userIds: [...(await adminIds(trx, actor.accountId)), c.user_id],
        kind: 'team_email_disconnected',
        message: `${actor.user.name} disconnected the team email ${c.address} from the inbox ${inbox?.name ?? '(deleted inbox)'}. Incoming mail to it no longer reaches Mailroom; conversations already there stay.`,
        data: { connectionId: c.id, address: c.address, inboxId: c.inbox_id, by: actor.user.id },
        at: now,
      });
    }
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'connection.disconnected', targetType: 'connection', targetId: c.id, data: { type: c.type, address: c.address_key }, at: now });
    return connectionViewById(trx, actor.accountId, c.id);
  };
  return trxIn ? run(trxIn) : env.db.transaction().execute(run);
}

