import type { ApiApp } from '../../../platform/http/typed.js';
import { listApiTokens } from '../queries.js';
import { requireActor } from '../../../platform/http/auth.js';
import { createApiToken } from '../commands/createApiToken.js';
import { revokeApiToken } from '../commands/revokeApiToken.js';
import { errorResponses, idParams } from '../../../platform/http/schemas.js';

const tokenSchema = {
  type: 'object',
  properties: { id: { type: 'string' }, name: { type: 'string' }, userId: { type: 'string' }, createdAt: { type: 'string' }, lastUsedAt: { type: ['string', 'null'] } },
} as const;

export async function tokenRoutes(app: ApiApp): Promise<void> {
  const env = app.deps.env;
  app.get('/tokens', { schema: { tags: ['tokens'], summary: 'Your API tokens (never the secret)', response: { 200: { type: 'object', properties: { tokens: { type: 'array', items: tokenSchema } } }, ...errorResponses } } }, async (req) => {
    const actor = requireActor(req);
    return { tokens: await listApiTokens(env.db, actor.accountId, actor.user.id) };
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
    async (req, reply) => reply.status(201).send(await createApiToken(env, requireActor(req), req.body)),
  );
  app.delete('/tokens/:id', { schema: { tags: ['tokens'], summary: 'Revoke an API token', params: idParams, response: { 204: { type: 'null' }, ...errorResponses } } }, async (req, reply) => {
    await revokeApiToken(env, requireActor(req), req.params.id);
    return reply.status(204).send();
  });
}
