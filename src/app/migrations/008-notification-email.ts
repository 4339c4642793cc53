import type { Kysely } from 'kysely';

/** Notification email: which notifications already went out by email (a digest per user). */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('notifications').addColumn('emailed_at', 'bigint').execute();
  await db.schema.createIndex('notifications_user_created_idx').on('notifications').columns(['user_id', 'created_at']).execute();
}
