/**
 * Webhooks: every domain event (src/platform/events.ts, recorded in the transaction of its change) out to
 * the account's endpoints, signed to the Standard Webhooks spec, retried on the spec's schedule, in order
 * per subject, SSRF-safe, with a delivery log and replays. This file is the only door other features use.
 */
import type { JobContext } from '../../platform/jobs/worker.js';
import { PUBLISH_EVENT_JOB } from '../../platform/events.js';
import { DELIVER_JOB, deliverEndpointJob, publishEvent, publishEvents, wakeEndpoints } from './delivery.js';
import { CLEANUP_JOB, cleanupJob } from './cleanup.js';
import './events.js';

export { EVENT_CATALOGUE, EVENT_TYPES, type EventCatalogue, type WebhookEventType } from './catalogue.js';
export { webhooksPolicies } from './policies.js';
export { deliverEndpoint, deliverySettings, DELIVER_JOB, WEBHOOKS_QUEUE } from './delivery.js';
export { pacingSettings } from './pacing.js';

export function webhooksFeature() {
  return {
    name: 'webhooks',
    jobs: () => ({
      /** Fans a recorded event out to the endpoints that want it. */
      [PUBLISH_EVENT_JOB]: async (payload: { eventId?: string; eventIds?: string[] }, ctx: JobContext) => {
        if (payload.eventIds) await publishEvents(ctx.env, payload.eventIds);
        else if (payload.eventId) await publishEvent(ctx.env, payload.eventId);
      },
      /** An endpoint's pump: sends its due deliveries in leased batches, then waits for the next one due (delivery.ts). */
      [DELIVER_JOB]: async (payload: { endpointId?: string; deliveryId?: string }, ctx: JobContext) => {
        if (payload.endpointId) return deliverEndpointJob(ctx.env, payload.endpointId, ctx.job, ctx.workerId, ctx.signal);
        // A job of the engine before migration 030 (one per delivery): its endpoint's pump takes over.
        const d = payload.deliveryId ? await ctx.env.db.selectFrom('webhook_deliveries').select('endpoint_id').where('id', '=', payload.deliveryId).executeTakeFirst() : undefined;
        if (d) await wakeEndpoints(ctx.env.db, ctx.env.dialect, [d.endpoint_id], ctx.env.now());
      },
      /** Delivery-log retention and the five-day failure sweep (runs again by itself). */
      [CLEANUP_JOB]: (_payload: unknown, ctx: JobContext) => cleanupJob(ctx.env),
    }),
  } as const;
}
