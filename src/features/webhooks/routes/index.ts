/** The webhooks API (admins): endpoints, the event catalogue, delivery log, replays, test event. Registered by src/app/http.ts under /api/v1. */
import type { ApiApp } from '../../../platform/http/typed.js';
import { requireActor } from '../../../platform/http/auth.js';
import { errorResponses, idParams } from '../../../platform/http/schemas.js';
import { EVENT_CATALOGUE, SUBSCRIBABLE_TYPES } from '../catalogue.js';
import { MAX_URL_LENGTH } from '../domain/delivery.js';
import { createEndpoint, deleteEndpoint, getEndpoint, listEndpoints, MAX_ROTATION_OVERLAP_MS, PAYLOAD_MODES, rotateSecret, updateEndpoint } from '../commands/endpoints.js';
import { getWebhookSettings, MAX_RETENTION_DAYS, MIN_RETENTION_DAYS, updateWebhookSettings } from '../commands/settings.js';
import { getDelivery, listDeliveries, replayDelivery, replayRange, sendTestEvent } from '../commands/deliveries.js';

const endpointSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    url: { type: 'string' },
    description: { type: 'string' },
    eventTypes: { type: 'array', items: { type: 'string' } },
    enabled: { type: 'boolean' },
    disabledReason: { type: ['string', 'null'] },
    payload: { type: 'string', enum: ['thin', 'full'] },
    previousSecretExpiresAt: { type: ['string', 'null'], description: 'After a rotation: until when the previous secret also signs deliveries.' },
    failingSince: { type: ['string', 'null'], description: 'The first failure since the last successful delivery; five days of failures disable the endpoint.' },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
  },
} as const;

const createdEndpointSchema = {
  type: 'object',
  properties: { ...endpointSchema.properties, secret: { type: 'string', description: 'The whsec_ signing secret: shown only in this answer. Keep it.' } },
} as const;

const deliveryProperties = {
  id: { type: 'string', description: 'The webhook-id header of every attempt.' },
  eventId: { type: 'string' },
  eventType: { type: 'string' },
  state: { type: 'string', enum: ['pending', 'succeeded', 'failed'] },
  attempts: { type: 'integer' },
  lastStatus: { type: ['integer', 'null'] },
  lastError: { type: ['string', 'null'] },
  nextAttemptAt: { type: ['string', 'null'] },
  createdAt: { type: 'string' },
  finishedAt: { type: ['string', 'null'] },
} as const;

const attemptSchema = {
  type: 'object',
  properties: {
    attempt: { type: 'integer' },
    startedAt: { type: 'string' },
    latencyMs: { type: 'integer' },
    status: { type: ['integer', 'null'] },
    error: { type: ['string', 'null'] },
    responseBody: { type: ['string', 'null'] },
    requestHeaders: { type: 'object', additionalProperties: { type: 'string' } },
  },
} as const;

const deliveryParams = {
  type: 'object',
  required: ['id', 'deliveryId'],
  properties: { id: { type: 'string', maxLength: 64 }, deliveryId: { type: 'string', maxLength: 64 } },
} as const;

const eventTypes = {
  type: 'array',
  minItems: 1,
  maxItems: 50,
  items: { type: 'string', maxLength: 100 },
  description: `Event types to receive, or ["*"] for every type: ${SUBSCRIBABLE_TYPES.join(', ')}.`,
} as const;

const url = { type: 'string', minLength: 1, maxLength: MAX_URL_LENGTH, description: 'https URL (http only to hosts the operator allows).' } as const;
const description = { type: 'string', maxLength: 500 } as const;
const payload = {
  type: 'string',
  enum: PAYLOAD_MODES,
  description: 'thin (default): ids and changed fields. full: contact, company and conversation events also carry the object, as the API shows it at delivery time, in data.object.',
} as const;
const settingsSchema = { type: 'object', properties: { logRetentionDays: { type: 'integer', description: 'Days deliveries, their attempts and events are kept.' } } } as const;

export async function webhooksRoutes(app: ApiApp): Promise<void> {
  const env = app.deps.env;
  const tags = ['webhooks'];

  app.get(
    '/webhooks/event-types',
    {
      schema: {
        tags,
        summary: 'The event catalogue: every event type, its version, subject and meaning',
        response: {
          200: {
            type: 'object',
            properties: {
              eventTypes: { type: 'array', items: { type: 'object', properties: { type: { type: 'string' }, version: { type: 'integer' }, subject: { type: 'string' }, description: { type: 'string' } } } },
            },
          },
          ...errorResponses,
        },
      },
    },
    async () => ({ eventTypes: Object.entries(EVENT_CATALOGUE).map(([type, d]) => ({ type, ...d })) }),
  );

  app.get(
    '/webhooks',
    { schema: { tags, summary: 'List the webhook endpoints (admins)', response: { 200: { type: 'object', properties: { endpoints: { type: 'array', items: endpointSchema } } }, ...errorResponses } } },
    async (req) => listEndpoints(env, requireActor(req)),
  );

  app.post(
    '/webhooks',
    {
      schema: {
        tags,
        summary: 'Create a webhook endpoint (admins); the answer shows its signing secret, once',
        body: { type: 'object', required: ['url'], additionalProperties: false, properties: { url, description, eventTypes, enabled: { type: 'boolean' }, payload } },
        response: { 201: createdEndpointSchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await createEndpoint(env, requireActor(req), req.body)),
  );

  app.get(
    '/webhooks/settings',
    { schema: { tags, summary: 'The webhook settings of the account: delivery-log retention (admins)', response: { 200: settingsSchema, ...errorResponses } } },
    async (req) => getWebhookSettings(env, requireActor(req)),
  );

  app.patch(
    '/webhooks/settings',
    {
      schema: {
        tags,
        summary: 'Change the webhook settings: how many days the delivery log is kept (admins)',
        body: { type: 'object', additionalProperties: false, properties: { logRetentionDays: { type: 'integer', minimum: MIN_RETENTION_DAYS, maximum: MAX_RETENTION_DAYS } } },
        response: { 200: settingsSchema, ...errorResponses },
      },
    },
    async (req) => updateWebhookSettings(env, requireActor(req), req.body),
  );

  app.get(
    '/webhooks/:id',
    { schema: { tags, summary: 'Get a webhook endpoint (admins)', params: idParams, response: { 200: endpointSchema, ...errorResponses } } },
    async (req) => getEndpoint(env, requireActor(req), req.params.id),
  );

  app.patch(
    '/webhooks/:id',
    {
      schema: {
        tags,
        summary: 'Change a webhook endpoint: URL, description, event types, enabled (admins)',
        params: idParams,
        body: { type: 'object', additionalProperties: false, properties: { url, description, eventTypes, enabled: { type: 'boolean' }, payload } },
        response: { 200: endpointSchema, ...errorResponses },
      },
    },
    async (req) => updateEndpoint(env, requireActor(req), req.params.id, req.body),
  );

  app.delete(
    '/webhooks/:id',
    { schema: { tags, summary: 'Delete a webhook endpoint and its delivery log (admins)', params: idParams, response: { 204: { type: 'null' }, ...errorResponses } } },
    async (req, reply) => {
      await deleteEndpoint(env, requireActor(req), req.params.id);
      return reply.status(204).send();
    },
  );

  app.get(
    '/webhooks/:id/deliveries',
    {
      schema: {
        tags,
        summary: 'The delivery log: latest deliveries of the endpoint, newest event first (admins)',
        params: idParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 }, state: { type: 'string', enum: ['pending', 'succeeded', 'failed'] } },
        },
        response: { 200: { type: 'object', properties: { deliveries: { type: 'array', items: { type: 'object', properties: deliveryProperties } } } }, ...errorResponses },
      },
    },
    async (req) => listDeliveries(env, requireActor(req), req.params.id, req.query),
  );

  const deliveryWithLog = {
    type: 'object',
    properties: {
      ...deliveryProperties,
      requestBody: { type: 'string', description: 'The JSON body each attempt sent (for a full endpoint without data.object, which was loaded at each attempt and is not kept).' },
      log: { type: 'array', items: attemptSchema },
    },
  } as const;

  app.get(
    '/webhooks/:id/deliveries/:deliveryId',
    { schema: { tags, summary: 'One delivery with its attempts: status, latency, answer (admins)', params: deliveryParams, response: { 200: deliveryWithLog, ...errorResponses } } },
    async (req) => getDelivery(env, requireActor(req), req.params.id, req.params.deliveryId),
  );

  app.post(
    '/webhooks/:id/deliveries/:deliveryId/replay',
    { schema: { tags, summary: 'Send a delivery again, with the same webhook-id (admins)', params: deliveryParams, response: { 200: deliveryWithLog, ...errorResponses } } },
    async (req) => replayDelivery(env, requireActor(req), req.params.id, req.params.deliveryId),
  );

  app.post(
    '/webhooks/:id/replay',
    {
      schema: {
        tags,
        summary: 'Send again the finished deliveries of events in a time range (admins; at most 1,000)',
        params: idParams,
        body: {
          type: 'object',
          required: ['since', 'until'],
          additionalProperties: false,
          properties: { since: { type: 'string', maxLength: 40 }, until: { type: 'string', maxLength: 40 }, onlyFailed: { type: 'boolean' } },
        },
        response: { 200: { type: 'object', properties: { replayed: { type: 'integer' } } }, ...errorResponses },
      },
    },
    async (req) => replayRange(env, requireActor(req), req.params.id, req.body),
  );

  app.post(
    '/webhooks/:id/rotate-secret',
    {
      schema: {
        tags,
        summary: 'Rotate the signing secret (admins); the answer shows the new secret, once. Both sign during the overlap (24 h by default)',
        params: idParams,
        body: { type: ['object', 'null'], additionalProperties: false, properties: { overlapHours: { type: 'number', minimum: 0, maximum: MAX_ROTATION_OVERLAP_MS / 3600_000 } } },
        response: { 200: createdEndpointSchema, ...errorResponses },
      },
    },
    async (req) => rotateSecret(env, requireActor(req), req.params.id, req.body ?? {}),
  );

  app.post(
    '/webhooks/:id/test',
    { schema: { tags, summary: 'Send a webhook.test event to this endpoint (admins)', params: idParams, response: { 202: { type: 'object', properties: { eventId: { type: 'string' } } }, ...errorResponses } } },
    async (req, reply) => reply.status(202).send(await sendTestEvent(env, requireActor(req), req.params.id)),
  );
}
