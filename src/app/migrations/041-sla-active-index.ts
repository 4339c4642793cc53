import { sql, type Kysely } from 'kysely';

/**
 * The conversations with a service-level target still running: `conversation_sla (inbox_id, next_due_at)
 * where next_due_at is not null`. The SLA check job (inbox, checkSla), every minute while a target is due,
 * finds the inboxes to look at and counts what is still due with `next_due_at is not null`: both read every
 * row of conversation_sla, one per conversation that ever had a target (closed ones keep theirs, with
 * `next_due_at` null), where this index holds only the running ones.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index conversation_sla_active_idx on conversation_sla (inbox_id, next_due_at) where next_due_at is not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('conversation_sla_active_idx').execute();
}
