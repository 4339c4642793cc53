/**
 * Shared pieces of the inbox commands: who may see and act in an inbox, loading a conversation the
 * actor may see (404 otherwise, like another account's), activity records, and the API views.
 */
import path from 'node:path';
import { sql } from 'kysely';
import { compiledOnce } from '../../platform/database/compiled-once.js';
import { AppError, notFound } from '../../platform/errors.js';
import { inboxAccessLevel, isInboxMember, type InboxAccessLevel, type MembershipFacts } from './domain/membership.js';
import { effectiveStatus } from './domain/status.js';
import { newId } from '../../platform/database/ids.js';
import type { ConversationsTable, InboxesTable } from '../../platform/database/schema.js';
import { folderBlobStore, type BlobStore } from '../../mail/blob-store.js';
import type { QueueEmailDeps } from '../outbox/index.js';
import type { Actor, CommandEnv, Executor } from '../../platform/context.js';
import { viewersOf } from './live.js';
import { json, readJson } from '../../platform/database/json.js';
import { isoTime } from '../../platform/http/iso-time.js';
import { slaView, soonBound } from './sla.js';
import { slaOfInboxSettings } from './domain/sla.js';

export type ConversationRow = ConversationsTable;

export async function loadLiveInbox(db: Executor, accountId: string, inboxId: string): Promise<InboxesTable> {
  const i = await db.selectFrom('inboxes').selectAll().where('id', '=', inboxId).where('account_id', '=', accountId).where('deleted_at', 'is', null).executeTakeFirst();
  if (!i) throw notFound('Inbox');
  return i;
}

/** Whether a user is listed on the inbox, directly or through one of their teams. */
export async function membershipFacts(db: Executor, inbox: InboxesTable, userId: string): Promise<MembershipFacts> {
  if (inbox.access === 'everyone') return { access: inbox.access, listed: false, teamListed: false };
  const rows = await db
    .selectFrom('inbox_members')
    .select(['member_type', 'member_id'])
    .where('inbox_id', '=', inbox.id)
    .where((eb) =>
      eb.or([
        eb.and([eb('member_type', '=', 'user'), eb('member_id', '=', userId)]),
        eb.and([eb('member_type', '=', 'team'), eb('member_id', 'in', eb.selectFrom('team_members').select('team_id').where('user_id', '=', userId))]),
      ]),
    )
    .execute();
  return { access: inbox.access, listed: rows.some((r) => r.member_type === 'user'), teamListed: rows.some((r) => r.member_type === 'team') };
}

export async function accessLevelOf(db: Executor, actor: Actor, inbox: InboxesTable): Promise<InboxAccessLevel> {
  return inboxAccessLevel(actor.user, await membershipFacts(db, inbox, actor.user.id));
}

const viewOnlyMessage = (inbox: { name: string }) =>
  new AppError('permission_denied', 403, `You can see the ${inbox.name} inbox but not act in it: only its members reply, comment, assign and change conversations. Ask an admin to add you to the inbox.`);

/** The inbox if the actor may see it (404 otherwise); with `act`, 403 for viewers who may not act. */
export async function requireInboxAccess(db: Executor, actor: Actor, inboxId: string, need: 'view' | 'act'): Promise<{ inbox: InboxesTable; level: InboxAccessLevel }> {
  const inbox = await loadLiveInbox(db, actor.accountId, inboxId);
  const level = await accessLevelOf(db, actor, inbox);
  if (level === 'none') throw notFound('Inbox');
  if (need === 'act' && level !== 'act') throw viewOnlyMessage(inbox);
  return { inbox, level };
}

/** The select of `requireInboxForList`: the live inbox of the account with `next_snooze_end` (for reads that add to it). */
export function inboxForListSelect(db: Executor, inboxId: unknown, accountId: unknown) {
  return db
    .selectFrom('inboxes')
    .selectAll('inboxes')
    .select((eb) =>
      eb
        .selectFrom('conversations')
        .select((e) => e.fn.min('conversations.snoozed_until').as('m'))
        .whereRef('conversations.inbox_id', '=', 'inboxes.id')
        // A literal, not a parameter: SQLite uses the partial index of snoozed conversations (migration 005) only then.
        .where('conversations.status', '=', sql.lit('snoozed'))
        .as('next_snooze_end'),
    )
    .where('inboxes.id', '=', inboxId as string)
    .where('inboxes.account_id', '=', accountId as string)
    .where('inboxes.deleted_at', 'is', null);
}

const inboxForListQuery = compiledOnce<[inboxId: string, accountId: string], InboxesTable & { next_snooze_end: number | null }>('inboxForList', (db, arg) => inboxForListSelect(db, arg(0), arg(1)));

/**
 * `requireInboxAccess(..., 'view')` for reading the inbox's list, with in the same query when its next snooze
 * ends (null when nothing is snoozed): a list wakes snoozed conversations only when one is due.
 */
export async function requireInboxForList(db: Executor, actor: Actor, inboxId: string): Promise<{ inbox: InboxesTable; level: InboxAccessLevel; nextSnoozeEnd: number | null }> {
  const [r] = await inboxForListQuery(db, inboxId, actor.accountId);
  if (!r) throw notFound('Inbox');
  const { next_snooze_end, ...inbox } = r;
  const level = await accessLevelOf(db, actor, inbox);
  if (level === 'none') throw notFound('Inbox');
  return { inbox, level, nextSnoozeEnd: next_snooze_end === null || next_snooze_end === undefined ? null : Number(next_snooze_end) };
}

/** A team conversation the actor may see (404 otherwise); with `act`, 403 for viewers. */
export async function requireConversation(db: Executor, actor: Actor, conversationId: string, need: 'view' | 'act'): Promise<{ conversation: ConversationRow; inbox: InboxesTable; level: InboxAccessLevel }> {
  const c = await db
    .selectFrom('conversations')
    .selectAll()
    .where('id', '=', conversationId)
    .where('account_id', '=', actor.accountId)
    .where('kind', '=', 'team')
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (!c || !c.inbox_id) throw notFound('Conversation');
  const inbox = await db.selectFrom('inboxes').selectAll().where('id', '=', c.inbox_id).where('account_id', '=', actor.accountId).where('deleted_at', 'is', null).executeTakeFirst();
  if (!inbox) throw notFound('Conversation');
  const level = await accessLevelOf(db, actor, inbox);
  if (level === 'none') throw notFound('Conversation');
  if (need === 'act' && level !== 'act') throw viewOnlyMessage(inbox);
  return { conversation: c, inbox, level };
}

/** Ids of the active users who are members of the inbox. */
export async function inboxMemberIds(db: Executor, inbox: InboxesTable): Promise<Set<string>> {
  if (inbox.access === 'everyone') {
    const rows = await db.selectFrom('users').select('id').where('account_id', '=', inbox.account_id).where('state', '=', 'active').execute();
    return new Set(rows.map((r) => r.id));
  }
  const listed = await db.selectFrom('inbox_members').select(['member_type', 'member_id']).where('inbox_id', '=', inbox.id).execute();
  const userIds = listed.filter((r) => r.member_type === 'user').map((r) => r.member_id);
  const teamIds = listed.filter((r) => r.member_type === 'team').map((r) => r.member_id);
  const viaTeams = teamIds.length ? await db.selectFrom('team_members').select('user_id').where('team_id', 'in', teamIds).execute() : [];
  const ids = [...new Set([...userIds, ...viaTeams.map((r) => r.user_id)])];
  if (!ids.length) return new Set();
  const active = await db.selectFrom('users').select('id').where('account_id', '=', inbox.account_id).where('state', '=', 'active').where('id', 'in', ids).execute();
  return new Set(active.map((r) => r.id));
}

/** Is this user (any state) a member of the inbox? */
export async function isMemberOf(db: Executor, inbox: InboxesTable, user: { id: string; state: string }): Promise<boolean> {
  return isInboxMember(user, await membershipFacts(db, inbox, user.id));
}

export type ActivityKind = 'comment' | 'assignment' | 'status' | 'move' | 'spam' | 'reply' | 'merge';

export async function recordActivity(trx: Executor, a: { accountId: string; conversationId: string; kind: ActivityKind; actorUserId: string | null; data: Record<string, unknown>; at: number }): Promise<string> {
  const id = newId('act');
  await trx.insertInto('conversation_activity').values({ id, account_id: a.accountId, conversation_id: a.conversationId, kind: a.kind, actor_user_id: a.actorUserId, data: JSON.stringify(a.data), created_at: a.at }).execute();
  return id;
}

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : isoTime(Number(ms)));

/** The columns of a conversation its API shape needs (a list reads 50 of them: only these). */
const LIST_COLUMNS = [
  'conversations.id',
  'conversations.inbox_id',
  'conversations.connection_id',
  'conversations.subject',
  'conversations.status',
  'conversations.snoozed_until',
  'conversations.assignee_id',
  'conversations.contact_id',
  'conversations.participants',
  'conversations.message_count',
  'conversations.last_message_at',
  'conversations.last_inbound_at',
  'conversations.created_at',
] as const;
type ListColumn = (typeof LIST_COLUMNS)[number] extends `conversations.${infer C}` ? C : never;

export interface ListRow extends Pick<ConversationRow, ListColumn> {
  assignee_name: string | null;
  assignee_state: string | null;
  contact_first_name: string | null;
  contact_last_name: string | null;
  snippet: string | null;
  sla_cycle_started_at: number | null;
  sla_first_response_due_at: number | null;
  sla_first_response_met_at: number | null;
  sla_first_response_breached: number | null;
  sla_resolution_due_at: number | null;
  sla_resolution_met_at: number | null;
  sla_resolution_breached: number | null;
  sla_paused: string | null;
  sla_next_due_at: number | null;
}

/** The SLA columns of a list row, as `slaView` reads them (null: no row). */
function slaColumns(r: ListRow) {
  if (r.sla_cycle_started_at === null || r.sla_cycle_started_at === undefined) return null;
  return {
    cycle_started_at: r.sla_cycle_started_at,
    first_response_due_at: r.sla_first_response_due_at,
    first_response_met_at: r.sla_first_response_met_at,
    first_response_breached: r.sla_first_response_breached === null ? null : Number(r.sla_first_response_breached),
    resolution_due_at: r.sla_resolution_due_at,
    resolution_met_at: r.sla_resolution_met_at,
    resolution_breached: r.sla_resolution_breached === null ? null : Number(r.sla_resolution_breached),
    paused: r.sla_paused,
    next_due_at: r.sla_next_due_at,
  };
}

/**
 * The API shape of a conversation in lists. `soonUntil`: the instant up to which a due time counts as
 * "breaching soon" in its inbox (./sla.ts `soonBound`); without it a target not yet due reads "on_track".
 */
export function conversationItem(r: ListRow, now: number, soonUntil: number | null = null) {
  const contactName = r.contact_id ? `${r.contact_first_name ?? ''} ${r.contact_last_name ?? ''}`.trim() : null;
  return {
    id: r.id,
    inboxId: r.inbox_id!,
    connectionId: r.connection_id,
    subject: r.subject,
    status: effectiveStatus({ status: r.status, snoozedUntil: r.snoozed_until === null ? null : Number(r.snoozed_until) }, now),
    snoozedUntil: r.status === 'snoozed' ? iso(r.snoozed_until) : null,
    assignee: r.assignee_id ? { id: r.assignee_id, name: r.assignee_name ?? '', state: r.assignee_state ?? 'removed' } : null,
    contact: r.contact_id ? { id: r.contact_id, name: contactName || null } : null,
    participants: readJson('conversations.participants', r.participants, json.stringArray, []),
    messageCount: r.message_count,
    snippet: r.snippet ?? '',
    lastMessageAt: iso(r.last_message_at)!,
    lastInboundAt: iso(r.last_inbound_at),
    createdAt: iso(r.created_at)!,
    /** Service-level targets of its inbox: due and met times, paused, state; null when the inbox has none. */
    sla: slaView(slaColumns(r), now, soonUntil),
  };
}
export type ConversationItem = ReturnType<typeof conversationItem>;

/**
 * The list columns of conversations but the snippet: the conversation, its assignee's and contact's names,
 * and (`withSla`) its service-level record. A list of an inbox without targets leaves those 9 columns out: such
 * an inbox's conversations have no record (setInboxSla and refreshConversationSla delete them in the change's
 * transaction), and a row without the columns reads `sla: null` as a row with no record does. The join stays
 * in the text, for the SLA views' conditions; without its columns SQLite and PostgreSQL leave an outer join
 * on a unique key out of the plan. (SQLite: the 9 columns and the join were a fifth of the list query's CPU,
 * ~70 of 350 us for 50 rows, most of it making the values JavaScript ones.)
 */
function listSelectBase(db: Executor, withSla = true) {
  const q = db
    .selectFrom('conversations')
    .leftJoin('users as assignee', 'assignee.id', 'conversations.assignee_id')
    .leftJoin('contacts', 'contacts.id', 'conversations.contact_id')
    .leftJoin('conversation_sla', 'conversation_sla.conversation_id', 'conversations.id')
    .select(LIST_COLUMNS)
    .select(LIST_JOINED_COLUMNS);
  if (!withSla) return q;
  return q.select(LIST_SLA_COLUMNS);
}

const LIST_JOINED_COLUMNS = ['assignee.name as assignee_name', 'assignee.state as assignee_state', 'contacts.first_name as contact_first_name', 'contacts.last_name as contact_last_name'] as const;
const LIST_SLA_COLUMNS = [
  'conversation_sla.cycle_started_at as sla_cycle_started_at',
  'conversation_sla.first_response_due_at as sla_first_response_due_at',
  'conversation_sla.first_response_met_at as sla_first_response_met_at',
  'conversation_sla.first_response_breached as sla_first_response_breached',
  'conversation_sla.resolution_due_at as sla_resolution_due_at',
  'conversation_sla.resolution_met_at as sla_resolution_met_at',
  'conversation_sla.resolution_breached as sla_resolution_breached',
  'conversation_sla.paused as sla_paused',
  'conversation_sla.next_due_at as sla_next_due_at',
] as const;

/** The names of the columns `listSelect(db, withSla)` reads, in its order (from the lists listSelectBase selects). */
export function listColumnNames(withSla: boolean): string[] {
  const name = (c: string) => (c.includes(' as ') ? c.slice(c.indexOf(' as ') + 4) : c.slice(c.indexOf('.') + 1));
  return [...LIST_COLUMNS, ...LIST_JOINED_COLUMNS, ...(withSla ? LIST_SLA_COLUMNS : [])].map(name).concat('snippet');
}

/** Loads the list columns of the given conversations (used by list and thread views); see listSelectBase for `withSla`. */
export function listSelect(db: Executor, withSla = true) {
  return listSelectBase(db, withSla).select((eb) =>
    eb.selectFrom('messages').select('messages.snippet').whereRef('messages.conversation_id', '=', 'conversations.id').orderBy('messages.received_at', 'desc').limit(sql.lit(1)).as('snippet'),
  );
}

/** The snippet a list shows for a conversation: its latest message's (the messages of the conversation, in any order). */
export function latestSnippet(messages: ReadonlyArray<{ received_at: number; snippet: string | null }>): string | null {
  let latest: { received_at: number; snippet: string | null } | null = null;
  for (const m of messages) if (!latest || Number(m.received_at) >= Number(latest.received_at)) latest = m;
  return latest?.snippet ?? null;
}

/** The list columns of a conversation (but its snippet) with its inbox, as `requireConversationListRow` reads them. */
export type ConversationListRowWithInbox = Omit<ListRow, 'snippet'> & { inbox_name: string; inbox_access: string; inbox_settings: string; inbox_created_at: number };

/** The select of `requireConversationListRow` (`arg(0)` the conversation, `arg(1)` the account), for reads that add to it. */
export function conversationListRowSelect(db: Executor, arg: (i: number) => any) {
  return listSelectBase(db)
    .innerJoin('inboxes', (j) => j.onRef('inboxes.id', '=', 'conversations.inbox_id').on('inboxes.account_id', '=', arg(1)).on('inboxes.deleted_at', 'is', null))
    .select(['inboxes.name as inbox_name', 'inboxes.access as inbox_access', 'inboxes.settings as inbox_settings', 'inboxes.created_at as inbox_created_at'])
    .where('conversations.id', '=', arg(0))
    .where('conversations.account_id', '=', arg(1))
    .where('conversations.kind', '=', 'team')
    .where('conversations.deleted_at', 'is', null);
}

const conversationListRowQuery = compiledOnce<[conversationId: string, accountId: string], ConversationListRowWithInbox>('conversationListRow', (db, arg) => conversationListRowSelect(db, arg));

/**
 * What `requireConversation` answers (404 for a conversation the actor may not see, 403 with `act` for
 * viewers), with the list columns of the conversation (but its snippet) read in the same query: the thread's
 * first read. `read` may read more columns with them (`conversationListRowSelect`); they stay on the row.
 */
export async function requireConversationListRow<X extends object = object>(
  db: Executor,
  actor: Actor,
  conversationId: string,
  need: 'view' | 'act',
  read: (db: Executor, conversationId: string, accountId: string) => Promise<Array<ConversationListRowWithInbox & X>> = conversationListRowQuery as never,
): Promise<{ row: Omit<ListRow, 'snippet'> & X; inbox: InboxesTable; level: InboxAccessLevel }> {
  const [r] = await read(db, conversationId, actor.accountId);
  if (!r || !r.inbox_id) throw notFound('Conversation');
  const { inbox_name, inbox_access, inbox_settings, inbox_created_at, ...row } = r;
  const inbox: InboxesTable = { id: r.inbox_id, account_id: actor.accountId, name: inbox_name, access: inbox_access, settings: inbox_settings, created_at: inbox_created_at, deleted_at: null };
  const level = await accessLevelOf(db, actor, inbox);
  if (level === 'none') throw notFound('Conversation');
  if (need === 'act' && level !== 'act') throw viewOnlyMessage(inbox);
  return { row: row as Omit<ListRow, 'snippet'> & X, inbox, level };
}

export async function conversationItemById(db: Executor, accountId: string, id: string, now: number): Promise<ConversationItem> {
  const r = await listSelect(db).where('conversations.id', '=', id).where('conversations.account_id', '=', accountId).executeTakeFirst();
  if (!r) throw notFound('Conversation');
  return conversationItem(r as ListRow, now, await soonUntilOf(db, r as ListRow, now));
}

/** The "breaching soon" bound of a conversation's inbox, when the conversation has a target running. */
export async function soonUntilOf(db: Executor, r: Pick<ListRow, 'inbox_id' | 'sla_next_due_at'>, now: number, settings?: string): Promise<number | null> {
  if (r.sla_next_due_at === null || r.sla_next_due_at === undefined || !r.inbox_id) return null;
  const s = settings ?? (await db.selectFrom('inboxes').select('settings').where('id', '=', r.inbox_id).executeTakeFirst())?.settings;
  const sla = slaOfInboxSettings(s);
  return sla ? soonBound(sla, now) : null;
}

export { viewersOf };

/**
 * Messages of a thread in reading order: by the second they were received (IMAP dates have second
 * precision, our own sent copies milliseconds), then in the order they were stored.
 */
export function threadOrder<T extends { received_at: number; id: string }>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => Math.floor(Number(a.received_at) / 1000) - Math.floor(Number(b.received_at) / 1000) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The blob store of raw mail and attachments (the same folder the mail engine uses). */
export function blobStoreOf(env: Pick<CommandEnv, 'settings' | 'db'>): BlobStore {
  return folderBlobStore(path.join(env.settings.dataDir, 'blobs'), env.db);
}

/** What queueEmail needs, for mail sent from a team address. */
export function outboxDeps(env: CommandEnv, fromAddress: string): QueueEmailDeps {
  const blobs = blobStoreOf(env);
  const domain = fromAddress.split('@')[1] || env.settings.inboundDomain;
  return { now: env.now(), putBlob: (b) => blobs.put(b), replyTokenSecret: env.secrets.derive('reply-token'), messageIdDomain: domain };
}

/** The live inboxes of an account the actor may see (restricted ones only to members, and admins who view), by name. */
export async function visibleInboxes(db: Executor, actor: Actor): Promise<InboxesTable[]> {
  const rows = await db.selectFrom('inboxes').selectAll().where('account_id', '=', actor.accountId).where('deleted_at', 'is', null).orderBy('name').execute();
  const visible: InboxesTable[] = [];
  for (const r of rows) if ((await accessLevelOf(db, actor, r)) !== 'none') visible.push(r);
  return visible;
}

/** The stored description of an attachment (by content hash) of a message of the conversation, or null. */
export async function conversationAttachment(db: Executor, conversationId: string, sha256: string): Promise<{ filename: string | null; contentType: string; sha256: string } | null> {
  const rows = await db.selectFrom('messages').select('attachments').where('conversation_id', '=', conversationId).execute();
  return rows.flatMap((r) => JSON.parse(r.attachments) as Array<{ filename: string | null; contentType: string; sha256: string }>).find((a) => a.sha256 === sha256) ?? null;
}
