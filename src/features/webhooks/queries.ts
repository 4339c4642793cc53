/** Reads of the webhooks feature (account-scoped). */
import type { Executor } from '../../platform/context.js';
import { notFound } from '../../platform/errors.js';
import { sql } from 'kysely';

export async function loadEndpoint(db: Executor, accountId: string, id: string) {
  const row = await db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
  if (!row) throw notFound('Webhook endpoint');
  return row;
}

export function endpointsOf(db: Executor, accountId: string) {
  return db.selectFrom('webhook_endpoints').selectAll().where('account_id', '=', accountId).orderBy('created_at').orderBy('id').execute();
}

/**
 * The endpoint's latest deliveries, newest first, with their event type. The state is written in the SQL
 * (not a parameter): pending and failed ones are read from their partial indexes (migration 034), which a
 * parameter would not match; the others walk (endpoint_id, event_seq).
 */
export function deliveriesOf(db: Executor, endpointId: string, limit: number, state?: string) {
  let q = db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('events as e', 'e.id', 'd.event_id')
    .selectAll('d')
    .select(['e.type as event_type', 'e.created_at as event_created_at', 'e.data as event_data'])
    .where('d.endpoint_id', '=', endpointId);
  if (state === 'pending' || state === 'succeeded' || state === 'failed') q = q.where(sql<boolean>`d.state = ${sql.lit(state)}`);
  return q.orderBy('d.event_seq', 'desc').limit(limit).execute();
}

export async function loadDelivery(db: Executor, endpointId: string, id: string) {
  const row = await db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('events as e', 'e.id', 'd.event_id')
    .selectAll('d')
    .select(['e.type as event_type', 'e.created_at as event_created_at', 'e.data as event_data'])
    .where('d.endpoint_id', '=', endpointId)
    .where('d.id', '=', id)
    .executeTakeFirst();
  if (!row) throw notFound('Webhook delivery');
  return row;
}

export function attemptsOf(db: Executor, deliveryId: string) {
  return db.selectFrom('webhook_attempts').selectAll().where('delivery_id', '=', deliveryId).orderBy('attempt', 'desc').limit(50).execute();
}

/** The delivery log is kept this many days unless the account says otherwise. */
export const DEFAULT_RETENTION_DAYS = 30;

export async function settingsOf(db: Executor, accountId: string): Promise<{ logRetentionDays: number }> {
  const row = await db.selectFrom('webhook_settings').select('log_retention_days').where('account_id', '=', accountId).executeTakeFirst();
  return { logRetentionDays: row ? Number(row.log_retention_days) : DEFAULT_RETENTION_DAYS };
}
