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

export type WebhookDeliveryDetail = Ok<'/api/v1/webhooks/{id}/deliveries/{deliveryId}', 'get'>;
const deliveryPath = (id: string, deliveryId: string) => `/webhooks/${encodeURIComponent(id)}/deliveries/${encodeURIComponent(deliveryId)}`;
/** One delivery with its attempts (latest first): request headers and body, status, latency, answer. */
export const getWebhookDelivery = (id: string, deliveryId: string) => api.get<WebhookDeliveryDetail>(deliveryPath(id, deliveryId));
/** Sends one delivery again, with the same webhook-id. */
export const replayWebhookDelivery = (id: string, deliveryId: string) => api.post<WebhookDeliveryDetail>(`${deliveryPath(id, deliveryId)}/replay`);
/** Sends again the finished deliveries of the events in [since, until). */
export const replayWebhookRange = (id: string, body: Body<'/api/v1/webhooks/{id}/replay', 'post'>) =>
  api.post<Ok<'/api/v1/webhooks/{id}/replay', 'post'>>(`/webhooks/${encodeURIComponent(id)}/replay`, body).then((r) => r.replayed);
/** A new signing secret (shown once); the previous one also signs for `overlapHours`. */
export const rotateWebhookSecret = (id: string, overlapHours: number) => api.post<CreatedWebhookEndpoint>(`/webhooks/${encodeURIComponent(id)}/rotate-secret`, { overlapHours });

export const getWebhookSettings = () => api.get<Ok<'/api/v1/webhooks/settings', 'get'>>('/webhooks/settings');
export const updateWebhookSettings = (body: Body<'/api/v1/webhooks/settings', 'patch'>) => api.patch<Ok<'/api/v1/webhooks/settings', 'patch'>>('/webhooks/settings', body);
