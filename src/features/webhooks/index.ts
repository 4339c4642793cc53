/**
 * Webhooks: every domain event (src/platform/events.ts, recorded in the transaction of its change) out to
 * the account's endpoints, signed to the Standard Webhooks spec, retried on the spec's schedule, in order
 * per subject, SSRF-safe, with a delivery log and replays. This file is the only door other features use.
 */
import type { JobContext } from '../../platform/jobs/worker.js';
import { PUBLISH_EVENT_JOB } from '../../platform/events.js';
import { DELIVER_JOB, deliverOnce, publishEvent } from './delivery.js';
import { CLEANUP_JOB, cleanupJob } from './cleanup.js';
import './events.js';

export { EVENT_CATALOGUE, EVENT_TYPES, type EventCatalogue, type WebhookEventType } from './catalogue.js';
export { webhooksPolicies } from './policies.js';
export { deliverySettings, DELIVER_JOB, WEBHOOKS_QUEUE } from './delivery.js';
export { pacingSettings } from './pacing.js';

export function webhooksFeature() {
  return {
    name: 'webhooks',
    jobs: () => ({
      /** Fans a recorded event out to the endpoints that want it. */
      [PUBLISH_EVENT_JOB]: (payload: { eventId: string }, ctx: JobContext) => publishEvent(ctx.env, payload.eventId),
      /** One attempt of one delivery (re-queued by itself until done), and the subject's next ones after a success. */
      [DELIVER_JOB]: (payload: { deliveryId: string }, ctx: JobContext) => deliverOnce(ctx.env, payload.deliveryId, ctx.signal, ctx.workerId),
      /** Delivery-log retention and the five-day failure sweep (runs again by itself). */
      [CLEANUP_JOB]: (_payload: unknown, ctx: JobContext) => cleanupJob(ctx.env),
    }),
  } as const;
}
