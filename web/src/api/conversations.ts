/**
 * Conversations inbox API (src/features/inbox/routes/conversations.ts): list, thread, message HTML, replies,
 * comments, assign, status, presence and the inbox's live updates (server-sent events).
 */
import { api } from './client.js';
import type { Body, Item, Ok, Query } from './contract.js';

export type ConversationView = NonNullable<Query<'/api/v1/inboxes/{id}/conversations', 'get'>['view']>;

export const VIEWS: ReadonlyArray<{ id: ConversationView; label: string }> = [
  { id: 'open', label: 'All open' },
  { id: 'mine', label: 'Assigned to me' },
  { id: 'unassigned', label: 'Unassigned' },
  { id: 'snoozed', label: 'Snoozed' },
  { id: 'closed', label: 'Closed' },
  { id: 'spam', label: 'Spam' },
  { id: 'all', label: 'All' },
  { id: 'breaching_soon', label: 'Breaching soon' },
  { id: 'breached', label: 'SLA breached' },
];

export type ConversationStatus = Body<'/api/v1/conversations/{id}/status', 'post'>['status'];

export type ConversationSummary = Item<Ok<'/api/v1/inboxes/{id}/conversations', 'get'>['conversations']>;
export type ConversationSla = NonNullable<ConversationSummary['sla']>;
export type ConversationThread = Ok<'/api/v1/conversations/{id}', 'get'>;
export type ConversationMessage = Item<ConversationThread['messages']>;
export type MessageAttachment = Item<ConversationMessage['attachments']>;
export type Mailbox = Item<ConversationMessage['to']>;
export type Activity = Item<ConversationThread['activity']>;
export type Viewer = Item<ConversationThread['viewers']>;
export type Outgoing = Item<ConversationThread['outgoing']>;
export type Sent = Ok<'/api/v1/conversations/{id}/replies', 'post'>;
export type ReplyInput = Body<'/api/v1/conversations/{id}/replies', 'post'>;
export type ReplyAttachment = Item<NonNullable<ReplyInput['attachments']>>;

const enc = encodeURIComponent;

export const routes = {
  list: (inboxId: string) => `/inboxes/${enc(inboxId)}/conversations`,
  events: (inboxId: string) => `/api/v1/inboxes/${enc(inboxId)}/events`,
  one: (id: string) => `/conversations/${enc(id)}`,
  html: (id: string, messageId: string) => `/conversations/${enc(id)}/messages/${enc(messageId)}/html`,
  action: (id: string, action: 'replies' | 'comments' | 'assign' | 'status' | 'move' | 'presence') => `/conversations/${enc(id)}/${action}`,
};

export function listConversations(opts: { inboxId: string; view: ConversationView; q?: string; cursor?: string; limit?: number }) {
  return api.get<Ok<'/api/v1/inboxes/{id}/conversations', 'get'>>(routes.list(opts.inboxId), {
    view: opts.view,
    q: opts.q?.trim() ? opts.q.trim() : undefined,
    cursor: opts.cursor,
    limit: opts.limit ?? 50,
  });
}

export function getConversation(id: string) {
  return api.get<ConversationThread>(routes.one(id));
}

export function getMessageHtml(id: string, messageId: string) {
  return api.get<Ok<'/api/v1/conversations/{id}/messages/{messageId}/html', 'get'>>(routes.html(id, messageId));
}

export const setConversationStatus = (id: string, status: ConversationStatus, snoozedUntil?: string | null) =>
  api.post<ConversationSummary>(routes.action(id, 'status'), snoozedUntil === undefined ? { status } : { status, snoozedUntil });

export const assignConversation = (id: string, assigneeId: string | null) => api.post<ConversationSummary>(routes.action(id, 'assign'), { assigneeId });

export const commentOnConversation = (id: string, body: string, mentions: string[] = []) => api.post<Activity>(routes.action(id, 'comments'), mentions.length ? { body, mentions } : { body });

export const replyToConversation = (id: string, input: ReplyInput) =>
  api.post<Sent>(routes.action(id, 'replies'), input);

/** Undo send: stop a reply still inside the undo window (409 too_late_to_undo once it left). */
export const undoReply = (id: string, outboxId: string) =>
  api.post<Ok<'/api/v1/conversations/{id}/replies/{outboxId}/undo', 'post'>>(`/conversations/${enc(id)}/replies/${enc(outboxId)}/undo`);

export const moveConversation = (id: string, inboxId: string) => api.post<ConversationSummary>(routes.action(id, 'move'), { inboxId });

export const sendPresence = (id: string, activity: Body<'/api/v1/conversations/{id}/presence', 'post'>['activity']) => api.post<Ok<'/api/v1/conversations/{id}/presence', 'post'>>(routes.action(id, 'presence'), { activity });

export type InboxEventType = 'conversation.created' | 'conversation.updated' | 'conversation.moved_in' | 'conversation.moved_out' | 'message.created' | 'activity.created' | 'presence';
export const INBOX_EVENT_TYPES: InboxEventType[] = ['conversation.created', 'conversation.updated', 'conversation.moved_in', 'conversation.moved_out', 'message.created', 'activity.created', 'presence'];

export interface InboxEvent {
  type: InboxEventType;
  inboxId: string;
  conversationId: string;
  at: string | number;
  data: unknown;
}

/** Subscribes to an inbox's live updates; returns the unsubscribe function. */
export function subscribeInboxEvents(inboxId: string, onEvent: (e: InboxEvent) => void): () => void {
  if (typeof EventSource === 'undefined') return () => undefined;
  const source = new EventSource(routes.events(inboxId), { withCredentials: true });
  const handler = (ev: MessageEvent) => {
    try {
      onEvent(JSON.parse(String(ev.data)) as InboxEvent);
    } catch {
      /* ignore malformed events */
    }
  };
  for (const t of INBOX_EVENT_TYPES) source.addEventListener(t, handler as EventListener);
  return () => source.close();
}

export function mailboxLabel(m: Mailbox | null | undefined): string {
  if (!m) return '(unknown sender)';
  if (m.name && m.address) return `${m.name} <${m.address}>`;
  return m.name || m.address || '(unknown)';
}
