import type { ApiApp } from '../../../platform/http/typed.js';
import { listTeams } from '../queries.js';
import { requireActor } from '../../../platform/http/auth.js';
import { createTeam } from '../commands/createTeam.js';
import { notFound } from '../../../platform/errors.js';
import { errorResponses, idParams } from '../../../platform/http/schemas.js';

const teamSchema = {
  type: 'object',
  properties: { id: { type: 'string' }, name: { type: 'string' }, memberIds: { type: 'array', items: { type: 'string' } }, createdAt: { type: 'string' } },
} as const;

export async function teamRoutes(app: ApiApp): Promise<void> {
  const env = app.deps.env;
  const view = (accountId: string, teamIds?: string[]) => listTeams(env.db, accountId, teamIds);
  app.get('/teams', { schema: { tags: ['teams'], summary: 'List teams', response: { 200: { type: 'object', properties: { teams: { type: 'array', items: teamSchema } } }, ...errorResponses } } }, async (req) => ({
    teams: await view(requireActor(req).accountId),
  }));
  app.get('/teams/:id', { schema: { tags: ['teams'], summary: 'Get a team', params: idParams, response: { 200: teamSchema, ...errorResponses } } }, async (req) => {
    const [t] = await view(requireActor(req).accountId, [req.params.id]);
    if (!t) throw notFound('Team');
    return t;
  });
  app.post(
    '/teams',
    {
      schema: {
        tags: ['teams'],
        summary: 'Create a team (admins)',
        body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 120 } } },
        response: { 201: teamSchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await createTeam(env, requireActor(req), req.body)),
  );
}
