import type { Kysely } from 'kysely';

/**
 * Webhooks, the rest of issue 17: secret rotation (the previous secret, sealed, still signs until
 * `previous_secret_until`), full payloads per endpoint (`payload`: thin or full), the failure streak
 * (`failing_since`: the first failed attempt since the last 2xx; five days of it disable the endpoint),
 * and the delivery-log retention per account (`webhook_settings`, 30 days when absent).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('webhook_endpoints').addColumn('previous_secret', 'text').execute();
  await db.schema.alterTable('webhook_endpoints').addColumn('previous_secret_until', 'bigint').execute();
  await db.schema.alterTable('webhook_endpoints').addColumn('payload', 'text', (c) => c.notNull().defaultTo('thin')).execute();
  await db.schema.alterTable('webhook_endpoints').addColumn('failing_since', 'bigint').execute();

  await db.schema
    .createTable('webhook_settings')
    .addColumn('account_id', 'text', (c) => c.primaryKey())
    .addColumn('log_retention_days', 'integer', (c) => c.notNull().defaultTo(30))
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('webhook_deliveries_account_created_idx').on('webhook_deliveries').columns(['account_id', 'created_at']).execute();
}
