import { decodeCursor, encodeCursor } from '../../crm/index.js';
import { invalidRequest } from '../../../platform/errors.js';
import { resolveFilter, type ConversationFilter, type ListFilterInput } from '../domain/filters.js';
import { conversationMatches } from '../search.js';
import type { Actor, CommandEnv, Executor } from '../../../platform/context.js';
import { compiledOnce } from '../../../platform/database/compiled-once.js';
import { rowBuilder } from '../../../platform/database/statement-cache.js';
import { accessLevelOf, conversationItem, inboxForListSelect, listColumnNames, listSelect, requireInboxForList, type ConversationItem, type ListRow } from '../queries.js';
import { notFound } from '../../../platform/errors.js';
import type { InboxesTable } from '../../../platform/database/schema.js';
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

/** The list-query key of a filter's shape without words or SLA bounds (see listConversations). */
function shapeKey(f: ConversationFilter, withCursor: boolean, withSla: boolean, limit: number): string {
  return [f.status ? 'eq' : 'ne', f.assignee.kind, f.connectionId !== null, f.contactId !== null, f.since !== null, f.until !== null, withCursor, withSla].map((x) => (typeof x === 'string' ? x : x ? 1 : 0)).join('|') + `|${limit}`;
}

/** PostgreSQL: the inbox (with its next snooze end) and a page of its conversations in one statement; values as ListValues, then the account. */
type InboxPageValues = [...ListValues, accountId: string];
type InboxPageRow = InboxesTable & { next_snooze_end: number | null; page: unknown[][] };
/** Row objects from the page's arrays, by shape's SLA columns (the builder SQLite's array rows get, statement-cache.ts). */
const pageRowBuilders = new Map<boolean, (r: unknown[]) => ListRow>();
function pageRows(withSla: boolean, arrays: unknown[][]): ListRow[] {
  let build = pageRowBuilders.get(withSla);
  if (!build) {
    build = rowBuilder(listColumnNames(withSla)) as unknown as (r: unknown[]) => ListRow;
    pageRowBuilders.set(withSla, build);
  }
  return arrays.map(build);
}
const inboxPageQueries = new Map<string, (db: Executor, ...values: InboxPageValues) => Promise<InboxPageRow[]>>();
/** Per inbox, whether its last page was read with the SLA columns (a guess for the next one, checked against its settings). */
const inboxHadSla = new Map<string, boolean>();

/**
 * PostgreSQL: `requireInboxForList`'s inbox row and the page of `buildList` in one statement, the page's rows as
 * one JSON array of arrays (json_build_array in the order of listColumnNames, made into objects here by pageRows;
 * bigint and integer columns read back as numbers, text as strings, nulls as null: the values pg gives for them as
 * columns). One round trip instead of two, and one value for pg to decode instead of 51 rows of 18 columns. API
 * bench, the list alone, CPU per request (this process + PostgreSQL's backends), alternated runs: 731 + 448 ->
 * 577 + 532 us. Objects (json_agg of the rows) instead of arrays cost PostgreSQL ~100 us more than they saved
 * here (their keys were ~40% of the text). Whether the page needs the SLA columns depends on the inbox's
 * settings, read by the same statement: the shape is guessed from the inbox's previous page and read again the
 * other way when the guess was wrong.
 */
function inboxPageQuery(f: ConversationFilter, withCursor: boolean, withSla: boolean, limit: number) {
  const key = shapeKey(f, withCursor, withSla, limit);
  let run = inboxPageQueries.get(key);
  if (!run) {
    run = compiledOnce<InboxPageValues, InboxPageRow>(`inboxPage ${key}`, (db, arg) => {
      const page = buildList(db, f, withCursor, withSla, limit, arg);
      const columns = listColumnNames(withSla).map((c) => `p."${c}"`).join(', ');
      return inboxForListSelect(db, arg(0), arg(9)).select(sql<unknown[][]>`(select coalesce(json_agg(json_build_array(${sql.raw(columns)}) order by p.last_message_at desc, p.id desc), '[]'::json) from (${page}) as p)`.as('page')) as never;
    });
    inboxPageQueries.set(key, run);
  }
  return run;
}

/**
 * One page of an inbox's conversations, newest activity first, filtered by a view and/or status,
 * assignee ("me", "unassigned", any user id), team address, contact and date, and searched across
 * subjects, bodies and participants. Keyset pagination on (last message time, id).
 */
export async function listConversations(env: CommandEnv, actor: Actor, inboxId: string, query: ListConversationsQuery = {}): Promise<ConversationPage> {
  const first = env.dialect === 'postgres' ? await inboxWithPage(env, actor, inboxId, query) : null;
  if (first?.page) return first.page;
  const { inbox, nextSnoozeEnd } = first ?? (await requireInboxForList(env.db, actor, inboxId));
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
    const key = shapeKey(f, cursor !== null, withSla, limit + 1);
    let run = listQueries.get(key);
    if (!run) {
      run = compiledOnce<ListValues, ListRow>(`list ${key}`, (db, arg) => buildList(db, f, cursor !== null, withSla, limit + 1, arg) as never);
      listQueries.set(key, run);
    }
    rows = await run(env.db, ...values);
  }
  return pageOf(rows, limit, now, soonUntil);
}

function pageOf(rows: ListRow[], limit: number, now: number, soonUntil: number | null): ConversationPage {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    conversations: page.map((r) => conversationItem(r, now, soonUntil)),
    nextCursor: rows.length > limit && last ? encodeCursor(['conv', Number(last.last_message_at), last.id]) : null,
  };
}

/**
 * PostgreSQL, a list without words nor SLA bounds: the inbox and the page in one statement (inboxPageQuery), the
 * page answered when it can stand as read (the actor may see the inbox, no snooze ended, the SLA columns as the
 * inbox needs them). Otherwise the inbox only (or null: the filter or cursor is refused after the inbox check,
 * as before), and listConversations goes on as on SQLite.
 */
async function inboxWithPage(
  env: CommandEnv,
  actor: Actor,
  inboxId: string,
  query: ListConversationsQuery,
): Promise<{ inbox: InboxesTable; nextSnoozeEnd: number | null; page?: ConversationPage } | null> {
  const checked = resolveFilter(query, actor.user.id);
  if (!checked.ok || checked.filter.terms.length || checked.filter.sla) return null;
  const f = checked.filter;
  let cursor: readonly [string, number, string] | null = null;
  if (query.cursor) {
    const c = decodeCursor(query.cursor, ['string', 'number', 'string'] as const);
    if (!c || c[0] !== 'conv') return null;
    cursor = c;
  }
  const limit = pageSize(query.limit);
  const guess = inboxHadSla.get(inboxId) ?? false;
  const values: InboxPageValues = [inboxId, f.status ?? 'spam', f.assignee.kind === 'user' ? f.assignee.userId : '', f.connectionId ?? '', f.contactId ?? '', f.since ?? 0, f.until ?? 0, cursor?.[1] ?? 0, cursor?.[2] ?? '', actor.accountId];
  const [r] = await inboxPageQuery(f, cursor !== null, guess, limit + 1)(env.db, ...values);
  if (!r) throw notFound('Inbox');
  const { next_snooze_end, page: rows, ...inbox } = r;
  if ((await accessLevelOf(env.db, actor, inbox)) === 'none') throw notFound('Inbox');
  const nextSnoozeEnd = next_snooze_end === null || next_snooze_end === undefined ? null : Number(next_snooze_end);
  const now = env.now();
  const sla = slaOfInboxSettings(inbox.settings);
  if (inboxHadSla.size >= 10_000) inboxHadSla.clear();
  inboxHadSla.set(inbox.id, sla !== null);
  // A page read without the SLA columns stands only for an inbox without targets (one with them reads them all).
  if ((nextSnoozeEnd !== null && nextSnoozeEnd <= now) || (sla !== null && !guess)) return { inbox, nextSnoozeEnd };
  return { inbox, nextSnoozeEnd, page: pageOf(pageRows(guess, rows), limit, now, sla ? soonBound(sla, now) : null) };
}
