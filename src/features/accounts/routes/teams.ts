import type { ApiApp } from '../../../platform/http/typed.js';
import { listTeams } from '../queries.js';
import { requireActor } from '../../../platform/http/auth.js';
import { createTeam } from '../commands/createTeam.js';
import { renameTeam } from '../commands/renameTeam.js';
import { deleteTeam } from '../commands/deleteTeam.js';
import { loadTeam } from '../queries.js';
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
    const actor = requireActor(req);
    const team = await loadTeam(env.db, actor.accountId, req.params.id);
    const [t] = await view(actor.accountId, [team.id]);
    return t!;
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
  app.patch(
    '/teams/:id',
    {
      schema: {
        tags: ['teams'],
        summary: 'Rename a team (admins)',
        description: 'Inboxes and routing rules name teams by id and follow the new name. 404 not_found, 409 team_name_taken.',
        params: idParams,
        body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 120 } } },
        response: { 200: teamSchema, ...errorResponses },
      },
    },
    async (req) => renameTeam(env, requireActor(req), req.params.id, req.body),
  );
  app.delete(
    '/teams/:id',
    {
      schema: {
        tags: ['teams'],
        summary: 'Delete a team (admins)',
        description:
          'Its members leave it (and are notified); it leaves the member lists of inboxes (in a restricted inbox, conversations of people who lose access are unassigned); routing rules that named it route to the rest of their pool, or are disabled when it was all they had (their last editor and the admins are notified). The answer lists every such change. 404 not_found.',
        params: idParams,
        response: {
          200: {
            type: 'object',
            properties: {
              id: { type: 'string' },
              name: { type: 'string' },
              memberIds: { type: 'array', items: { type: 'string' } },
              adjustments: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    kind: { type: 'string', description: 'inbox_member_removed | routing_rule_retargeted | routing_rule_disabled' },
                    summary: { type: 'string' },
                    inboxId: { type: 'string' },
                    connectionId: { type: 'string' },
                    conversationIds: { type: 'array', items: { type: 'string' } },
                  },
                  required: ['kind', 'summary'],
                },
              },
            },
            required: ['id', 'name', 'memberIds', 'adjustments'],
          },
          ...errorResponses,
        },
      },
    },
    async (req) => deleteTeam(env, requireActor(req), req.params.id),
  );
}
