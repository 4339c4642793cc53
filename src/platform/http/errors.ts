import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';

/** One error shape everywhere: {"error":{"code","message",...}}. No stack traces leave the server. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | AppError | Error, req, reply) => {
    if (err instanceof AppError) {
      return reply.status(err.status).send(err.toBody());
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      const details = fe.validation.map((v) => ({
        field: (v.instancePath || (v.params as { missingProperty?: string })?.missingProperty || '').replace(/^\//, '').replace(/\//g, '.'),
        problem: v.message,
      }));
      const first = details[0];
      return reply.status(400).send({
        error: {
          code: 'invalid_request',
          message: `The request is not valid${first ? `: ${first.field ? `${first.field} ` : ''}${first.problem}` : ''}. Fix it and try again.`,
          details,
        },
      });
    }
    if (fe.statusCode === 429) {
      return reply.status(429).send({ error: { code: 'rate_limited', message: 'Too many attempts. Wait a minute and try again.' } });
    }
    if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (fe.statusCode === 400 && fe.code?.startsWith('FST_'))) {
      return reply.status(fe.statusCode ?? 400).send({ error: { code: 'invalid_request', message: `The request body could not be read: ${fe.message}. Send JSON with Content-Type: application/json.` } });
    }
    if (fe.statusCode === 413) {
      return reply.status(413).send({ error: { code: 'payload_too_large', message: 'The request body is too large.' } });
    }
    req.log.error({ err }, 'unhandled error');
    return reply.status(500).send({
      error: { code: 'internal_error', message: `Something went wrong on our side. Try again; if it keeps failing, an operator can find request ${req.id} in the server logs.` },
    });
  });
  app.setNotFoundHandler(notFoundHandler);
}

/** 404 for a path no route serves (also set inside the authenticated /api/v1 scope, so its hooks run first). */
export function notFoundHandler(req: FastifyRequest, reply: FastifyReply): void {
  reply.status(404).send({ error: { code: 'not_found', message: `There is no ${req.method} ${req.url.split('?')[0]}. See /api/docs for the API.` } });
}

/** JSON schema of the error body, referenced by every route's responses. */
export const errorSchema = {
  $id: 'Error',
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' } },
      required: ['code', 'message'],
      additionalProperties: true,
    },
  },
  required: ['error'],
} as const;
