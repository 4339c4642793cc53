/** Managing webhook endpoints (admins): create (the secret is shown once), change, delete, list. */
import { authorize } from '../../../platform/authorize.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { newId } from '../../../platform/database/ids.js';
import { invalidRequest } from '../../../platform/errors.js';
import { isEventType } from '../catalogue.js';
import { checkEndpointUrl } from '../domain/delivery.js';
import { webhooksPolicies } from '../policies.js';
import { endpointsOf, loadEndpoint } from '../queries.js';
import { newSigningSecret } from '../signature.js';
import { scheduleCleanup } from '../cleanup.js';
import { endpointView, type EndpointView } from '../views.js';

/** Endpoints per account. */
export const MAX_ENDPOINTS = 20;

export interface EndpointInput {
  url?: string;
  description?: string;
  /** Event types, or ["*"] (the default) for every type. */
  eventTypes?: string[];
  enabled?: boolean;
  /** thin (the default: ids and changed fields) or full (contact, company and conversation events carry the object in data.object). */
  payload?: PayloadMode;
}

export const PAYLOAD_MODES = ['thin', 'full'] as const;
export type PayloadMode = (typeof PAYLOAD_MODES)[number];

function cleanPayload(p: string): PayloadMode {
  if (!(PAYLOAD_MODES as readonly string[]).includes(p)) throw invalidRequest('payload is "thin" or "full".', { field: 'payload' });
  return p as PayloadMode;
}

/** How long the previous secret still signs after a rotation, by default (and at most). */
export const DEFAULT_ROTATION_OVERLAP_MS = 24 * 3600_000;
export const MAX_ROTATION_OVERLAP_MS = 7 * 24 * 3600_000;

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
        payload: cleanPayload(input.payload ?? 'thin'),
        previous_secret: null,
        previous_secret_until: null,
        failing_since: null,
        created_by: actor.user.id,
        created_at: now,
        updated_at: now,
      })
      .execute();
    await scheduleCleanup(trx, now);
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'webhook.endpoint_created', targetType: 'webhook_endpoint', targetId: id, data: { url, eventTypes }, at: now });
  });
  return { ...endpointView(await loadEndpoint(env.db, actor.accountId, id), now), secret };
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
    if (input.payload !== undefined) set.payload = cleanPayload(input.payload);
    if (input.enabled !== undefined) {
      set.enabled = input.enabled ? 1 : 0;
      set.disabled_reason = input.enabled ? null : 'Disabled by an admin.';
      // Enabled again: a new failure streak starts with the next failure.
      if (input.enabled) set.failing_since = null;
    }
    await trx.updateTable('webhook_endpoints').set({ ...set, updated_at: now }).where('id', '=', id).where('account_id', '=', actor.accountId).execute();
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'webhook.endpoint_updated', targetType: 'webhook_endpoint', targetId: id, data: { changed: Object.keys(set) }, at: now });
  });
  return endpointView(await loadEndpoint(env.db, actor.accountId, id), now);
}

/**
 * Rotates the signing secret: the answer carries the new whsec_ secret (the only time it is shown). For
 * `overlapMs` (24 hours by default) deliveries are signed with both, the new one first, so receivers can
 * switch without losing a delivery; 0 drops the old secret at once.
 */
export async function rotateSecret(env: CommandEnv, actor: Actor, id: string, input: { overlapHours?: number } = {}): Promise<EndpointView & { secret: string }> {
  authorize(actor, webhooksPolicies.manage);
  const overlapMs = input.overlapHours === undefined ? DEFAULT_ROTATION_OVERLAP_MS : Math.round(input.overlapHours * 3600_000);
  if (!Number.isFinite(overlapMs) || overlapMs < 0 || overlapMs > MAX_ROTATION_OVERLAP_MS) throw invalidRequest(`overlapHours is between 0 and ${MAX_ROTATION_OVERLAP_MS / 3600_000}.`, { field: 'overlapHours' });
  const secret = newSigningSecret();
  const now = env.now();
  await env.db.transaction().execute(async (trx) => {
    const e = await loadEndpoint(trx, actor.accountId, id);
    await trx
      .updateTable('webhook_endpoints')
      .set({ secret: env.secrets.seal(secret), previous_secret: overlapMs > 0 ? e.secret : null, previous_secret_until: overlapMs > 0 ? now + overlapMs : null, updated_at: now })
      .where('id', '=', id)
      .where('account_id', '=', actor.accountId)
      .execute();
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'webhook.secret_rotated', targetType: 'webhook_endpoint', targetId: id, data: { overlapMs }, at: now });
  });
  return { ...endpointView(await loadEndpoint(env.db, actor.accountId, id), now), secret };
}

/** Deletes an endpoint with its deliveries and their log; pending deliveries are not sent. */
export async function deleteEndpoint(env: CommandEnv, actor: Actor, id: string): Promise<void> {
  authorize(actor, webhooksPolicies.manage);
  const now = env.now();
  await env.db.transaction().execute(async (trx) => {
    await loadEndpoint(trx, actor.accountId, id);
    // The log goes by its deliveries (webhook_attempts has no endpoint index: one fewer write per attempt).
    await trx.deleteFrom('webhook_attempts').where('delivery_id', 'in', trx.selectFrom('webhook_deliveries').select('id').where('endpoint_id', '=', id)).execute();
    await trx.deleteFrom('webhook_deliveries').where('endpoint_id', '=', id).execute();
    await trx.deleteFrom('webhook_endpoints').where('id', '=', id).where('account_id', '=', actor.accountId).execute();
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'webhook.endpoint_deleted', targetType: 'webhook_endpoint', targetId: id, at: now });
  });
}

export async function listEndpoints(env: CommandEnv, actor: Actor): Promise<{ endpoints: EndpointView[] }> {
  authorize(actor, webhooksPolicies.manage);
  const now = env.now();
  return { endpoints: (await endpointsOf(env.db, actor.accountId)).map((e) => endpointView(e, now)) };
}

export async function getEndpoint(env: CommandEnv, actor: Actor, id: string): Promise<EndpointView> {
  authorize(actor, webhooksPolicies.manage);
  return endpointView(await loadEndpoint(env.db, actor.accountId, id), env.now());
}
