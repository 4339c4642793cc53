import type { Kysely } from 'kysely';

/**
 * Sender authentication of inbound SMTP mail (issue 19): SPF, DKIM, DMARC and ARC as verified on arrival
 * (src/mail/sender-auth.ts), a JSON document per message. Null: not verified (mail synced over IMAP,
 * imported, our own sent mail, and every message stored before this migration).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('messages').addColumn('sender_auth', 'text').execute();
}
