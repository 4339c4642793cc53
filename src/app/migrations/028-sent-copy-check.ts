import type { Kysely } from 'kysely';

/**
 * Exactly-once sending after a crash (issue 15): whether a connection's SMTP server files what it sends in
 * the Sent folder by itself (Gmail and Microsoft 365 do), learnt when the outbox appends its own copy. An
 * interrupted send that is not in Sent is then known not to have gone out, and is sent once.
 * Null until seen, then 1 or 0.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('connections').addColumn('server_files_sent', 'integer').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('connections').dropColumn('server_files_sent').execute();
}
