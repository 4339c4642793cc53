/**
 * What happens in a conversations inbox when messages are stored (a `messageStored` reaction, inside the
 * ingest transaction, given the batch's messages at once), for team conversations only, in this order:
 *
 *  1. index the messages for search, in one statement (ingest has already linked the conversations to
 *     contacts); then for each message, in order:
 *  2. a new conversation from a denied sender (and not allowed) goes to spam; our own notifications
 *     that came back (loops) are already spam;
 *  3. a new customer message reopens a closed or snoozed conversation (auto-replies, bounces, lists and
 *     loops never do; nothing leaves spam by itself);
 *  4. a new conversation is routed by its team address's rule, recording which rule decided and who was
 *     skipped and why; the assignee is notified;
 *  5. the batch's conversations have their service-level clocks recomputed (../sla.ts: due times, paused
 *     while waiting on the customer, met by our reply);
 *  6. open inbox views hear about the batch once the transaction has committed.
 */
import { searchDocument } from '../domain/filters.js';
import { parseStoredRule, poolOrder, routeConversation, usersRuleOf, type AgentFacts, type RoutingDecision } from '../domain/routing.js';
import { checkSender, type ListEntry } from '../domain/sender-lists.js';
import { statusAfterMessage } from '../domain/status.js';
import { inboxAccessLevel } from '../domain/membership.js';
import { indexMessages } from '../search.js';
import type { ConnectionsTable, ConversationsTable, InboxesTable } from '../../../platform/database/schema.js';
import type { StoredMessage } from '../../ingest/index.js';
import type { CommandEnv, Executor } from '../../../platform/context.js';
import { recordActivity } from '../queries.js';
import { afterCommit, type InboxEvent } from '../live.js';
import { notifyUsers } from '../../notifications/index.js';

/** What the activity log says of a message that is not routed, by kind. */
const NOT_ROUTED: Partial<Record<string, string>> = { auto_reply: 'an automatic reply', bounce: 'a bounce', challenge: 'a challenge-response request (the recipient’s filter asks the sender to verify)', list: 'list mail' };
import { enqueue } from '../../../platform/jobs/queue.js';
import { refreshConversationSla } from '../sla.js';

/** Loads the facts routing needs about these users (in the conversation's inbox). */
export async function agentFacts(trx: Executor, inbox: InboxesTable, userIds: readonly string[]): Promise<Map<string, AgentFacts>> {
  const out = new Map<string, AgentFacts>();
  if (!userIds.length) return out;
  const users = await trx
    .selectFrom('users')
    .select(['id', 'name', 'state', 'seat', 'availability', 'working_hours', 'role'])
    .where('account_id', '=', inbox.account_id)
    .where('id', 'in', [...userIds])
    .execute();
  const open = await trx
    .selectFrom('conversations')
    .select((eb) => ['assignee_id', eb.fn.countAll<number>().as('n')])
    .where('inbox_id', '=', inbox.id)
    .where('status', '=', 'open')
    .where('deleted_at', 'is', null)
    .where('assignee_id', 'in', [...userIds])
    .groupBy('assignee_id')
    .execute();
  const openBy = new Map(open.map((r) => [r.assignee_id!, Number(r.n)]));
  // Who is listed on a restricted inbox, directly or through a team (two queries for the whole pool).
  const listed = new Set<string>();
  const teamListed = new Set<string>();
  if (inbox.access !== 'everyone') {
    const rows = await trx.selectFrom('inbox_members').select(['member_type', 'member_id']).where('inbox_id', '=', inbox.id).execute();
    for (const r of rows) if (r.member_type === 'user') listed.add(r.member_id);
    const teams = rows.filter((r) => r.member_type === 'team').map((r) => r.member_id);
    if (teams.length) for (const r of await trx.selectFrom('team_members').select('user_id').where('team_id', 'in', teams).execute()) teamListed.add(r.user_id);
  }
  for (const u of users) {
    const facts = { access: inbox.access, listed: listed.has(u.id), teamListed: teamListed.has(u.id) };
    out.set(u.id, {
      id: u.id,
      name: u.name,
      state: u.state,
      seat: u.seat,
      // Members act; routing needs a member (an admin who only views the inbox is not one). Seats are checked separately.
      isInboxMember: inboxAccessLevel({ role: 'member', state: u.state, seat: 'paid' }, facts) === 'act',
      availability: u.availability,
      workingHours: u.working_hours,
      openCount: openBy.get(u.id) ?? 0,
    });
  }
  return out;
}

/** How often the backlog of conversations nobody could take is routed again. */
export const BACKLOG_RETRY_MS = 60_000;

/** Does this team address route conversations (a rule other than none)? */
export async function hasRoutingRule(trx: Executor, connectionId: string): Promise<boolean> {
  const r = await trx.selectFrom('routing_rules').select('rule').where('connection_id', '=', connectionId).executeTakeFirst();
  return parseStoredRule(r?.rule).kind !== 'none';
}

/** Puts an open, unassigned conversation on its inbox's routing backlog and makes sure the retry job is queued. */
export async function addToRoutingBacklog(trx: Executor, p: { conversationId: string; accountId: string; inboxId: string; reason: string; now: number }): Promise<void> {
  await trx
    .insertInto('routing_backlog')
    .values({ conversation_id: p.conversationId, account_id: p.accountId, inbox_id: p.inboxId, reason: p.reason, since: p.now })
    .onConflict((oc) => oc.column('conversation_id').doNothing())
    .execute();
  await enqueue(trx, p.now, { kind: 'inbox.route_backlog', payload: { inboxId: p.inboxId }, runAt: p.now + BACKLOG_RETRY_MS, dedupeKey: `route-backlog:${p.inboxId}` });
}

/**
 * Routes a conversation by its team address's rule and records the decision (a new conversation, or one
 * from the backlog when `retry` is set: then only an actual assignment is recorded, not every miss).
 * Conversations nobody could take go on the backlog.
 */
export async function routeNewConversation(trx: Executor, env: Pick<CommandEnv, 'dialect'>, p: { conversation: ConversationsTable; connection: ConnectionsTable; inbox: InboxesTable; now: number; retry?: { since: number } }): Promise<RoutingDecision | null> {
  let q = trx.selectFrom('routing_rules').selectAll().where('connection_id', '=', p.connection.id);
  if (env.dialect === 'postgres') q = q.forUpdate(); // two conversations routed at once must not read the same round-robin pointer
  const row = await q.executeTakeFirst();
  const rule = parseStoredRule(row?.rule);
  if (rule.kind === 'none') return null;
  const users = usersRuleOf(rule);
  const teamMembers = new Map<string, string[]>();
  if (users?.teamIds.length) {
    const rows = await trx.selectFrom('team_members').select(['team_id', 'user_id']).where('account_id', '=', p.inbox.account_id).where('team_id', 'in', users.teamIds).execute();
    for (const r of rows) teamMembers.set(r.team_id, [...(teamMembers.get(r.team_id) ?? []), r.user_id]);
  }
  const poolIds = users ? poolOrder(users, teamMembers) : [];
  let contact: { ownerId: string | null } | null = null;
  if (rule.kind === 'contact_owner' && p.conversation.contact_id) {
    const c = await trx.selectFrom('contacts').select(['owner_id']).where('id', '=', p.conversation.contact_id).where('account_id', '=', p.inbox.account_id).executeTakeFirst();
    contact = c ? { ownerId: c.owner_id } : null;
  }
  const facts = await agentFacts(trx, p.inbox, [...poolIds, ...(contact?.ownerId ? [contact.ownerId] : [])]);
  const decision = routeConversation({
    rule,
    pool: poolIds.map((id) => facts.get(id)).filter((a): a is AgentFacts => Boolean(a)),
    poolIds,
    contact,
    contactOwner: contact?.ownerId ? (facts.get(contact.ownerId) ?? null) : null,
    lastAssignedUserId: row?.rr_last_user_id ?? null,
    now: new Date(p.now),
  });
  if (decision.assigneeId) {
    await trx.updateTable('conversations').set({ assignee_id: decision.assigneeId, updated_at: p.now }).where('id', '=', p.conversation.id).execute();
  }
  if (decision.nextPointer) await trx.updateTable('routing_rules').set({ rr_last_user_id: decision.nextPointer }).where('connection_id', '=', p.connection.id).execute();
  if (!decision.assigneeId && !p.retry) await addToRoutingBacklog(trx, { conversationId: p.conversation.id, accountId: p.inbox.account_id, inboxId: p.inbox.id, reason: 'nobody_eligible', now: p.now });
  if (p.retry && !decision.assigneeId) return decision;
  const waited = p.retry ? ` It had waited ${Math.max(1, Math.round((p.now - p.retry.since) / 60_000))} min for someone eligible.` : '';
  await recordActivity(trx, {
    accountId: p.inbox.account_id,
    conversationId: p.conversation.id,
    kind: 'assignment',
    actorUserId: null,
    at: p.now,
    data: {
      by: 'routing',
      connectionId: p.connection.id,
      assigneeId: decision.assigneeId,
      assigneeName: decision.assigneeName,
      rule: decision.rule,
      decidedBy: decision.decidedBy,
      usedFallback: decision.usedFallback,
      considered: decision.considered,
      skipped: decision.skipped,
      notes: decision.notes,
      retried: Boolean(p.retry),
      summary: `${decision.summary}${waited}`,
    },
  });
  if (decision.assigneeId) {
    await notifyUsers(trx, {
      accountId: p.inbox.account_id,
      userIds: [decision.assigneeId],
      kind: 'conversation.assigned',
      message: `New conversation in ${p.inbox.name} assigned to you: ${p.conversation.subject || '(no subject)'}`,
      data: { conversationId: p.conversation.id, inboxId: p.inbox.id, by: 'routing' },
      at: p.now,
    });
  }
  return decision;
}

/** The inbox row and its allow/deny lists in one statement (a row per list entry, or one without). */
async function loadInboxSettings(trx: Executor, inboxId: string): Promise<{ inbox: InboxesTable | undefined; lists: ListEntry[] }> {
  const rows = await trx
    .selectFrom('inboxes')
    .leftJoin('inbox_sender_lists as l', 'l.inbox_id', 'inboxes.id')
    .selectAll('inboxes')
    .select(['l.list as sender_list', 'l.pattern as sender_pattern'])
    .where('inboxes.id', '=', inboxId)
    .execute();
  if (!rows.length) return { inbox: undefined, lists: [] };
  const { sender_list: _l, sender_pattern: _p, ...inbox } = rows[0]!;
  const lists = rows.flatMap((r) => (r.sender_list !== null && r.sender_pattern !== null ? [{ list: r.sender_list as ListEntry['list'], pattern: r.sender_pattern }] : []));
  return { inbox, lists };
}

/**
 * The inbox row and its allow/deny lists, read once per ingest transaction (a batch stores up to
 * hundreds of messages of one inbox; nothing in the batch changes its settings).
 */
const inboxSettings = new WeakMap<object, Map<string, Promise<{ inbox: InboxesTable | undefined; lists: ListEntry[] }>>>();
function inboxSettingsFor(trx: Executor, inboxId: string) {
  const load = () => loadInboxSettings(trx, inboxId);
  if (!trx.isTransaction) return load(); // a cache on the database handle itself would never expire
  let perTrx = inboxSettings.get(trx);
  if (!perTrx) inboxSettings.set(trx, (perTrx = new Map()));
  let settings = perTrx.get(inboxId);
  if (!settings) {
    settings = load();
    perTrx.set(inboxId, settings);
  }
  return settings;
}

/**
 * The `messageStored` reaction (declared in ../index.ts): the team messages of an ingest batch, in order.
 * What every message needs is loaded once for the batch (inbox settings, the conversations as they are
 * now, whether the addresses route at all) and the search documents are written in one statement; each
 * message is then handled in order, seeing the changes the previous ones made (kept in memory), and open
 * inbox views hear about all of them once the transaction has committed.
 */
export async function onTeamMessageStored(trx: Executor, batch: readonly StoredMessage[], env: CommandEnv): Promise<void> {
  const team = batch.filter((s) => s.conversation.kind === 'team' && s.conversation.inbox_id);
  if (!team.length) return;
  const now = env.now();
  await indexMessages(
    trx,
    env.dialect,
    team.map(({ message, parsed, conversation }) => ({
      messageId: message.id,
      accountId: conversation.account_id,
      doc: searchDocument({ subject: parsed.subject ?? '', from: parsed.from, to: parsed.to, cc: parsed.cc, text: parsed.text }),
    })),
  );
  // The conversations as they are now: ingest's copies predate earlier hooks' changes in this transaction.
  const current = new Map<string, ConversationsTable>();
  const ids = [...new Set(team.map((s) => s.conversation.id))];
  for (let at = 0; at < ids.length; at += 500) {
    for (const row of await trx.selectFrom('conversations').selectAll().where('id', 'in', ids.slice(at, at + 500)).execute()) current.set(row.id, row);
  }
  // Addresses without a routing rule route nothing: asked once, not for every new conversation.
  const routes = new Set<string>();
  const connectionIds = [...new Set(team.map((s) => s.connection.id))];
  for (const r of await trx.selectFrom('routing_rules').select(['connection_id', 'rule']).where('connection_id', 'in', connectionIds).execute()) {
    if (parseStoredRule(r.rule).kind !== 'none') routes.add(r.connection_id);
  }
  const events: InboxEvent[] = [];
  for (const stored of team) {
    const conversation = await handleTeamMessage(trx, env, stored, current.get(stored.conversation.id) ?? stored.conversation, routes.has(stored.connection.id), now, events);
    current.set(conversation.id, conversation);
  }
  await refreshConversationSla(trx, ids, now);
  const lastId = team[team.length - 1]!.message.id;
  afterCommit(env, async (db) => Boolean(await db.selectFrom('messages').select('id').where('id', '=', lastId).executeTakeFirst()), events, trx);
}

/** One team message, in batch order: deny list, reopen, routing; returns its conversation as it is now. */
async function handleTeamMessage(
  trx: Executor,
  env: CommandEnv,
  stored: StoredMessage,
  current: ConversationsTable,
  routes: boolean,
  now: number,
  events: InboxEvent[],
): Promise<ConversationsTable> {
  const { message, connection, parsed, classification, isNewConversation } = stored;
  let conversation = current;
  const accountId = conversation.account_id;
  const { inbox, lists } = await inboxSettingsFor(trx, stored.conversation.inbox_id!);
  const event = (type: InboxEvent['type'], data?: Record<string, unknown>) => events.push({ type, inboxId: conversation.inbox_id!, conversationId: conversation.id, at: now, ...(data ? { data } : {}) });

  if (message.direction === 'inbound' && inbox) {
    const from = parsed.from?.address ?? null;
    const verdict = checkSender(lists, from);
    if (isNewConversation) {
      if (classification.kind === 'loop') {
        await recordActivity(trx, { accountId, conversationId: conversation.id, kind: 'spam', actorUserId: null, at: now, data: { reason: 'loop', summary: 'One of our own notifications came back: kept out of the inbox as spam.' } });
      } else if (verdict.verdict === 'deny') {
        await trx.updateTable('conversations').set({ status: 'spam', updated_at: now }).where('id', '=', conversation.id).execute();
        conversation = { ...conversation, status: 'spam' };
        await recordActivity(trx, { accountId, conversationId: conversation.id, kind: 'spam', actorUserId: null, at: now, data: { reason: 'deny_list', pattern: verdict.entry?.pattern, summary: `The sender ${from} is on the deny list (${verdict.entry?.pattern}): moved to spam.` } });
      } else if (conversation.status === 'open') {
        if (classification.kind === 'normal') {
          const decision = routes ? await routeNewConversation(trx, env, { conversation, connection, inbox, now }) : null;
          if (decision?.assigneeId) conversation = { ...conversation, assignee_id: decision.assigneeId };
        } else {
          await recordActivity(trx, { accountId, conversationId: conversation.id, kind: 'assignment', actorUserId: null, at: now, data: { by: 'routing', assigneeId: null, summary: `Not routed: this is ${NOT_ROUTED[classification.kind] ?? 'list mail'}.` } });
        }
      }
      event('conversation.created', { status: conversation.status, assigneeId: conversation.assignee_id });
    } else {
      const next = statusAfterMessage({ status: conversation.status, snoozedUntil: conversation.snoozed_until }, { direction: message.direction, kind: classification.kind }, now);
      if (next.reopened && verdict.verdict !== 'deny') {
        await trx.updateTable('conversations').set({ status: 'open', snoozed_until: null, updated_at: now }).where('id', '=', conversation.id).execute();
        await recordActivity(trx, { accountId, conversationId: conversation.id, kind: 'status', actorUserId: null, at: now, data: { from: conversation.status, to: 'open', reason: 'customer_replied', summary: 'Reopened: the customer wrote again.' } });
        if (conversation.assignee_id) {
          await notifyUsers(trx, { accountId, userIds: [conversation.assignee_id], kind: 'conversation.reopened', message: `${from ?? 'The customer'} wrote again: ${conversation.subject || '(no subject)'} is open again`, data: { conversationId: conversation.id, inboxId: inbox.id }, at: now });
        }
        conversation = { ...conversation, status: 'open', snoozed_until: null };
      }
      event('conversation.updated', { status: conversation.status, assigneeId: conversation.assignee_id });
    }
  } else {
    event(isNewConversation ? 'conversation.created' : 'conversation.updated', { status: conversation.status, assigneeId: conversation.assignee_id });
  }
  event('message.created', { messageId: message.id, direction: message.direction, classification: classification.kind });
  return conversation;
}
