/** The delivery log of an endpoint, replays and the test event (admins). */
import { authorize } from '../../../platform/authorize.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { invalidRequest } from '../../../platform/errors.js';
import { sql } from 'kysely';
import { recordEvent } from '../../../platform/events.js';
import { deliveryBody, requeueDeliveries } from '../delivery.js';
import { webhooksPolicies } from '../policies.js';
import { attemptsOf, deliveriesOf, loadDelivery, loadEndpoint } from '../queries.js';
import { attemptView, deliveryView } from '../views.js';

/** The endpoint's latest deliveries, newest event first. */
export async function listDeliveries(env: CommandEnv, actor: Actor, endpointId: string, q: { limit: number; state?: string }) {
  authorize(actor, webhooksPolicies.manage);
  await loadEndpoint(env.db, actor.accountId, endpointId);
  return { deliveries: (await deliveriesOf(env.db, endpointId, q.limit, q.state)).map(deliveryView) };
}

/** One delivery with its attempts (latest first): status, latency, the answer's first kilobyte. */
export async function getDelivery(env: CommandEnv, actor: Actor, endpointId: string, deliveryId: string) {
  authorize(actor, webhooksPolicies.manage);
  await loadEndpoint(env.db, actor.accountId, endpointId);
  const d = await loadDelivery(env.db, endpointId, deliveryId);
  // The body every attempt sent (a full endpoint's data.object was loaded at each attempt and is not kept).
  const requestBody = deliveryBody({ id: d.event_id, type: d.event_type, created_at: Number(d.event_created_at), data: d.event_data });
  return { ...deliveryView(d), requestBody, log: (await attemptsOf(env.db, d.id)).map(attemptView) };
}

/** Sends one delivery again, with the same webhook-id (receivers deduplicate on it). */
export async function replayDelivery(env: CommandEnv, actor: Actor, endpointId: string, deliveryId: string) {
  authorize(actor, webhooksPolicies.manage);
  const now = env.now();
  await env.db.transaction().execute(async (trx) => {
    await loadEndpoint(trx, actor.accountId, endpointId);
    const d = await loadDelivery(trx, endpointId, deliveryId);
    if (d.state !== 'pending') await requeueDeliveries(trx, env.dialect, now, endpointId, [d.id]);
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'webhook.delivery_replayed', targetType: 'webhook_endpoint', targetId: endpointId, data: { deliveryId }, at: now });
  });
  env.onJobsQueued?.();
  return getDelivery(env, actor, endpointId, deliveryId);
}

/** Sends again every finished delivery of the endpoint whose event happened in [since, until) (at most 1,000). */
export async function replayRange(env: CommandEnv, actor: Actor, endpointId: string, q: { since: string; until: string; onlyFailed?: boolean }) {
  authorize(actor, webhooksPolicies.manage);
  await loadEndpoint(env.db, actor.accountId, endpointId);
  const since = Date.parse(q.since);
  const until = Date.parse(q.until);
  if (!Number.isFinite(since) || !Number.isFinite(until) || until <= since) throw invalidRequest('since and until must be dates and times, since before until (2026-03-01T09:00:00Z).', { field: 'since' });
  const now = env.now();
  const count = await env.db.transaction().execute(async (trx) => {
    await loadEndpoint(trx, actor.accountId, endpointId);
    let sel = trx
      .selectFrom('webhook_deliveries as d')
      .innerJoin('events as e', 'e.id', 'd.event_id')
      .select('d.id')
      .where('d.endpoint_id', '=', endpointId)
      .where('e.created_at', '>=', since)
      .where('e.created_at', '<', until)
      .where('d.state', '!=', 'pending');
    // Written in the SQL, not a parameter: read from the failed deliveries' partial index (migration 034).
    if (q.onlyFailed) sel = sel.where(sql<boolean>`d.state = 'failed'`);
    const rows = await sel.orderBy('d.event_seq').limit(1000).execute();
    await requeueDeliveries(trx, env.dialect, now, endpointId, rows.map((r) => r.id));
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'webhook.deliveries_replayed', targetType: 'webhook_endpoint', targetId: endpointId, data: { since, until, count: rows.length }, at: now });
    return rows.length;
  });
  env.onJobsQueued?.();
  return { replayed: count };
}

/** Records a `webhook.test` event that goes to this endpoint only. */
export async function sendTestEvent(env: CommandEnv, actor: Actor, endpointId: string) {
  authorize(actor, webhooksPolicies.manage);
  const now = env.now();
  const eventId = await env.db.transaction().execute(async (trx) => {
    await loadEndpoint(trx, actor.accountId, endpointId);
    return recordEvent(trx, { accountId: actor.accountId, type: 'webhook.test', subject: { type: 'webhook_endpoint', id: endpointId }, data: { endpointId }, at: now });
  });
  env.onJobsQueued?.();
  return { eventId };
}
