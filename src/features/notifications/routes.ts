import type { FastifyInstance } from 'fastify';
import { requireActor } from '../../platform/http/auth.js';
import { errorResponses, idParams } from '../../platform/http/schemas.js';
import { notFound } from '../../platform/errors.js';

const notificationSchema = {
  type: 'object',
  properties: { id: { type: 'string' }, kind: { type: 'string' }, message: { type: 'string' }, data: { type: 'object', additionalProperties: true }, createdAt: { type: 'string' }, read: { type: 'boolean' } },
} as const;

export async function notificationRoutes(app: FastifyInstance): Promise<void> {
  const env = app.deps.env;
  app.get(
    '/notifications',
    { schema: { tags: ['notifications'], summary: 'Your notifications, newest first', response: { 200: { type: 'object', properties: { notifications: { type: 'array', items: notificationSchema }, unread: { type: 'integer' } } }, ...errorResponses } } },
    async (req) => {
      const actor = requireActor(req);
      const rows = await env.db.selectFrom('notifications').selectAll().where('account_id', '=', actor.accountId).where('user_id', '=', actor.user.id).orderBy('created_at', 'desc').limit(100).execute();
      return {
        notifications: rows.map((n) => ({ id: n.id, kind: n.kind, message: n.message, data: JSON.parse(n.data), createdAt: new Date(n.created_at).toISOString(), read: n.read_at !== null })),
        unread: rows.filter((n) => n.read_at === null).length,
      };
    },
  );
  app.post('/notifications/:id/read', { schema: { tags: ['notifications'], summary: 'Mark a notification read', params: idParams, response: { 204: { type: 'null' }, ...errorResponses } } }, async (req, reply) => {
    const actor = requireActor(req);
    const r = await env.db.updateTable('notifications').set({ read_at: env.now() }).where('id', '=', (req.params as { id: string }).id).where('user_id', '=', actor.user.id).where('account_id', '=', actor.accountId).executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw notFound('Notification');
    return reply.status(204).send();
  });
}
