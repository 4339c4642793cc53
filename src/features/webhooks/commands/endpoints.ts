/** Managing webhook endpoints (admins): create (the secret is shown once), change, delete, list. */
import { authorize } from '../../../platform/authorize.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { newId } from '../../../platform/database/ids.js';
import { invalidRequest } from '../../../platform/errors.js';
import { isEventType } from '../domain/catalogue.js';
import { checkEndpointUrl } from '../domain/delivery.js';
import { webhooksPolicies } from '../policies.js';
import { endpointsOf, loadEndpoint } from '../queries.js';
import { newSigningSecret } from '../signature.js';
import { endpointView, type EndpointView } from '../views.js';

/** Endpoints per account. */
export const MAX_ENDPOINTS = 20;

export interface EndpointInput {
  url?: string;
  description?: string;
  /** Event types, or ["*"] (the default) for every type. */
  eventTypes?: string[];
  enabled?: boolean;
}

function cleanUrl(url: string): string {
  const checked = checkEndpointUrl(url);
  if (!checked.ok) throw invalidRequest(checked.message, { field: 'url' });
  return checked.url;
}

function cleanTypes(types: string[]): string[] {
  const list = [...new Set(types.map((t) => t.trim()))];
  if (!list.length) throw invalidRequest('Give at least one event type, or "*" for every type.', { field: 'eventTypes' });
  if (list.includes('*')) return ['*'];
  const unknown = list.filter((t) => !isEventType(t));
  if (unknown.length) throw invalidRequest(`Unknown event type ${unknown.map((t) => `"${t}"`).join(', ')}. GET /api/v1/webhooks/event-types lists them.`, { field: 'eventTypes', unknown });
  return list;
}

/** Creates an endpoint. The answer carries its signing secret (whsec_...): the only time it is shown. */
export async function createEndpoint(env: CommandEnv, actor: Actor, input: EndpointInput & { url: string }): Promise<EndpointView & { secret: string }> {
  authorize(actor, webhooksPolicies.manage);
  const url = cleanUrl(input.url);
  const eventTypes = cleanTypes(input.eventTypes ?? ['*']);
  const secret = newSigningSecret();
  const now = env.now();
  const id = newId('whe');
  await env.db.transaction().execute(async (trx) => {
    const count = await trx.selectFrom('webhook_endpoints').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', actor.accountId).executeTakeFirstOrThrow();
    if (Number(count.n) >= MAX_ENDPOINTS) throw invalidRequest(`An account has at most ${MAX_ENDPOINTS} webhook endpoints. Delete one first.`);
    await trx
      .insertInto('webhook_endpoints')
      .values({
        id,
        account_id: actor.accountId,
        url,
        description: (input.description ?? '').trim(),
        event_types: JSON.stringify(eventTypes),
        enabled: input.enabled === false ? 0 : 1,
        secret: env.secrets.seal(secret),
        disabled_reason: null,
        created_by: actor.user.id,
        created_at: now,
        updated_at: now,
      })
      .execute();
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'webhook.endpoint_created', targetType: 'webhook_endpoint', targetId: id, data: { url, eventTypes }, at: now });
  });
  return { ...endpointView(await loadEndpoint(env.db, actor.accountId, id)), secret };
}

/** Changes an endpoint; enabling it again clears why it was disabled. */
export async function updateEndpoint(env: CommandEnv, actor: Actor, id: string, input: EndpointInput): Promise<EndpointView> {
  authorize(actor, webhooksPolicies.manage);
  const now = env.now();
  await env.db.transaction().execute(async (trx) => {
    await loadEndpoint(trx, actor.accountId, id);
    const set: Record<string, unknown> = {};
    if (input.url !== undefined) set.url = cleanUrl(input.url);
    if (input.description !== undefined) set.description = input.description.trim();
    if (input.eventTypes !== undefined) set.event_types = JSON.stringify(cleanTypes(input.eventTypes));
    if (input.enabled !== undefined) {
      set.enabled = input.enabled ? 1 : 0;
      set.disabled_reason = input.enabled ? null : 'Disabled by an admin.';
    }
    await trx.updateTable('webhook_endpoints').set({ ...set, updated_at: now }).where('id', '=', id).where('account_id', '=', actor.accountId).execute();
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'webhook.endpoint_updated', targetType: 'webhook_endpoint', targetId: id, data: { changed: Object.keys(set) }, at: now });
  });
  return endpointView(await loadEndpoint(env.db, actor.accountId, id));
}

/** Deletes an endpoint with its deliveries and their log; pending deliveries are not sent. */
export async function deleteEndpoint(env: CommandEnv, actor: Actor, id: string): Promise<void> {
  authorize(actor, webhooksPolicies.manage);
  const now = env.now();
  await env.db.transaction().execute(async (trx) => {
    await loadEndpoint(trx, actor.accountId, id);
    await trx.deleteFrom('webhook_attempts').where('endpoint_id', '=', id).execute();
    await trx.deleteFrom('webhook_deliveries').where('endpoint_id', '=', id).execute();
    await trx.deleteFrom('webhook_endpoints').where('id', '=', id).where('account_id', '=', actor.accountId).execute();
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'webhook.endpoint_deleted', targetType: 'webhook_endpoint', targetId: id, at: now });
  });
}

export async function listEndpoints(env: CommandEnv, actor: Actor): Promise<{ endpoints: EndpointView[] }> {
  authorize(actor, webhooksPolicies.manage);
  return { endpoints: (await endpointsOf(env.db, actor.accountId)).map(endpointView) };
}

export async function getEndpoint(env: CommandEnv, actor: Actor, id: string): Promise<EndpointView> {
  authorize(actor, webhooksPolicies.manage);
  return endpointView(await loadEndpoint(env.db, actor.accountId, id));
}
