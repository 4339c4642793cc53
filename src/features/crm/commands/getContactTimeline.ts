import { decodeCursor, encodeCursor } from '../domain/contacts.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { loadContact } from '../queries.js';
import { invalidCursor, pageSize } from '../../../platform/pagination.js';
import { json, readJson } from '../../../platform/database/json.js';

export interface TimelineEventView {
  id: string;
  kind: string;
  occurredAt: string;
  actorUserId: string | null;
  refType: string | null;
  refId: string | null;
  data: Record<string, unknown>;
}

export function timelineEventView(e: { id: string; kind: string; occurred_at: number; actor_user_id: string | null; ref_type: string | null; ref_id: string | null; data: string }): TimelineEventView {
  // A malformed document shows as empty data rather than breaking the whole timeline.
  const data = readJson('timeline_events.data', e.data, json.record, {});
  return { id: e.id, kind: e.kind, occurredAt: new Date(e.occurred_at).toISOString(), actorUserId: e.actor_user_id, refType: e.ref_type, refId: e.ref_id, data };
}

/** One page of a contact's timeline, newest first (404 for contacts of other accounts). */
export async function getContactTimeline(env: CommandEnv, actor: Actor, contactId: string, query: { limit?: number; cursor?: string } = {}) {
  const contact = await loadContact(env.db, actor.accountId, contactId);
  const limit = pageSize(query.limit);
  let q = env.db.selectFrom('timeline_events').selectAll().where('account_id', '=', actor.accountId).where('contact_id', '=', contact.id);
  if (query.cursor) {
    const c = decodeCursor(query.cursor, ['string', 'number', 'string'] as const);
    if (!c || c[0] !== 'timeline') throw invalidCursor();
    const [, at, id] = c;
    q = q.where((eb) => eb.or([eb('occurred_at', '<', at), eb.and([eb('occurred_at', '=', at), eb('id', '<', id)])]));
  }
  const rows = await q.orderBy('occurred_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    events: page.map(timelineEventView),
    nextCursor: rows.length > limit && last ? encodeCursor(['timeline', last.occurred_at, last.id]) : null,
  };
}
