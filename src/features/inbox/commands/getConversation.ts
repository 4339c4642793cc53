import { sql } from 'kysely';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { compiledOnce } from '../../../platform/database/compiled-once.js';
import { conversationItem, conversationItemById, conversationListRowSelect, latestSnippet, requireConversationListRow, soonUntilOf, threadOrder, viewersOf, type ConversationListRowWithInbox } from '../queries.js';
import type { MessagesTable } from '../../../platform/database/schema.js';
import { wakeSnoozed } from '../snooze.js';
import { json, readJson, shapes } from '../../../platform/database/json.js';
import { senderAuthView } from '../../../mail/sender-auth.js';
import { isoTime } from '../../../platform/http/iso-time.js';

const iso = (ms: number | null) => (ms === null ? null : isoTime(Number(ms)));
/** What the thread shows of a message's classification (`messages.classification_detail`). */
const classificationDetail = json.object(
  {
    bounce: json.object(
      {
        type: json.string,
        permanent: json.boolean,
        recipients: json.arrayOf(json.object({ address: json.string, status: json.nullable(json.string), diagnostic: json.nullable(json.string) }, ['status', 'diagnostic'])),
      },
      ['type', 'permanent', 'recipients'],
    ),
  },
  ['bounce'],
);
const replyMeta = json.object({ mode: json.string }, ['mode']);

/** The columns of a message the thread reads. */
const MESSAGE_COLUMNS = [
  'id',
  'direction',
  'classification',
  'classification_detail',
  'message_id',
  'subject',
  'from_address',
  'from_name',
  'to',
  'cc',
  'sent_at',
  'received_at',
  'text_body',
  'html_sha256',
  'snippet',
  'attachments',
  'outbox_id',
  'sender_auth',
] as const satisfies ReadonlyArray<keyof MessagesTable>;
type ThreadMessage = Pick<MessagesTable, (typeof MESSAGE_COLUMNS)[number]>;
type ThreadOutgoing = { id: string; state: string; last_error: string | null; created_at: number; send_at: number; user_id: string; meta: string };
type ThreadActivity = { id: string; kind: string; actor_user_id: string | null; data: string; created_at: number; actor_name: string | null };
/** Outgoing mail the thread shows: not sent yet, or failed. */
const PENDING_STATES = ['queued', 'scheduled', 'sending', 'failed', 'uncertain'] as const;

// The thread's reads, compiled once (src/platform/database/compiled-once.ts).
const messagesQuery = compiledOnce<[conversationId: string], MessagesTable>('threadMessages', (db, arg) => db.selectFrom('messages').selectAll().where('conversation_id', '=', arg(0)));
const outboxQuery = compiledOnce<[conversationId: string], ThreadOutgoing>('threadOutbox', (db, arg) =>
  db
    .selectFrom('outbox')
    .select(['id', 'state', 'last_error', 'created_at', 'send_at', 'user_id', 'meta'])
    .where('conversation_id', '=', arg(0))
    .where('state', 'in', [...PENDING_STATES])
    .orderBy('created_at'),
);
const activityQuery = compiledOnce<[conversationId: string], ThreadActivity>('threadActivity', (db, arg) =>
  db
    .selectFrom('conversation_activity')
    .leftJoin('users', 'users.id', 'conversation_activity.actor_user_id')
    .select(['conversation_activity.id', 'conversation_activity.kind', 'conversation_activity.actor_user_id', 'conversation_activity.data', 'conversation_activity.created_at', 'users.name as actor_name'])
    .where('conversation_activity.conversation_id', '=', arg(0))
    .orderBy('conversation_activity.created_at')
    .orderBy('conversation_activity.id'),
);

/** PostgreSQL: a JSON object of the given values (text as is, bigint as a number, null as null). */
const jsonObject = (values: ReadonlyArray<readonly [key: string, expression: string]>) => `json_build_object(${values.map(([k, e]) => `'${k}', ${e}`).join(', ')})`;
/** The named columns of a table alias, each under its own name. */
const columnsOf = (alias: string, columns: readonly string[]) => columns.map((c) => [c, `${alias}."${c}"`] as const);
/**
 * PostgreSQL: the whole thread in one statement: the conversation with its inbox (`requireConversationListRow`)
 * and, as JSON arrays, its messages, its pending outgoing mail and its activity, in the orders of the three
 * queries SQLite runs (messagesQuery, outboxQuery, activityQuery; pg parses json columns with JSON.parse, so
 * the rows read as theirs do). Each query over the network was a round trip of its own: ~50 us of this
 * process's CPU and ~40 of PostgreSQL's, and the event loop lost its core at each write to a waking backend.
 */
const threadRowQuery = compiledOnce<[conversationId: string, accountId: string], ConversationListRowWithInbox & { thread_messages: ThreadMessage[]; thread_outgoing: ThreadOutgoing[]; thread_activity: ThreadActivity[] }>(
  'threadRow',
  (db, arg) =>
    conversationListRowSelect(db, arg).select([
      sql
        .raw<ThreadMessage[]>(
          `(select coalesce(json_agg(${jsonObject(columnsOf('m', MESSAGE_COLUMNS))} order by m.received_at, m.snippet), '[]'::json) from messages m where m.conversation_id = "conversations"."id")`,
        )
        .as('thread_messages'),
      sql
        .raw<ThreadOutgoing[]>(
          `(select coalesce(json_agg(${jsonObject(columnsOf('o', ['id', 'state', 'last_error', 'created_at', 'send_at', 'user_id', 'meta']))} order by o.created_at), '[]'::json) from outbox o where o.conversation_id = "conversations"."id" and o.state in (${PENDING_STATES.map((x) => `'${x}'`).join(', ')}))`,
        )
        .as('thread_outgoing'),
      sql
        .raw<ThreadActivity[]>(
          `(select coalesce(json_agg(${jsonObject([...columnsOf('a', ['id', 'kind', 'actor_user_id', 'data', 'created_at']), ['actor_name', 'u.name']])} order by a.created_at, a.id), '[]'::json) from conversation_activity a left join users u on u.id = a.actor_user_id where a.conversation_id = "conversations"."id")`,
        )
        .as('thread_activity'),
    ]),
);

/**
 * A conversation with its thread: every message (auto-replies and bounces marked as such, attachments
 * listed with their download path), outgoing mail not sent yet (or failed), and the activity: comments,
 * assignments with the routing reasons, status changes, moves. Also who else is looking at it.
 */
export async function getConversation(env: CommandEnv, actor: Actor, conversationId: string) {
  // PostgreSQL reads the thread with the access check (threadRowQuery); SQLite, in process, in three more queries.
  const oneRead = env.dialect === 'postgres';
  const { row, inbox, level } = oneRead
    ? await requireConversationListRow(env.db, actor, conversationId, 'view', threadRowQuery)
    : await requireConversationListRow<Partial<Record<'thread_messages' | 'thread_outgoing' | 'thread_activity', undefined>>>(env.db, actor, conversationId, 'view');
  const { thread_messages, thread_outgoing, thread_activity, ...conversation } = row;
  const now = env.now();
  const wake = conversation.status === 'snoozed' && conversation.snoozed_until !== null && conversation.snoozed_until <= now;
  if (wake) await wakeSnoozed(env, inbox.id, now);
  const rows: ThreadMessage[] = thread_messages ?? (await messagesQuery(env.db, conversation.id));
  // The list columns were read with the access check; read again only when the snooze just ended.
  const item = wake ? await conversationItemById(env.db, actor.accountId, conversation.id, now) : conversationItem({ ...conversation, snippet: latestSnippet(rows) }, now, await soonUntilOf(env.db, conversation, now, inbox.settings));
  const messages = threadOrder(rows);
  // Ending the snooze recorded an activity: read after it.
  const outbox = thread_outgoing && !wake ? thread_outgoing : await outboxQuery(env.db, conversation.id);
  const activity = thread_activity && !wake ? thread_activity : await activityQuery(env.db, conversation.id);
  const inboxName = inbox.name;
  return {
    ...item,
    inboxName,
    access: level as 'act' | 'view',
    messages: messages.map((m) => {
      const cls = readJson('messages.classification_detail', m.classification_detail, classificationDetail, {});
      return {
        id: m.id,
        direction: m.direction,
        kind: m.classification,
        bounce: cls.bounce ? { type: cls.bounce.type ?? 'failure', permanent: Boolean(cls.bounce.permanent), recipients: (cls.bounce.recipients ?? []).map((r) => ({ address: r.address, status: r.status ?? null, diagnostic: r.diagnostic ?? null })) } : null,
        messageId: m.message_id,
        subject: m.subject,
        from: m.from_address ? { name: m.from_name ?? '', address: m.from_address } : null,
        to: readJson('messages.to', m.to, shapes.mailboxes, []).map((a) => ({ name: a.name ?? '', address: a.address })),
        cc: readJson('messages.cc', m.cc, shapes.mailboxes, []).map((a) => ({ name: a.name ?? '', address: a.address })),
        sentAt: iso(m.sent_at),
        receivedAt: iso(m.received_at)!,
        text: m.text_body ?? '',
        hasHtml: Boolean(m.html_sha256),
        attachments: readJson('messages.attachments', m.attachments, shapes.attachments, []).map((a) => ({
          filename: a.filename,
          contentType: a.contentType,
          size: a.size,
          sha256: a.sha256,
          url: `/api/v1/conversations/${conversation.id}/attachments/${a.sha256}`,
        })),
        outboxId: m.outbox_id,
        senderAuth: senderAuthView(m.sender_auth),
      };
    }),
    outgoing: outbox.map((o) => ({ id: o.id, state: o.state, error: o.last_error, userId: o.user_id, mode: (readJson('outbox.meta', o.meta, replyMeta, {}).mode ?? 'reply') as string, createdAt: iso(o.created_at)!, sendAt: iso(o.send_at)! })),
    activity: activity.map((a) => ({ id: a.id, kind: a.kind, actor: a.actor_user_id ? { id: a.actor_user_id, name: a.actor_name ?? '' } : null, data: readJson('conversation_activity.data', a.data, json.record, {}), createdAt: iso(a.created_at)! })),
    viewers: viewersOf(conversation.id, now)
      .filter((v) => v.userId !== actor.user.id)
      .map((v) => ({ userId: v.userId, name: v.name, activity: v.activity })),
  };
}
export type ConversationThread = Awaited<ReturnType<typeof getConversation>>;
