import type { Kysely } from 'kysely';

/**
 * The "mine" view (and any assignee filter) of a conversations list reads one assignee's conversations of an
 * inbox and status, newest activity first, by (last message time, id). The index of 004 lacked the id, so
 * SQLite preferred the (inbox, status) index and walked every open conversation of the inbox to find an
 * agent's 50 (API under 50 agents, issue 20). This one gives the rows in the list's order; it replaces the
 * old one (a prefix of it).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('conversations_assignee_list_idx').on('conversations').columns(['inbox_id', 'assignee_id', 'status', 'last_message_at', 'id']).execute();
  await db.schema.dropIndex('conversations_assignee_idx').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('conversations_assignee_idx').on('conversations').columns(['inbox_id', 'assignee_id', 'status', 'last_message_at']).execute();
  await db.schema.dropIndex('conversations_assignee_list_idx').execute();
}
