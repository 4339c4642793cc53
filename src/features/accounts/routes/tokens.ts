import type { FastifyInstance } from 'fastify';
import { requireActor } from '../../../platform/http/auth.js';
import { createApiToken } from '../commands/createApiToken.js';
import { revokeApiToken } from '../commands/revokeApiToken.js';
import { errorResponses, idParams } from '../../../platform/http/schemas.js';

const tokenSchema = {
  type: 'object',
  properties: { id: { type: 'string' }, name: { type: 'string' }, userId: { type: 'string' }, createdAt: { type: 'string' }, lastUsedAt: { type: ['string', 'null'] } },
} as const;

export async function tokenRoutes(app: FastifyInstance): Promise<void> {
  const env = app.deps.env;
  app.get('/tokens', { schema: { tags: ['tokens'], summary: 'Your API tokens (never the secret)', response: { 200: { type: 'object', properties: { tokens: { type: 'array', items: tokenSchema } } }, ...errorResponses } } }, async (req) => {
    const actor = requireActor(req);
    const rows = await env.db.selectFrom('api_tokens').selectAll().where('account_id', '=', actor.accountId).where('user_id', '=', actor.user.id).where('revoked_at', 'is', null).orderBy('created_at').execute();
    return {
      tokens: rows.map((t) => ({ id: t.id, name: t.name, userId: t.user_id, createdAt: new Date(t.created_at).toISOString(), lastUsedAt: t.last_used_at ? new Date(t.last_used_at).toISOString() : null })),
    };
  });
  app.post(
    '/tokens',
    {
      schema: {
        tags: ['tokens'],
        summary: 'Create an API token; the token is shown once',
        body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 120 }, userId: { type: 'string' } } },
        response: { 201: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, userId: { type: 'string' }, token: { type: 'string' } } }, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await createApiToken(env, requireActor(req), req.body as { name: string; userId?: string })),
  );
  app.delete('/tokens/:id', { schema: { tags: ['tokens'], summary: 'Revoke an API token', params: idParams, response: { 204: { type: 'null' }, ...errorResponses } } }, async (req, reply) => {
    await revokeApiToken(env, requireActor(req), (req.params as { id: string }).id);
    return reply.status(204).send();
  });
}
