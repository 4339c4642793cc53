import { invalidRequest, notFound } from '../../../platform/errors.js';
import { parseSenderPattern, type SenderList } from '../domain/sender-lists.js';
import { newId } from '../../../platform/database/ids.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { requireInboxAccess } from '../queries.js';
import { senderListsView } from '../settings.js';

export const MAX_LIST_ENTRIES = 5_000;

/**
 * Adds an address or domain to an inbox's allow or deny list, or removes an entry. New conversations
 * from denied senders go to spam; the allow list makes exceptions (see domain/inbox/sender-lists.ts).
 * Members of the inbox manage the lists (blocking a sender is everyday work, not configuration).
 */
export async function updateAllowDenyList(env: CommandEnv, actor: Actor, inboxId: string, change: { add: { list: SenderList; pattern: string } } | { remove: string }) {
  return env.db.transaction().execute(async (trx) => {
    const { inbox } = await requireInboxAccess(trx, actor, inboxId, 'act');
    const now = env.now();
    if ('remove' in change) {
      const r = await trx.deleteFrom('inbox_sender_lists').where('inbox_id', '=', inbox.id).where('id', '=', change.remove).executeTakeFirst();
      if (Number(r.numDeletedRows) !== 1) throw notFound('List entry');
      await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'inbox.sender_list_removed', targetType: 'inbox', targetId: inbox.id, data: { entryId: change.remove }, at: now });
      return senderListsView(trx, inbox);
    }
    const { list } = change.add;
    if (list !== 'allow' && list !== 'deny') throw invalidRequest('The list is allow or deny.', { field: 'list' });
    const p = parseSenderPattern(change.add.pattern);
    if (!p.ok) throw invalidRequest(p.message, { field: 'pattern' });
    const exists = await trx.selectFrom('inbox_sender_lists').select('id').where('inbox_id', '=', inbox.id).where('list', '=', list).where('pattern', '=', p.pattern).executeTakeFirst();
    if (!exists) {
      const { n } = await trx.selectFrom('inbox_sender_lists').select((eb) => eb.fn.countAll<number>().as('n')).where('inbox_id', '=', inbox.id).executeTakeFirstOrThrow();
      if (Number(n) >= MAX_LIST_ENTRIES) throw invalidRequest(`An inbox's lists hold at most ${MAX_LIST_ENTRIES} entries. Use domains instead of single addresses.`, { field: 'pattern' });
      await trx.insertInto('inbox_sender_lists').values({ id: newId('sl'), account_id: actor.accountId, inbox_id: inbox.id, list, pattern: p.pattern, created_at: now, created_by: actor.user.id }).execute();
      await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'inbox.sender_list_added', targetType: 'inbox', targetId: inbox.id, data: { list, pattern: p.pattern }, at: now });
    }
    return senderListsView(trx, inbox);
  });
}
