/**
 * Conversations inbox: the interface the inbox page is built against.
 *
 * The conversations routes (issue 5) are not in the API yet. Everything the inbox page needs from
 * them goes through this module, so wiring the real routes later means changing this file only:
 * the paths in `routes`, the query built by `viewQuery`, and (if the server's shapes differ)
 * the mapping in `toSummary` / `toThread`.
 *
 * While the routes answer 404 `not_found`, the calls resolve to `{ available: false }` and the page
 * shows its empty state.
 */
import { ApiError, api } from './client.js';

export type ConversationView = 'open' | 'mine' | 'unassigned' | 'closed' | 'spam';

export const VIEWS: ReadonlyArray<{ id: ConversationView; label: string }> = [
  { id: 'open', label: 'All open' },
  { id: 'mine', label: 'Assigned to me' },
  { id: 'unassigned', label: 'Unassigned' },
  { id: 'closed', label: 'Closed' },
  { id: 'spam', label: 'Spam' },
];

export type ConversationStatus = 'open' | 'closed' | 'snoozed' | 'spam';

export interface Person {
  name: string | null;
  address: string;
}

export interface ConversationSummary {
  id: string;
  inboxId: string;
  subject: string;
  status: ConversationStatus;
  assignee: { id: string; name: string } | null;
  contact: Person;
  preview: string;
  lastMessageAt: string;
  messageCount: number;
  unread: boolean;
}

export interface Attachment {
  id: string;
  filename: string;
  contentType: string;
  size: number;
}

export interface ConversationMessage {
  id: string;
  /** incoming from the customer, outgoing reply, or an internal comment the customer never sees. */
  kind: 'incoming' | 'outgoing' | 'comment';
  from: Person;
  to: Person[];
  sentAt: string;
  /** Message HTML (sanitised by the server; the client sanitises again and sandboxes it). */
  html: string | null;
  text: string | null;
  attachments: Attachment[];
}

export interface ConversationThread {
  conversation: ConversationSummary;
  messages: ConversationMessage[];
}

export type Unavailable = { available: false };
export type Available<T> = { available: true } & T;

export const routes = {
  list: '/conversations',
  one: (id: string) => `/conversations/${encodeURIComponent(id)}`,
};

/** The list filters for a view. */
export function viewQuery(view: ConversationView, userId: string): Record<string, string> {
  switch (view) {
    case 'open':
      return { status: 'open' };
    case 'mine':
      return { status: 'open', assigneeId: userId };
    case 'unassigned':
      return { status: 'open', assigneeId: 'unassigned' };
    case 'closed':
      return { status: 'closed' };
    case 'spam':
      return { status: 'spam' };
  }
}

function isMissingRoute(e: unknown): boolean {
  return e instanceof ApiError && e.status === 404 && e.code === 'not_found';
}

export async function listConversations(opts: {
  inboxId: string;
  view: ConversationView;
  userId: string;
  cursor?: string;
}): Promise<Unavailable | Available<{ conversations: ConversationSummary[]; nextCursor: string | null }>> {
  try {
    const r = await api.get<{ conversations: ConversationSummary[]; nextCursor?: string | null }>(routes.list, {
      inboxId: opts.inboxId,
      ...viewQuery(opts.view, opts.userId),
      cursor: opts.cursor,
      limit: 50,
    });
    return { available: true, conversations: r.conversations ?? [], nextCursor: r.nextCursor ?? null };
  } catch (e) {
    if (isMissingRoute(e)) return { available: false };
    throw e;
  }
}

export async function getConversation(id: string): Promise<Unavailable | Available<ConversationThread>> {
  try {
    const r = await api.get<ConversationThread>(routes.one(id));
    return { available: true, conversation: r.conversation, messages: r.messages ?? [] };
  } catch (e) {
    if (isMissingRoute(e)) return { available: false };
    throw e;
  }
}

/** Status changes (e to close, reopen). To be wired with the conversations routes. */
export const setConversationStatus = (id: string, status: ConversationStatus) => api.patch<ConversationSummary>(routes.one(id), { status });
