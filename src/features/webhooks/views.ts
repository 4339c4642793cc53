/** What the API shows of endpoints, deliveries and attempts. Never the secret (shown once, at creation). */
import { json, readJson } from '../../platform/database/json.js';
import type { WebhookAttemptsTable, WebhookDeliveriesTable, WebhookEndpointsTable } from '../../platform/database/schema.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export interface EndpointView {
  id: string;
  url: string;
  description: string;
  eventTypes: string[];
  enabled: boolean;
  disabledReason: string | null;
  /** thin or full. */
  payload: string;
  /** After a rotation: until when the previous secret also signs deliveries, else null. */
  previousSecretExpiresAt: string | null;
  /** The first failure since the last successful delivery, else null (five days of failures disable the endpoint). */
  failingSince: string | null;
  createdAt: string;
  updatedAt: string;
}

export function endpointView(r: WebhookEndpointsTable, now: number): EndpointView {
  return {
    id: r.id,
    url: r.url,
    description: r.description,
    eventTypes: readJson('webhook_endpoints.event_types', r.event_types, json.stringArray, ['*']),
    enabled: r.enabled === 1,
    disabledReason: r.disabled_reason,
    payload: r.payload,
    previousSecretExpiresAt: r.previous_secret && r.previous_secret_until !== null && r.previous_secret_until > now ? iso(r.previous_secret_until) : null,
    failingSince: iso(r.failing_since),
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
  };
}

export function deliveryView(r: WebhookDeliveriesTable & { event_type: string }) {
  return {
    id: r.id,
    eventId: r.event_id,
    eventType: r.event_type,
    state: r.state,
    attempts: r.attempts,
    lastStatus: r.last_status,
    lastError: r.last_error,
    nextAttemptAt: r.state === 'pending' ? iso(r.next_attempt_at) : null,
    createdAt: iso(r.created_at)!,
    finishedAt: iso(r.finished_at),
  };
}

export function attemptView(r: WebhookAttemptsTable) {
  return {
    attempt: r.attempt,
    startedAt: iso(r.started_at)!,
    latencyMs: r.latency_ms,
    status: r.status,
    error: r.error,
    responseBody: r.response_body,
    requestHeaders: readJson('webhook_attempts.request_headers', r.request_headers, json.record, {}),
  };
}
