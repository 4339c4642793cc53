import type { ApiApp } from '../../platform/http/typed.js';
import { requireActor } from '../../platform/http/auth.js';
import { errorResponses, idParams } from '../../platform/http/schemas.js';
import { listNotifications } from './queries.js';
import { markNotificationRead } from './commands/markNotificationRead.js';

const notificationSchema = {
  type: 'object',
  properties: { id: { type: 'string' }, kind: { type: 'string' }, message: { type: 'string' }, data: { type: 'object', additionalProperties: true }, createdAt: { type: 'string' }, read: { type: 'boolean' } },
} as const;

export async function notificationRoutes(app: ApiApp): Promise<void> {
  const env = app.deps.env;
  app.get(
    '/notifications',
    { schema: { tags: ['notifications'], summary: 'Your notifications, newest first', response: { 200: { type: 'object', properties: { notifications: { type: 'array', items: notificationSchema }, unread: { type: 'integer' } } }, ...errorResponses } } },
    async (req) => {
      const actor = requireActor(req);
      return listNotifications(env.db, actor.accountId, actor.user.id);
    },
  );
  app.post('/notifications/:id/read', { schema: { tags: ['notifications'], summary: 'Mark a notification read', params: idParams, response: { 204: { type: 'null' }, ...errorResponses } } }, async (req, reply) => {
    await markNotificationRead(env, requireActor(req), req.params.id);
    return reply.status(204).send();
  });
}
