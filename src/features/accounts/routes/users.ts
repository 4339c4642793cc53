import type { FastifyInstance } from 'fastify';
import { requireActor } from '../../../platform/http/auth.js';
import { createUser, type CreateUserInput } from '../commands/createUser.js';
import { updateUser, type UpdateUserInput } from '../commands/updateUser.js';
import { changeUserState } from '../commands/changeUserState.js';
import { loadUser, teamIdsOf } from '../queries.js';
import { userView } from '../views.js';
import type { UserState } from '../domain/users.js';
import { errorResponses, idParams, userSchema } from '../../../platform/http/schemas.js';

const permissionsInput = {
  type: 'object',
  properties: { personalEmail: { type: 'boolean' }, accountAccess: { type: 'boolean' }, availabilityManagement: { type: 'boolean' } },
  additionalProperties: false,
} as const;

export async function userRoutes(app: FastifyInstance): Promise<void> {
  const env = app.deps.env;

  app.get(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'List the users of the account',
        querystring: { type: 'object', properties: { state: { type: 'string', enum: ['active', 'deactivated', 'removed'] } } },
        response: { 200: { type: 'object', properties: { users: { type: 'array', items: userSchema } } }, ...errorResponses },
      },
    },
    async (req) => {
      const actor = requireActor(req);
      const { state } = req.query as { state?: UserState };
      let q = env.db.selectFrom('users').selectAll().where('account_id', '=', actor.accountId);
      if (state) q = q.where('state', '=', state);
      const rows = await q.orderBy('name').execute();
      const members = rows.length
        ? await env.db.selectFrom('team_members').select(['user_id', 'team_id']).where('account_id', '=', actor.accountId).execute()
        : [];
      const byUser = new Map<string, string[]>();
      for (const m of members) byUser.set(m.user_id, [...(byUser.get(m.user_id) ?? []), m.team_id]);
      return { users: rows.map((u) => userView(u, byUser.get(u.id) ?? [])) };
    },
  );

  app.post(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Add a user (admins). Returns a generated password once when none is given.',
        body: {
          type: 'object',
          required: ['email', 'name'],
          additionalProperties: false,
          properties: {
            email: { type: 'string', maxLength: 320 },
            name: { type: 'string', minLength: 1, maxLength: 200 },
            role: { type: 'string', enum: ['super_admin', 'admin', 'member'] },
            seat: { type: 'string', enum: ['paid', 'free', 'view_only'] },
            permissions: permissionsInput,
            primaryTeamId: { type: 'string' },
            teamIds: { type: 'array', items: { type: 'string' }, maxItems: 100 },
            password: { type: 'string', minLength: 8, maxLength: 1024 },
          },
        },
        response: { 201: { type: 'object', properties: { user: userSchema, generatedPassword: { type: 'string' } }, required: ['user'] }, ...errorResponses },
      },
    },
    async (req, reply) => {
      const r = await createUser(env, requireActor(req), req.body as CreateUserInput);
      return reply.status(201).send(r);
    },
  );

  app.get(
    '/users/:id',
    { schema: { tags: ['users'], summary: 'Get a user', params: idParams, response: { 200: userSchema, ...errorResponses } } },
    async (req) => {
      const actor = requireActor(req);
      const u = await loadUser(env.db, actor.accountId, (req.params as { id: string }).id);
      return userView(u, await teamIdsOf(env.db, u.id));
    },
  );

  app.patch(
    '/users/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'Change a user (profile, role, seat, permissions, teams, availability)',
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            name: { type: 'string', maxLength: 200 },
            role: { type: 'string', enum: ['super_admin', 'admin', 'member'] },
            seat: { type: 'string', enum: ['paid', 'free', 'view_only'] },
            permissions: permissionsInput,
            primaryTeamId: { type: 'string' },
            teamIds: { type: 'array', items: { type: 'string' }, maxItems: 100 },
            availability: { type: 'string', enum: ['available', 'away'] },
            workingHours: { type: ['object', 'null'], additionalProperties: true },
            password: { type: 'string', minLength: 8, maxLength: 1024 },
            emailNotifications: { type: 'boolean', description: 'The user only: email my notifications to me (needs NOTIFY_SMTP_URL on the server)' },
          },
        },
        response: { 200: userSchema, ...errorResponses },
      },
    },
    async (req) => updateUser(env, requireActor(req), (req.params as { id: string }).id, req.body as UpdateUserInput),
  );

  for (const action of ['deactivate', 'remove', 'restore'] as const) {
    app.post(
      `/users/:id/${action}`,
      {
        schema: {
          tags: ['users'],
          summary: `${action[0]!.toUpperCase()}${action.slice(1)} a user (admins). Their data stays.`,
          params: idParams,
          response: { 200: userSchema, ...errorResponses },
        },
      },
      async (req) => changeUserState(env, requireActor(req), (req.params as { id: string }).id, action),
    );
  }
}
