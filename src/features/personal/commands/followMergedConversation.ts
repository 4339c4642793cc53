/**
 * Two personal conversations found to be one thread were merged by ingest (a `conversationsMerged`
 * reaction, inside the ingest transaction): emails written from a contact's record point at the survivor,
 * and the contacts (and company) the merged conversation was logged to are logged on the survivor too
 * (one row per contact: an existing one wins).
 */
import type { CommandEnv, Executor } from '../../../platform/context.js';
import type { ConversationMerge } from '../../ingest/index.js';

export async function followMergedConversation(trx: Executor, merge: ConversationMerge, _env: CommandEnv): Promise<void> {
  await trx.updateTable('personal_emails').set({ conversation_id: merge.survivorId }).where('conversation_id', '=', merge.mergedId).execute();
  const logged = await trx.selectFrom('logged_conversations').selectAll().where('conversation_id', '=', merge.mergedId).execute();
  if (!logged.length) return;
  await trx
    .insertInto('logged_conversations')
    .values(logged.map((l) => ({ ...l, conversation_id: merge.survivorId })))
    .onConflict((oc) => oc.columns(['conversation_id', 'contact_id']).doNothing())
    .execute();
  await trx.deleteFrom('logged_conversations').where('conversation_id', '=', merge.mergedId).execute();
}
