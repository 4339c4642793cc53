/**
 * Two conversations found to be one thread were merged by ingest (a `conversationsMerged` reaction, inside
 * the ingest transaction): what we sent or will send in the merged one belongs to the survivor, so a reply
 * found by its reply token lands there.
 */
import type { CommandEnv, Executor } from '../../../platform/context.js';
import type { ConversationMerge } from '../../ingest/index.js';

export async function followMergedConversation(trx: Executor, merge: ConversationMerge, _env: CommandEnv): Promise<void> {
  await trx.updateTable('outbox').set({ conversation_id: merge.survivorId }).where('conversation_id', '=', merge.mergedId).where('account_id', '=', merge.accountId).execute();
}
