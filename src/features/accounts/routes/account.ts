import type { FastifyInstance } from 'fastify';
import { requireActor } from '../../../platform/http/auth.js';
import { requireAdmin } from '../policies.js';
import { limitsFor, type PlanId } from '../domain/plans.js';
import { errorResponses } from '../../../platform/http/schemas.js';

export async function accountRoutes(app: FastifyInstance): Promise<void> {
  const env = app.deps.env;
  app.get(
    '/account',
    {
      schema: {
        tags: ['account'],
        summary: 'Your account, its plan and the plan limits',
        response: {
          200: {
            type: 'object',
            properties: { id: { type: 'string' }, name: { type: 'string' }, plan: { type: 'string' }, limits: { type: 'object', additionalProperties: true }, settings: { type: 'object', additionalProperties: true } },
          },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const actor = requireActor(req);
      const a = await env.db.selectFrom('accounts').selectAll().where('id', '=', actor.accountId).executeTakeFirstOrThrow();
      return { id: a.id, name: a.name, plan: a.plan, limits: limitsFor(a.plan as PlanId), settings: JSON.parse(a.settings) };
    },
  );
  app.get(
    '/audit-events',
    {
      schema: {
        tags: ['account'],
        summary: 'Audit log of every change in the account (admins), newest first',
        querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 }, before: { type: 'integer' }, targetId: { type: 'string' } } },
        response: {
          200: {
            type: 'object',
            properties: {
              events: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { id: { type: 'string' }, actorUserId: { type: ['string', 'null'] }, action: { type: 'string' }, targetType: { type: 'string' }, targetId: { type: ['string', 'null'] }, data: { type: 'object', additionalProperties: true }, createdAt: { type: 'string' }, at: { type: 'integer' } },
                },
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const actor = requireActor(req);
      requireAdmin(actor, 'read the audit log');
      const { limit, before, targetId } = req.query as { limit: number; before?: number; targetId?: string };
      let q = env.db.selectFrom('audit_events').selectAll().where('account_id', '=', actor.accountId);
      if (before) q = q.where('created_at', '<', before);
      if (targetId) q = q.where('target_id', '=', targetId);
      const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
      return {
        events: rows.map((e) => ({ id: e.id, actorUserId: e.actor_user_id, action: e.action, targetType: e.target_type, targetId: e.target_id, data: JSON.parse(e.data), createdAt: new Date(e.created_at).toISOString(), at: e.created_at })),
      };
    },
  );
}
