import type { Kysely } from 'kysely';

/**
 * Service-level targets (issue 21, item 9). An inbox's targets live in `inboxes.settings` (JSON, `sla`);
 * `conversation_sla` holds where each conversation of such an inbox stands: the current cycle (opened or
 * reopened by a customer), each target's due and met times, whether the clocks are paused, the earliest
 * due time not met yet (`next_due_at`, what the "breaching soon" and "breached" views and the job read),
 * and when the assignee was told a target would breach soon or had breached (once per target and cycle; the
 * conditional update of these columns is what makes the notice happen once across workers).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('conversation_sla')
    .addColumn('conversation_id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('inbox_id', 'text', (c) => c.notNull())
    .addColumn('cycle_started_at', 'bigint')
    .addColumn('first_response_due_at', 'bigint')
    .addColumn('first_response_met_at', 'bigint')
    .addColumn('first_response_breached', 'integer') // null: no such target in this cycle
    .addColumn('resolution_due_at', 'bigint')
    .addColumn('resolution_met_at', 'bigint')
    .addColumn('resolution_breached', 'integer')
    .addColumn('paused', 'text')
    .addColumn('next_due_at', 'bigint')
    .addColumn('first_response_soon_notified_at', 'bigint')
    .addColumn('first_response_breach_notified_at', 'bigint')
    .addColumn('resolution_soon_notified_at', 'bigint')
    .addColumn('resolution_breach_notified_at', 'bigint')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('conversation_sla_due_idx').on('conversation_sla').columns(['inbox_id', 'next_due_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('conversation_sla').execute();
}
