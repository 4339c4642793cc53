import type { ApiApp } from '../../../platform/http/typed.js';
import { requireActor } from '../../../platform/http/auth.js';
import { createUser } from '../commands/createUser.js';
import { updateUser } from '../commands/updateUser.js';
import { changeUserState } from '../commands/changeUserState.js';
import { listUsers, loadUser, teamIdsOf } from '../queries.js';
import { userView } from '../views.js';
import { errorResponses, idParams, userSchema } from '../../../platform/http/schemas.js';

const permissionsInput = {
  type: 'object',
  properties: { personalEmail: { type: 'boolean' }, accountAccess: { type: 'boolean' }, availabilityManagement: { type: 'boolean' } },
  additionalProperties: false,
} as const;

export async function userRoutes(app: ApiApp): Promise<void> {
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
      const users = await listUsers(env.db, actor.accountId, req.query.state);
      return { users: users.map((u) => userView(u.user, u.teamIds)) };
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
      const r = await createUser(env, requireActor(req), req.body);
      return reply.status(201).send(r);
    },
  );

  app.get(
    '/users/:id',
    { schema: { tags: ['users'], summary: 'Get a user', params: idParams, response: { 200: userSchema, ...errorResponses } } },
    async (req) => {
      const actor = requireActor(req);
      const u = await loadUser(env.db, actor.accountId, req.params.id);
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
            undoSendSeconds: { type: 'integer', minimum: 0, maximum: 30, description: 'The user only: undo send, how long my replies and one-to-one emails wait before they leave (default 10; 0: at once)' },
          },
        },
        response: { 200: userSchema, ...errorResponses },
      },
    },
    async (req) => updateUser(env, requireActor(req), req.params.id, req.body),
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
      async (req) => changeUserState(env, requireActor(req), req.params.id, action),
    );
  }
}
