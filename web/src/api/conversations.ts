/**
 * Conversations inbox API (src/features/inbox/routes/conversations.ts): list, thread, message HTML, replies,
 * comments, assign, status, presence and the inbox's live updates (server-sent events).
 */
import { api } from './client.js';

export type ConversationView = 'open' | 'mine' | 'unassigned' | 'snoozed' | 'closed' | 'spam' | 'all';

export const VIEWS: ReadonlyArray<{ id: ConversationView; label: string }> = [
  { id: 'open', label: 'All open' },
  { id: 'mine', label: 'Assigned to me' },
  { id: 'unassigned', label: 'Unassigned' },
  { id: 'snoozed', label: 'Snoozed' },
  { id: 'closed', label: 'Closed' },
  { id: 'spam', label: 'Spam' },
  { id: 'all', label: 'All' },
];

export type ConversationStatus = 'open' | 'closed' | 'snoozed' | 'spam';

export interface Mailbox {
  name?: string;
  address?: string;
}

export interface ConversationSummary {
  id: string;
  inboxId: string;
  connectionId: string;
  subject: string;
  status: ConversationStatus;
  snoozedUntil: string | null;
  assignee: { id: string; name: string; state?: string } | null;
  contact: { id: string; name: string | null } | null;
  participants: string[];
  messageCount: number;
  snippet: string;
  lastMessageAt: string;
  lastInboundAt: string | null;
  createdAt: string;
}

export interface MessageAttachment {
  filename: string | null;
  contentType: string;
  size: number;
  sha256: string;
  url?: string;
}

export interface ConversationMessage {
  id: string;
  direction: 'inbound' | 'outbound';
  kind: 'normal' | 'auto_reply' | 'bounce' | 'list' | 'loop';
  messageId: string | null;
  subject: string;
  from: Mailbox | null;
  to: Mailbox[];
  cc: Mailbox[];
  sentAt: string | null;
  receivedAt: string;
  text: string;
  hasHtml: boolean;
  attachments: MessageAttachment[];
  outboxId: string | null;
}

export interface Activity {
  id: string;
  kind: 'comment' | 'assignment' | 'status' | 'move' | 'spam' | 'reply';
  actor: { id: string; name: string } | null;
  data: Record<string, unknown> & { body?: string; summary?: string };
  createdAt: string;
}

export interface Viewer {
  userId: string;
  name: string;
  activity: 'viewing' | 'replying';
}

export interface Outgoing {
  id: string;
  state: string;
  error: string | null;
  userId: string;
  mode: string;
  createdAt: string;
  sendAt: string;
}

export interface ConversationThread extends ConversationSummary {
  inboxName: string;
  access: 'act' | 'view';
  messages: ConversationMessage[];
  outgoing: Outgoing[];
  activity: Activity[];
  viewers: Viewer[];
}

export interface Sent {
  outboxId: string;
  messageId: string;
  from: Mailbox;
  to: Mailbox[];
  cc: Mailbox[];
  subject: string;
  conversation: ConversationSummary;
}

const enc = encodeURIComponent;

export const routes = {
  list: (inboxId: string) => `/inboxes/${enc(inboxId)}/conversations`,
  events: (inboxId: string) => `/api/v1/inboxes/${enc(inboxId)}/events`,
  one: (id: string) => `/conversations/${enc(id)}`,
  html: (id: string, messageId: string) => `/conversations/${enc(id)}/messages/${enc(messageId)}/html`,
  action: (id: string, action: 'replies' | 'comments' | 'assign' | 'status' | 'move' | 'presence') => `/conversations/${enc(id)}/${action}`,
};

export function listConversations(opts: { inboxId: string; view: ConversationView; q?: string; cursor?: string; limit?: number }) {
  return api.get<{ conversations: ConversationSummary[]; nextCursor: string | null }>(routes.list(opts.inboxId), {
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
  return api.get<{ messageId: string; html: string | null; blockedRemoteImages: number }>(routes.html(id, messageId));
}

export const setConversationStatus = (id: string, status: ConversationStatus, snoozedUntil?: string | null) =>
  api.post<ConversationSummary>(routes.action(id, 'status'), snoozedUntil === undefined ? { status } : { status, snoozedUntil });

export const assignConversation = (id: string, assigneeId: string | null) => api.post<ConversationSummary>(routes.action(id, 'assign'), { assigneeId });

export const commentOnConversation = (id: string, body: string, mentions: string[] = []) => api.post<Activity>(routes.action(id, 'comments'), mentions.length ? { body, mentions } : { body });

export interface ReplyAttachment {
  filename: string;
  contentType: string;
  contentBase64: string;
}

export const replyToConversation = (id: string, input: { mode: 'reply' | 'reply_all' | 'forward'; text: string; to?: Array<{ address: string; name?: string }>; attachments?: ReplyAttachment[] }) =>
  api.post<Sent>(routes.action(id, 'replies'), input);

export const moveConversation = (id: string, inboxId: string) => api.post<ConversationSummary>(routes.action(id, 'move'), { inboxId });

export const sendPresence = (id: string, activity: 'viewing' | 'replying' | 'left') => api.post<{ viewers: Viewer[] }>(routes.action(id, 'presence'), { activity });

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
