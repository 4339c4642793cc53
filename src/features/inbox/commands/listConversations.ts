import { decodeCursor, encodeCursor } from '../../crm/index.js';
import { invalidRequest } from '../../../platform/errors.js';
import { resolveFilter, type ListFilterInput } from '../domain/filters.js';
import { conversationMatches } from '../search.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { conversationItem, listSelect, requireInboxForList, type ConversationItem, type ListRow } from '../queries.js';
import { invalidCursor, pageSize } from '../../../platform/pagination.js';
import { wakeSnoozed } from '../snooze.js';

export interface ListConversationsQuery extends ListFilterInput {
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
}

export interface ConversationPage {
  conversations: ConversationItem[];
  nextCursor: string | null;
}

/**
 * One page of an inbox's conversations, newest activity first, filtered by a view and/or status,
 * assignee ("me", "unassigned", any user id), team address, contact and date, and searched across
 * subjects, bodies and participants. Keyset pagination on (last message time, id).
 */
export async function listConversations(env: CommandEnv, actor: Actor, inboxId: string, query: ListConversationsQuery = {}): Promise<ConversationPage> {
  const { inbox, nextSnoozeEnd } = await requireInboxForList(env.db, actor, inboxId);
  const checked = resolveFilter(query, actor.user.id);
  if (!checked.ok) throw invalidRequest(checked.message, { field: checked.field });
  const f = checked.filter;
  const limit = pageSize(query.limit);
  const now = env.now();
  if (nextSnoozeEnd !== null && nextSnoozeEnd <= now) await wakeSnoozed(env, inbox.id, now);

  let q = listSelect(env.db).where('conversations.inbox_id', '=', inbox.id).where('conversations.deleted_at', 'is', null);
  q = f.status ? q.where('conversations.status', '=', f.status) : q.where('conversations.status', '!=', 'spam');
  if (f.assignee.kind === 'none') q = q.where('conversations.assignee_id', 'is', null);
  else if (f.assignee.kind === 'user') q = q.where('conversations.assignee_id', '=', f.assignee.userId);
  if (f.connectionId) q = q.where('conversations.connection_id', '=', f.connectionId);
  if (f.contactId) q = q.where('conversations.contact_id', '=', f.contactId);
  if (f.since !== null) q = q.where('conversations.last_message_at', '>=', f.since);
  if (f.until !== null) q = q.where('conversations.last_message_at', '<', f.until);
  if (f.terms.length) q = q.where(conversationMatches(env.dialect, actor.accountId, f.terms));
  if (query.cursor) {
    const c = decodeCursor(query.cursor, ['string', 'number', 'string'] as const);
    if (!c || c[0] !== 'conv') throw invalidCursor();
    const [, at, id] = c;
    q = q.where((eb) => eb(eb.refTuple('conversations.last_message_at', 'conversations.id'), '<', eb.tuple(at, id)));
  }
  const rows = (await q.orderBy('conversations.last_message_at', 'desc').orderBy('conversations.id', 'desc').limit(limit + 1).execute()) as ListRow[];
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    conversations: page.map((r) => conversationItem(r, now)),
    nextCursor: rows.length > limit && last ? encodeCursor(['conv', Number(last.last_message_at), last.id]) : null,
  };
}
