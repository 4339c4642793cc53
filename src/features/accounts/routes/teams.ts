import type { FastifyInstance } from 'fastify';
import { requireActor } from '../../../platform/http/auth.js';
import { createTeam } from '../commands/createTeam.js';
import { notFound } from '../../../platform/errors.js';
import { errorResponses, idParams } from '../../../platform/http/schemas.js';

const teamSchema = {
  type: 'object',
  properties: { id: { type: 'string' }, name: { type: 'string' }, memberIds: { type: 'array', items: { type: 'string' } }, createdAt: { type: 'string' } },
} as const;

export async function teamRoutes(app: FastifyInstance): Promise<void> {
  const env = app.deps.env;
  const view = async (accountId: string, teamIds?: string[]) => {
    let q = env.db.selectFrom('teams').selectAll().where('account_id', '=', accountId);
    if (teamIds) q = q.where('id', 'in', teamIds);
    const teams = await q.orderBy('name').execute();
    const members = teams.length ? await env.db.selectFrom('team_members').select(['team_id', 'user_id']).where('account_id', '=', accountId).execute() : [];
    return teams.map((t) => ({
      id: t.id,
      name: t.name,
      memberIds: members.filter((m) => m.team_id === t.id).map((m) => m.user_id),
      createdAt: new Date(t.created_at).toISOString(),
    }));
  };
  app.get('/teams', { schema: { tags: ['teams'], summary: 'List teams', response: { 200: { type: 'object', properties: { teams: { type: 'array', items: teamSchema } } }, ...errorResponses } } }, async (req) => ({
    teams: await view(requireActor(req).accountId),
  }));
  app.get('/teams/:id', { schema: { tags: ['teams'], summary: 'Get a team', params: idParams, response: { 200: teamSchema, ...errorResponses } } }, async (req) => {
    const [t] = await view(requireActor(req).accountId, [(req.params as { id: string }).id]);
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
    async (req, reply) => reply.status(201).send(await createTeam(env, requireActor(req), req.body as { name: string })),
  );
}
