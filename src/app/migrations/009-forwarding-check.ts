import type { Kysely } from 'kysely';

/** The forwarding check of team addresses connected by forwarding (see domain/forwarding-check.ts). */
export async function up(db: Kysely<any>): Promise<void> {
  for (const [name, type] of [
    ['forwarding_test_token', 'text'],
    ['forwarding_test_requested_at', 'bigint'],
    ['forwarding_test_sent_at', 'bigint'],
    ['forwarding_test_error', 'text'],
    ['forwarding_verified_at', 'bigint'],
  ] as const) {
    await db.schema.alterTable('connections').addColumn(name, type).execute();
  }
}
