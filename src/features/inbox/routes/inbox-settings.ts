/**
 * Inbox settings: members (users and teams, for restricted inboxes), routing rules per team address,
 * allow and deny lists, service-level targets (SLA) in business hours. Reading needs sight of the inbox;
 * members, routing and targets need the account-access permission; the lists are managed by the inbox's members.
 */
import type { ApiApp } from '../../../platform/http/typed.js';
import { requireActor } from '../../../platform/http/auth.js';
import { addInboxMember } from '../commands/addInboxMember.js';
import { removeInboxMember } from '../commands/removeInboxMember.js';
import { setRoutingRule } from '../commands/setRoutingRule.js';
import { updateAllowDenyList } from '../commands/updateAllowDenyList.js';
import { requireInboxAccess } from '../queries.js';
import { inboxMembersView, routingView, senderListsView, slaSettingsView } from '../settings.js';
import { setInboxSla } from '../commands/setInboxSla.js';
import { errorResponses, idParams } from '../../../platform/http/schemas.js';

const membersSchema = {
  type: 'object',
  properties: {
    inboxId: { type: 'string' },
    access: { type: 'string', enum: ['everyone', 'restricted'] },
    members: {
      type: 'array',
      items: { type: 'object', properties: { type: { type: 'string', enum: ['user', 'team'] }, id: { type: 'string' }, name: { type: 'string' }, state: { type: ['string', 'null'] }, addedAt: { type: 'string' } } },
    },
  },
} as const;

const usersRuleSchema = {
  type: 'object',
  properties: {
    kind: { type: 'string', enum: ['users'] },
    strategy: { type: 'string', enum: ['round_robin', 'least_open'] },
    userIds: { type: 'array', items: { type: 'string' } },
    teamIds: { type: 'array', items: { type: 'string' } },
    perUserCap: { type: ['integer', 'null'] },
  },
} as const;

const ruleSchema = {
  type: 'object',
  description: '{"kind":"none"} | {"kind":"users","strategy":"round_robin"|"least_open","userIds":[],"teamIds":[],"perUserCap":null} | {"kind":"contact_owner","fallback":{"kind":"none"} or a users rule}',
  properties: {
    kind: { type: 'string', enum: ['none', 'users', 'contact_owner'] },
    strategy: usersRuleSchema.properties.strategy,
    userIds: usersRuleSchema.properties.userIds,
    teamIds: usersRuleSchema.properties.teamIds,
    perUserCap: usersRuleSchema.properties.perUserCap,
    fallback: { type: 'object', properties: { kind: { type: 'string', enum: ['none', 'users'] }, ...Object.fromEntries(Object.entries(usersRuleSchema.properties).filter(([k]) => k !== 'kind')) } },
  },
} as const;

const routingSchema = {
  type: 'object',
  properties: {
    inboxId: { type: 'string' },
    rules: {
      type: 'array',
      items: { type: 'object', properties: { connectionId: { type: 'string' }, address: { type: 'string' }, rule: ruleSchema, lastAssignedUserId: { type: ['string', 'null'] }, updatedAt: { type: ['string', 'null'] } } },
    },
  },
} as const;

const listsSchema = {
  type: 'object',
  properties: {
    inboxId: { type: 'string' },
    entries: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, list: { type: 'string', enum: ['allow', 'deny'] }, pattern: { type: 'string' }, createdAt: { type: 'string' } } } },
  },
} as const;

const workingHoursSchema = {
  type: ['object', 'null'],
  description: 'Business hours: {"timezone": "Europe/Paris", "days": {"mon": [["09:00", "17:00"]], "tue": [["09:00", "12:00"], ["13:00", "17:00"]]}}; a missing day is a day off; null: around the clock.',
  additionalProperties: false,
  properties: {
    timezone: { type: 'string', maxLength: 64 },
    days: { type: 'object', additionalProperties: { type: 'array', items: { type: 'array', items: { type: 'string', maxLength: 5 }, minItems: 2, maxItems: 2 } } },
  },
} as const;

const slaSchema = {
  type: 'object',
  properties: {
    inboxId: { type: 'string' },
    firstResponseMinutes: { type: ['integer', 'null'], description: 'Business minutes from a customer opening (or reopening) a conversation to the first reply; null: no target' },
    resolutionMinutes: { type: ['integer', 'null'], description: 'Business minutes from the opening message to closing; null: no target' },
    soonMinutes: { type: 'integer', description: '"Breaching soon" when a target is due within this many business minutes' },
    workingHours: workingHoursSchema,
  },
} as const;

/** Params of an inbox's member, routing rule or list entry. */
const memberParams = { type: 'object', required: ['id', 'memberId'], properties: { id: { type: 'string', maxLength: 64 }, memberId: { type: 'string', maxLength: 64 } } } as const;
const connectionParams = { type: 'object', required: ['id', 'connectionId'], properties: { id: { type: 'string', maxLength: 64 }, connectionId: { type: 'string', maxLength: 64 } } } as const;
const entryParams = { type: 'object', required: ['id', 'entryId'], properties: { id: { type: 'string', maxLength: 64 }, entryId: { type: 'string', maxLength: 64 } } } as const;

export async function inboxSettingsRoutes(app: ApiApp): Promise<void> {
  const env = app.deps.env;

  app.get('/inboxes/:id/members', { schema: { tags: ['inboxes'], summary: 'Users and teams listed on the inbox (they are its members when access is restricted)', params: idParams, response: { 200: membersSchema, ...errorResponses } } }, async (req) => {
    const { inbox } = await requireInboxAccess(env.db, requireActor(req), req.params.id, 'view');
    return inboxMembersView(env.db, inbox);
  });
  app.post(
    '/inboxes/:id/members',
    {
      schema: {
        tags: ['inboxes'],
        summary: 'Add a user or a team to the inbox',
        params: idParams,
        body: { type: 'object', additionalProperties: false, properties: { userId: { type: 'string', maxLength: 64 }, teamId: { type: 'string', maxLength: 64 } } },
        response: { 200: membersSchema, ...errorResponses },
      },
    },
    async (req) => addInboxMember(env, requireActor(req), req.params.id, req.body),
  );
  app.delete(
    '/inboxes/:id/members/:memberId',
    { schema: { tags: ['inboxes'], summary: 'Remove a user or team from the inbox (their open conversations are unassigned)', params: memberParams, response: { 200: membersSchema, ...errorResponses } } },
    async (req) => removeInboxMember(env, requireActor(req), req.params.id, req.params.memberId),
  );

  app.get('/inboxes/:id/routing', { schema: { tags: ['inboxes'], summary: 'Routing rule of each team address of the inbox', params: idParams, response: { 200: routingSchema, ...errorResponses } } }, async (req) => {
    const { inbox } = await requireInboxAccess(env.db, requireActor(req), req.params.id, 'view');
    return routingView(env.db, inbox);
  });
  app.put(
    '/inboxes/:id/routing/:connectionId',
    {
      schema: {
        tags: ['inboxes'],
        summary: 'Set the routing rule of a team address: none, users (round robin or least open, optional cap), or contact owner with a fallback',
        params: connectionParams,
        body: { type: 'object', required: ['rule'], additionalProperties: false, properties: { rule: { type: 'object', additionalProperties: true } } },
        response: { 200: routingSchema, ...errorResponses },
      },
    },
    async (req) => setRoutingRule(env, requireActor(req), req.params.id, req.params.connectionId, req.body),
  );

  app.get('/inboxes/:id/sla', { schema: { tags: ['inboxes'], summary: 'Service-level targets (first response, resolution) in business hours', params: idParams, response: { 200: slaSchema, ...errorResponses } } }, async (req) => {
    const { inbox } = await requireInboxAccess(env.db, requireActor(req), req.params.id, 'view');
    return slaSettingsView(inbox);
  });
  app.put(
    '/inboxes/:id/sla',
    {
      schema: {
        tags: ['inboxes'],
        summary: 'Set the service-level targets and business hours (both targets null: no SLA); due times of open conversations are recomputed',
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            firstResponseMinutes: { type: ['integer', 'null'] },
            resolutionMinutes: { type: ['integer', 'null'] },
            soonMinutes: { type: ['integer', 'null'] },
            workingHours: workingHoursSchema,
          },
        },
        response: { 200: slaSchema, ...errorResponses },
      },
    },
    async (req) => setInboxSla(env, requireActor(req), req.params.id, req.body),
  );

  app.get('/inboxes/:id/sender-lists', { schema: { tags: ['inboxes'], summary: 'Allow and deny lists (denied senders go to spam)', params: idParams, response: { 200: listsSchema, ...errorResponses } } }, async (req) => {
    const { inbox } = await requireInboxAccess(env.db, requireActor(req), req.params.id, 'view');
    return senderListsView(env.db, inbox);
  });
  app.post(
    '/inboxes/:id/sender-lists',
    {
      schema: {
        tags: ['inboxes'],
        summary: 'Add an address (ana@example.com) or a domain (@example.com) to the allow or deny list',
        params: idParams,
        body: { type: 'object', required: ['list', 'pattern'], additionalProperties: false, properties: { list: { type: 'string', enum: ['allow', 'deny'] }, pattern: { type: 'string', minLength: 1, maxLength: 320 } } },
        response: { 200: listsSchema, ...errorResponses },
      },
    },
    async (req) => updateAllowDenyList(env, requireActor(req), req.params.id, { add: req.body }),
  );
  app.delete(
    '/inboxes/:id/sender-lists/:entryId',
    { schema: { tags: ['inboxes'], summary: 'Remove an allow or deny list entry', params: entryParams, response: { 200: listsSchema, ...errorResponses } } },
    async (req) => updateAllowDenyList(env, requireActor(req), req.params.id, { remove: req.params.entryId }),
  );
}
