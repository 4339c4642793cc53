import { json, readJson } from '../../../platform/database/json.js';
import type { ApiApp } from '../../../platform/http/typed.js';
import { requireActor } from '../../../platform/http/auth.js';
import { accountsPolicies } from '../policies.js';
import { authorize } from '../../../platform/authorize.js';
import { limitsFor, } from '../domain/plans.js';
import { listAuditEvents, loadAccount } from '../queries.js';
import { errorResponses } from '../../../platform/http/schemas.js';

export async function accountRoutes(app: ApiApp): Promise<void> {
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
      const a = await loadAccount(env.db, actor.accountId);
      return { id: a.id, name: a.name, plan: a.plan, limits: limitsFor(a.plan), settings: readJson('accounts.settings', a.settings, json.record, {}) };
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
      authorize(actor, accountsPolicies.readAuditLog);
      return { events: await listAuditEvents(env.db, actor.accountId, req.query) };
    },
  );
}
