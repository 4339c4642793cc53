/**
 * Two team conversations found to be one thread were merged by ingest (a `conversationsMerged` reaction,
 * inside the ingest transaction): the older one survives. The rule, for what people did on the merged one:
 *
 *  - its activity (comments, assignments, status changes, moves, replies) moves to the survivor, in its
 *    own time order, and a `merge` activity on the survivor records it;
 *  - the survivor keeps its assignee, status and snooze; when it has no assignee and the merged one had,
 *    it takes the merged one's assignee, status and snooze (work in progress is never dropped);
 *  - a routing backlog entry of the merged one follows it when the survivor is then open and unassigned,
 *    and is dropped otherwise;
 *  - the survivor's service-level clocks are recomputed from the joined history.
 * Ingest has already moved the messages, counts, participants and contact.
 */
import type { CommandEnv, Executor } from '../../../platform/context.js';
import type { ConversationMerge } from '../../ingest/index.js';
import { recordActivity } from '../queries.js';
import { refreshConversationSla } from '../sla.js';

export async function mergeTeamConversations(trx: Executor, merge: ConversationMerge, _env: CommandEnv): Promise<void> {
  if (merge.kind !== 'team') return;
  const rows = await trx.selectFrom('conversations').select(['id', 'inbox_id', 'status', 'assignee_id', 'snoozed_until']).where('id', 'in', [merge.survivorId, merge.mergedId]).execute();
  const survivor = rows.find((r) => r.id === merge.survivorId);
  const merged = rows.find((r) => r.id === merge.mergedId);
  if (!survivor || !merged) return;
  await trx.updateTable('conversation_activity').set({ conversation_id: survivor.id }).where('conversation_id', '=', merged.id).execute();
  let { status, assignee_id } = survivor;
  if (!survivor.assignee_id && merged.assignee_id) {
    ({ status, assignee_id } = merged);
    await trx.updateTable('conversations').set({ assignee_id: merged.assignee_id, status: merged.status, snoozed_until: merged.snoozed_until }).where('id', '=', survivor.id).execute();
  }
  const backlog = await trx.selectFrom('routing_backlog').selectAll().where('conversation_id', '=', merged.id).executeTakeFirst();
  if (backlog) {
    await trx.deleteFrom('routing_backlog').where('conversation_id', '=', merged.id).execute();
    if (status === 'open' && !assignee_id && survivor.inbox_id === backlog.inbox_id) {
      await trx.insertInto('routing_backlog').values({ ...backlog, conversation_id: survivor.id }).onConflict((oc) => oc.column('conversation_id').doNothing()).execute();
    }
  }
  await recordActivity(trx, { accountId: merge.accountId, conversationId: survivor.id, kind: 'merge', actorUserId: null, data: { mergedConversationId: merged.id, summary: 'Merged with another conversation of the same thread' }, at: merge.at });
  // Service-level clocks: the survivor's history now holds both; the merged one has none left.
  await trx.deleteFrom('conversation_sla').where('conversation_id', '=', merged.id).execute();
  await refreshConversationSla(trx, [survivor.id], merge.at);
}
