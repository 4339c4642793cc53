import { decodeCursor, encodeCursor } from '../../crm/index.js';
import { invalidRequest } from '../../../platform/errors.js';
import { resolveFilter, type ConversationFilter, type ListFilterInput } from '../domain/filters.js';
import { conversationMatches } from '../search.js';
import type { Actor, CommandEnv, Executor } from '../../../platform/context.js';
import { compiledOnce } from '../../../platform/database/compiled-once.js';
import { conversationItem, listSelect, requireInboxForList, type ConversationItem, type ListRow } from '../queries.js';
import { invalidCursor, pageSize } from '../../../platform/pagination.js';
import { wakeSnoozed } from '../snooze.js';
import { soonBound } from '../sla.js';
import { slaOfInboxSettings } from '../domain/sla.js';
import { sql } from 'kysely';

export interface ListConversationsQuery extends ListFilterInput {
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
}

export interface ConversationPage {
  conversations: ConversationItem[];
  nextCursor: string | null;
}

/** The values of a list query, in the order `buildList` reads them (`arg(i)`; the status only when one is asked). */
type ListValues = [inboxId: string, status: string, assigneeId: string, connectionId: string, contactId: string, since: number, until: number, cursorAt: number, cursorId: string];
/** Compiled list queries by shape and row limit (at most 201 limits: pageSize). */
const listQueries = new Map<string, (db: Executor, ...values: ListValues) => Promise<ListRow[]>>();

/**
 * The list query of a filter's shape, with each value taken from `arg` (see ListValues). The row limit is
 * written in the text, not bound: PostgreSQL guesses a bound LIMIT keeps a tenth of the rows, so the
 * generic plan of the prepared statement looked dearer than the custom ones (611 vs 265 on the API bench's
 * inbox, the same plan) and the open, unassigned and all views were planned afresh on every call (~0.7 ms
 * of planning for a 0.5 ms statement; pg_prepared_statements: 0 generic plans of 75 calls each). With the
 * limit written the generic plan is taken after five calls, as for the other views.
 */
function buildList(db: Executor, f: ConversationFilter, withCursor: boolean, withSla: boolean, limit: number, arg: (i: number) => any) {
  let q = listSelect(db, withSla).where('conversations.inbox_id', '=', arg(0)).where('conversations.deleted_at', 'is', null);
  // Without a status the list is every status but spam: a literal, so PostgreSQL's generic plan of the prepared
  // statement knows how many rows match (with a parameter it guessed one row, joined the whole inbox and sorted it:
  // 2.9 ms instead of 0.5 on the API bench's inbox).
  q = f.status ? q.where('conversations.status', '=', arg(1)) : q.where('conversations.status', '!=', sql.lit('spam'));
  if (f.assignee.kind === 'none') q = q.where('conversations.assignee_id', 'is', null);
  else if (f.assignee.kind === 'user') q = q.where('conversations.assignee_id', '=', arg(2));
  if (f.connectionId) q = q.where('conversations.connection_id', '=', arg(3));
  if (f.contactId) q = q.where('conversations.contact_id', '=', arg(4));
  if (f.since !== null) q = q.where('conversations.last_message_at', '>=', arg(5));
  if (f.until !== null) q = q.where('conversations.last_message_at', '<', arg(6));
  if (withCursor) q = q.where((eb) => eb(eb.refTuple('conversations.last_message_at', 'conversations.id'), '<', eb.tuple(arg(7), arg(8))));
  return q.orderBy('conversations.last_message_at', 'desc').orderBy('conversations.id', 'desc').limit(sql.lit(limit));
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

  let cursor: { at: number; id: string } | null = null;
  if (query.cursor) {
    const c = decodeCursor(query.cursor, ['string', 'number', 'string'] as const);
    if (!c || c[0] !== 'conv') throw invalidCursor();
    cursor = { at: c[1], id: c[2] };
  }
  const values: ListValues = [inbox.id, f.status ?? 'spam', f.assignee.kind === 'user' ? f.assignee.userId : '', f.connectionId ?? '', f.contactId ?? '', f.since ?? 0, f.until ?? 0, cursor?.at ?? 0, cursor?.id ?? ''];
  let rows: ListRow[];
  // "Breaching soon": due within the inbox's threshold of business time from now (./sla.ts).
  const sla = slaOfInboxSettings(inbox.settings);
  const soonUntil = sla ? soonBound(sla, now) : null;
  if (f.sla) {
    // Built each time: the bounds are instants that change every minute.
    let q = buildList(env.db, f, cursor !== null, true, limit + 1, (i) => values[i]);
    if (soonUntil === null) q = q.where(sql<boolean>`1 = 0`);
    else if (f.sla === 'breached') q = q.where('conversation_sla.next_due_at', '<=', now);
    else q = q.where('conversation_sla.next_due_at', '>', now).where('conversation_sla.next_due_at', '<=', soonUntil);
    if (f.terms.length) q = q.where(conversationMatches(env.dialect, actor.accountId, f.terms));
    rows = (await q.execute()) as ListRow[];
  } else if (f.terms.length) {
    // A search: built each time (its condition differs by database and by the number of words).
    rows = (await buildList(env.db, f, cursor !== null, sla !== null, limit + 1, (i) => values[i]).where(conversationMatches(env.dialect, actor.accountId, f.terms)).execute()) as ListRow[];
  } else {
    // Without words a list has one of a few shapes: each is compiled once. The SLA columns only for an inbox
    // with targets (queries.ts, listSelectBase).
    const withSla = sla !== null;
    const key = [f.status ? 'eq' : 'ne', f.assignee.kind, f.connectionId !== null, f.contactId !== null, f.since !== null, f.until !== null, cursor !== null, withSla].map((x) => (typeof x === 'string' ? x : x ? 1 : 0)).join('|') + `|${limit + 1}`;
    let run = listQueries.get(key);
    if (!run) {
      run = compiledOnce<ListValues, ListRow>(`list ${key}`, (db, arg) => buildList(db, f, cursor !== null, withSla, limit + 1, arg) as never);
      listQueries.set(key, run);
    }
    rows = await run(env.db, ...values);
  }
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    conversations: page.map((r) => conversationItem(r, now, soonUntil)),
    nextCursor: rows.length > limit && last ? encodeCursor(['conv', Number(last.last_message_at), last.id]) : null,
  };
}
