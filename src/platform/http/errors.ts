import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERROR_CODES, errorBody } from '../errors.js';

/**
 * One error shape everywhere: {"error":{"code","message","holder"?,"resolution"?,"details"?}}, with
 * `details` always an object. AppErrors, Fastify's own errors (validation, unreadable bodies, rate
 * limits, body size) and unknown routes all answer in it, with stable codes. No stack traces leave the
 * server.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | AppError | Error, req, reply) => {
    if (err instanceof AppError) {
      return reply.status(err.status).send(err.toBody());
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      const errors = fe.validation.map((v) => ({
        field: [
          (v.instancePath || '').replace(/^\//, '').replace(/\//g, '.'),
          (v.params as { missingProperty?: string } | undefined)?.missingProperty ?? '',
        ]
          .filter(Boolean)
          .join('.'),
        problem: v.message ?? 'is not valid',
      }));
      const first = errors[0];
      return reply.status(400).send(
        errorBody('invalid_request', `The request is not valid${first ? `: ${first.field ? `${first.field} ` : ''}${first.problem}` : ''}. Fix it and try again.`, {
          details: { ...(first?.field ? { field: first.field } : {}), ...(fe.validationContext ? { in: fe.validationContext } : {}), errors },
        }),
      );
    }
    if (fe.statusCode === 429) {
      return reply.status(429).send(errorBody('rate_limited', 'Too many attempts. Wait a minute and try again.'));
    }
    if (fe.statusCode === 413) {
      return reply.status(413).send(errorBody('payload_too_large', 'The request body is too large.'));
    }
    if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500 && fe.code?.startsWith('FST_'))) {
      return reply
        .status(fe.statusCode ?? 400)
        .send(errorBody('invalid_request', `The request body could not be read: ${fe.message}. Send JSON with Content-Type: application/json.`, { details: { reason: fe.code } }));
    }
    req.log.error({ err }, 'unhandled error');
    return reply.status(500).send(errorBody('internal_error', `Something went wrong on our side. Try again; if it keeps failing, an operator can find request ${req.id} in the server logs.`, { details: { requestId: req.id } }));
  });
  app.setNotFoundHandler(notFoundHandler);
}

/** 404 for a path no route serves (also set inside the authenticated /api/v1 scope, so its hooks run first). */
export function notFoundHandler(req: FastifyRequest, reply: FastifyReply): void {
  const path = req.url.split('?')[0];
  reply.status(404).send(errorBody('not_found', `There is no ${req.method} ${path}. See /api/docs for the API.`, { details: { method: req.method, path } }));
}

/**
 * JSON schema of the error body: the `Error` component of the OpenAPI document, referenced by every
 * route's 4xx and 5xx responses. It is the whole shape: nothing else sits beside these keys.
 */
export const errorSchema = {
  $id: 'Error',
  type: 'object',
  description: 'Every API error. `code` is stable (clients key on it); `message` is a sentence for people.',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string', enum: [...ERROR_CODES], description: 'Stable snake_case code; clients key on it.' },
        message: { type: 'string', description: 'What happened and what to do, in a plain sentence.' },
        holder: {
          type: 'object',
          description:
            'Who holds what the request wanted (address_in_use: the connection holding the address; for a personal holder the user fields are set and the inbox fields null, for a team holder the reverse).',
          properties: {
            kind: { type: 'string', enum: ['personal', 'team'] },
            connectionId: { type: 'string' },
            userId: { type: ['string', 'null'] },
            userName: { type: ['string', 'null'] },
            userState: { type: ['string', 'null'], enum: ['active', 'deactivated', 'removed', null] },
            inboxId: { type: ['string', 'null'] },
            inboxName: { type: ['string', 'null'] },
          },
          required: ['kind', 'connectionId', 'userId', 'userName', 'userState', 'inboxId', 'inboxName'],
          additionalProperties: false,
        },
        resolution: { type: 'string', description: 'What to do next.' },
        details: {
          type: 'object',
          description: 'Machine-readable facts, always an object: e.g. {field, reason} for one problem, {errors: [...]} for a list.',
          additionalProperties: true,
        },
      },
      required: ['code', 'message'],
      additionalProperties: false,
    },
  },
  required: ['error'],
  additionalProperties: false,
} as const;

/** The responses every API route declares for errors: its 4xx and 5xx answers are the `Error` schema. */
export const errorResponses = { '4xx': { $ref: 'Error#' }, '5xx': { $ref: 'Error#' } } as const;

/**
 * Declares `errorResponses` on every API route (under /api/) that does not declare its own 4xx/5xx,
 * so the OpenAPI document shows the one error shape on every operation. Install before the routes.
 */
export function documentErrorResponses(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/') || route.schema?.hide) return;
    const response = { ...((route.schema?.response as Record<string, unknown> | undefined) ?? {}) };
    for (const [status, schema] of Object.entries(errorResponses)) if (!(status in response)) response[status] = schema;
    route.schema = { ...(route.schema ?? {}), response };
  });
}
