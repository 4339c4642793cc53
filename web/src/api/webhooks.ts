import { api } from './client.js';
import type { Body, Ok } from './contract.js';
import type { CreatedWebhookEndpoint, WebhookEndpoint } from './types.js';

export const listWebhooks = () => api.get<Ok<'/api/v1/webhooks', 'get'>>('/webhooks').then((r) => r.endpoints);
export const listWebhookEventTypes = () => api.get<Ok<'/api/v1/webhooks/event-types', 'get'>>('/webhooks/event-types').then((r) => r.eventTypes);

export type WebhookInput = Body<'/api/v1/webhooks', 'post'>;
export const createWebhook = (input: WebhookInput) => api.post<CreatedWebhookEndpoint>('/webhooks', input);

export type WebhookPatch = Body<'/api/v1/webhooks/{id}', 'patch'>;
export const updateWebhook = (id: string, patch: WebhookPatch) => api.patch<WebhookEndpoint>(`/webhooks/${encodeURIComponent(id)}`, patch);
export const deleteWebhook = (id: string) => api.del<void>(`/webhooks/${encodeURIComponent(id)}`);

export const listWebhookDeliveries = (id: string, limit = 10) =>
  api.get<Ok<'/api/v1/webhooks/{id}/deliveries', 'get'>>(`/webhooks/${encodeURIComponent(id)}/deliveries`, { limit }).then((r) => r.deliveries);

/** Queues a webhook.test event for this endpoint; it shows in the endpoint's deliveries once sent out. */
export const sendWebhookTest = (id: string) => api.post<Ok<'/api/v1/webhooks/{id}/test', 'post'>>(`/webhooks/${encodeURIComponent(id)}/test`);
