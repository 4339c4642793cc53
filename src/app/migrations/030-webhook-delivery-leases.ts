import type { Kysely } from 'kysely';

/**
 * Webhook deliveries are claimed straight from their table (issue 17's throughput): a worker leases the
 * deliveries it is about to send (`locked_by`, `locked_until`) instead of each having a job of its own. A
 * lease that expires (its worker died) makes the delivery claimable again: sent again, same webhook-id.
 * The claim index walks an endpoint's pending deliveries in event order.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('webhook_deliveries').addColumn('locked_by', 'text').execute();
  await db.schema.alterTable('webhook_deliveries').addColumn('locked_until', 'bigint').execute();
  await db.schema.createIndex('webhook_deliveries_claim_idx').on('webhook_deliveries').columns(['endpoint_id', 'state', 'event_seq']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('webhook_deliveries_claim_idx').execute();
  await db.schema.alterTable('webhook_deliveries').dropColumn('locked_until').execute();
  await db.schema.alterTable('webhook_deliveries').dropColumn('locked_by').execute();
}
