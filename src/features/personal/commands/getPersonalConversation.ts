import { notFound } from '../../../platform/errors.js';
import type { Actor, CommandEnv, Executor } from '../../../platform/context.js';
import { readJson, shapes } from '../../../platform/database/json.js';
import { senderAuthView } from '../../../mail/sender-auth.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * A conversation of one of the actor's own personal mailboxes, with its messages. Personal mail is
 * private: anyone else gets 404, admins included (they see only what is logged on contact timelines).
 */
export async function getPersonalConversation(env: CommandEnv, actor: Actor, conversationId: string) {
  const conv = await env.db
    .selectFrom('conversations')
    .innerJoin('connections', 'connections.id', 'conversations.connection_id')
    .selectAll('conversations')
    .select(['connections.user_id as connection_user_id', 'connections.address as connection_address'])
    .where('conversations.id', '=', conversationId)
    .where('conversations.account_id', '=', actor.accountId)
    .where('conversations.kind', '=', 'personal')
    .where('conversations.deleted_at', 'is', null)
    .executeTakeFirst();
  if (!conv || conv.connection_user_id !== actor.user.id || (conv.owner_user_id !== null && conv.owner_user_id !== actor.user.id)) throw notFound('Conversation');
  const messages = await env.db
    .selectFrom('messages')
    .selectAll()
    .where('conversation_id', '=', conv.id)
    .where('connection_id', '=', conv.connection_id)
    .orderBy('received_at')
    .limit(500)
    .execute();
  const logged = await env.db.selectFrom('logged_conversations').select(['contact_id', 'company_id']).where('conversation_id', '=', conv.id).execute();
  return {
    id: conv.id,
    connectionId: conv.connection_id,
    address: conv.connection_address,
    subject: conv.subject,
    lastMessageAt: iso(conv.last_message_at),
    loggedTo: logged.map((l) => ({ contactId: l.contact_id, companyId: l.company_id })),
    messages: messages.map((m) => ({
      id: m.id,
      direction: m.direction,
      from: m.from_address,
      fromName: m.from_name,
      to: readJson('messages.to', m.to, shapes.mailboxes, []).map((a) => a.address),
      cc: readJson('messages.cc', m.cc, shapes.mailboxes, []).map((a) => a.address),
      subject: m.subject,
      sentAt: iso(m.sent_at),
      receivedAt: iso(m.received_at),
      classification: m.classification,
      text: m.text_body,
      senderAuth: senderAuthView(m.sender_auth),
    })),
  };
}

/** The actor's own personal conversations, newest first. */
export async function listPersonalConversations(env: CommandEnv, actor: Actor, q: { limit?: number } = {}) {
  const rows = await personalConversationsQuery(env.db, { accountId: actor.accountId, userId: actor.user.id, limit: Math.min(q.limit ?? 50, 200) }).execute();
  return { conversations: rows.map((r) => ({ id: r.id, subject: r.subject, lastMessageAt: iso(r.last_message_at), messageCount: r.message_count, connectionId: r.connection_id })) };
}

/**
 * The statement of listPersonalConversations: the user's mailboxes as a list of connection ids, so that their
 * conversations are read by `conversations_connection_idx` whatever the statistics (as a join, SQLite without
 * statistics read every conversation of the installation to sort them). Exported for its plan test.
 */
export function personalConversationsQuery(db: Executor, p: { accountId: string; userId: string; limit: number }) {
  return db
    .selectFrom('conversations')
    .select(['conversations.id', 'conversations.subject', 'conversations.last_message_at', 'conversations.message_count', 'conversations.connection_id'])
    .where('conversations.connection_id', 'in', (eb) => eb.selectFrom('connections').select('connections.id').where('connections.user_id', '=', p.userId).where('connections.account_id', '=', p.accountId))
    .where('conversations.account_id', '=', p.accountId)
    .where('conversations.kind', '=', 'personal')
    .where('conversations.deleted_at', 'is', null)
    .orderBy('conversations.last_message_at', 'desc')
    .limit(p.limit);
}
