import type { Kysely } from 'kysely';

/**
 * Outgoing mail by conversation: `outbox (conversation_id, created_at)`. Two statements ask for it, and until
 * now neither had an index to use:
 *
 * - a conversation's thread (inbox, getConversation) lists the mail not sent yet or failed, oldest first:
 *   the plan walked `outbox_state_idx`, i.e. every queued, scheduled, sending, failed and uncertain email of
 *   every account (failed ones stay for good), to keep the thread's few;
 * - two conversations merged by ingest move the merged one's outgoing mail to the survivor
 *   (outbox, followMergedConversation): a scan of the whole outbox, one row per email ever sent, inside the
 *   ingest transaction, for every merge.
 *
 * The outbox gains one index entry per email (written once, moved only by a merge).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('outbox_conversation_idx').on('outbox').columns(['conversation_id', 'created_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('outbox_conversation_idx').execute();
}
