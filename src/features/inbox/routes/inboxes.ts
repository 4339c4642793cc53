import type { ApiApp } from '../../../platform/http/typed.js';
import { requireActor } from '../../../platform/http/auth.js';
import { createInbox } from '../commands/createInbox.js';
import { renameInbox } from '../commands/renameInbox.js';
import { deleteInbox } from '../commands/deleteInbox.js';
import { inboxViewById } from '../views.js';
import { errorResponses, idParams } from '../../../platform/http/schemas.js';
import { requireInboxAccess, visibleInboxes } from '../queries.js';

export const inboxSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    access: { type: 'string', enum: ['everyone', 'restricted'] },
    connections: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          address: { type: 'string' },
          transport: { type: 'string' },
          state: { type: 'string' },
          senderName: { type: 'object', properties: { mode: { type: 'string' }, custom: { type: ['string', 'null'] } }, description: 'How replies from this address are named' },
        },
      },
    },
    createdAt: { type: 'string' },
  },
} as const;

export async function inboxesRoutes(app: ApiApp): Promise<void> {
  const env = app.deps.env;
  app.get('/inboxes', { schema: { tags: ['inboxes'], summary: 'Conversations inboxes of the account', response: { 200: { type: 'object', properties: { inboxes: { type: 'array', items: inboxSchema } } }, ...errorResponses } } }, async (req) => {
    const actor = requireActor(req);
    return { inboxes: await Promise.all((await visibleInboxes(env.db, actor)).map((r) => inboxViewById(env.db, actor.accountId, r.id))) };
  });
  app.post(
    '/inboxes',
    {
      schema: {
        tags: ['inboxes'],
        summary: 'Create a conversations inbox (up to the plan\'s count)',
        body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 120 }, access: { type: 'string', enum: ['everyone', 'restricted'] } } },
        response: { 201: inboxSchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await createInbox(env, requireActor(req), req.body)),
  );
  app.get('/inboxes/:id', { schema: { tags: ['inboxes'], summary: 'One inbox with its team addresses', params: idParams, response: { 200: inboxSchema, ...errorResponses } } }, async (req) => {
    const actor = requireActor(req);
    const { inbox } = await requireInboxAccess(env.db, actor, req.params.id, 'view');
    return inboxViewById(env.db, actor.accountId, inbox.id);
  });
  app.patch(
    '/inboxes/:id',
    {
      schema: {
        tags: ['inboxes'],
        summary: 'Rename an inbox or change its access',
        params: idParams,
        body: { type: 'object', additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 120 }, access: { type: 'string', enum: ['everyone', 'restricted'] } } },
        response: { 200: inboxSchema, ...errorResponses },
      },
    },
    async (req) => renameInbox(env, requireActor(req), req.params.id, req.body),
  );
  app.delete('/inboxes/:id', { schema: { tags: ['inboxes'], summary: 'Delete an inbox; its team addresses are disconnected first', params: idParams, response: { 204: { type: 'null' }, ...errorResponses } } }, async (req, reply) => {
    await deleteInbox(env, requireActor(req), req.params.id);
    return reply.status(204).send();
  });
}
