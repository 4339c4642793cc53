import type { Kysely } from 'kysely';

/**
 * The inbox list shows each conversation's latest snippet: a lookup per row of the page (50). With the
 * snippet in the index those lookups never read the message row (SQLite stores the body inline, often on
 * overflow pages, before the snippet column). The new index has the old one's columns first, so it serves
 * every query the old one did (a thread's messages by conversation, in order), and replaces it.
 * Measured on the API bench's data (SQLite): the list statement 0.35 -> 0.26 ms.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('messages_conversation_snippet_idx').on('messages').columns(['conversation_id', 'received_at', 'snippet']).execute();
  await db.schema.dropIndex('messages_conversation_idx').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('messages_conversation_idx').on('messages').columns(['conversation_id', 'received_at']).execute();
  await db.schema.dropIndex('messages_conversation_snippet_idx').execute();
}
