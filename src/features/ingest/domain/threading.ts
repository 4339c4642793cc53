/**
 * Which conversation does an inbound message belong to? A chain of strategies, first answer wins:
 *
 *  1. reply_token   a valid token of ours (see reply-token.ts) in In-Reply-To or References, whose
 *                   outbox entry we know: the most reliable signal, and it survives our sent copy
 *                   being deleted or never synced.
 *  2. in_reply_to   the parent's Message-ID is stored.
 *  3. references    any ancestor's Message-ID is stored (newest first).
 *  4. referenced_by a stored message names THIS message as its parent or ancestor: the reply
 *                   arrived before its parent (common with IMAP sync order and slow relays).
 *
 * Strategies 2-4 look ids up among every id stored messages carry or name, so a parent never seen
 * (a "ghost", JWZ's placeholder) still links its replies. After the chain, every conversation the
 * message links through any of its ids (`threadIdsOf`) is merged into one (`mergeSurvivor`): arrival
 * order never splits a References-linked set.
 *  5. subject       same base subject (localized prefixes stripped), at least one shared participant
 *                   other than our own addresses, and the conversation's last message within the
 *                   window (30 days by default). By default only for messages that look like a
 *                   response (a Re:/AW:/Fwd: prefix, or In-Reply-To/References we could not resolve),
 *                   so two unrelated "Question" emails from one customer are not glued together.
 *  6. new           nothing matched. The caller builds the new conversation and saves it with the
 *                   message in one transaction.
 *
 * Pure: the caller loads a snapshot (lookups over what is stored, scoped to the inbox or personal
 * connection) and passes the reference time; nothing here reads a clock or a database.
 */
import type { MailAddress, ParsedMessage } from '../../../mail/message/message.js';
import { readReplyToken } from '../../../mail/message/reply-token.js';
import { isResponseSubject, subjectKey } from './subject.js';

export type ThreadingInput = Pick<
  ParsedMessage,
  'messageId' | 'inReplyTo' | 'references' | 'subject' | 'from' | 'sender' | 'replyTo' | 'to' | 'cc' | 'bcc'
>;

export interface CandidateConversation {
  conversationId: string;
  /** `subjectKey()` of the conversation's subject. */
  subjectKey: string;
  /** Lower-cased addresses that took part (senders and recipients). */
  participants: readonly string[];
  lastMessageAt: Date;
}

export interface ThreadingSnapshot {
  /** Conversation holding a stored message with this normalised Message-ID, or null. */
  conversationByMessageId(messageId: string): string | null;
  /** Conversation of one of our outbox entries (a message we sent), or null. */
  conversationByOutboxId(outboxId: string): string | null;
  /** Conversations holding a message whose In-Reply-To or References names this Message-ID. */
  conversationsReferencing?(messageId: string): readonly string[];
  /** Candidates for the subject strategy; the caller may pre-filter by subject key and recency. */
  candidatesForSubject(subjectKey: string): readonly CandidateConversation[];
}

export interface ThreadingOptions {
  /** Secret(s) of our reply tokens; without it the reply_token strategy is skipped. */
  replyTokenSecret?: string | readonly string[];
  /** The mailbox's own addresses (team address, user's addresses): never a "shared participant". */
  ownAddresses?: readonly string[];
  /** When the message arrived; the subject window is measured from here (the Date header is the sender's claim). */
  receivedAt: Date;
  /** Subject window in days, default 30. */
  subjectWindowDays?: number;
  /** Only use the subject strategy for messages that look like responses. Default true. */
  subjectRequiresResponseMarker?: boolean;
}

export type ThreadingStrategyName = 'reply_token' | 'in_reply_to' | 'references' | 'referenced_by' | 'subject';

export type ThreadingDecision =
  | { kind: 'existing'; conversationId: string; strategy: ThreadingStrategyName; evidence: string }
  | { kind: 'new'; strategy: 'new' };

export type ThreadingStrategy = (msg: ThreadingInput, snapshot: ThreadingSnapshot, opts: ThreadingOptions) => ThreadingDecision | null;

const existing = (conversationId: string, strategy: ThreadingStrategyName, evidence: string): ThreadingDecision => ({
  kind: 'existing',
  conversationId,
  strategy,
  evidence,
});

/** Ids the message points at, nearest first: In-Reply-To, then References newest to oldest. Its own id excluded. */
export function parentIdsOf(msg: Pick<ThreadingInput, 'messageId' | 'inReplyTo' | 'references'>): string[] {
  const ids: string[] = [];
  if (msg.inReplyTo) ids.push(msg.inReplyTo);
  for (let i = msg.references.length - 1; i >= 0; i--) ids.push(msg.references[i]!);
  return [...new Set(ids)].filter((id) => id !== msg.messageId);
}

/**
 * A Message-ID that may link messages into a thread: a local part, "@", a domain, no spaces or angle
 * brackets, at most 250 characters. Ids that are not ids (`<yes>` from old git-send-email, `<>`) would glue
 * unrelated threads together through the References graph, so they link nothing.
 */
export function isThreadingId(id: string): boolean {
  return id.length <= 250 && /^[^\s@<>]+@[^\s@<>]+$/.test(id);
}

/**
 * Every id through which a message is linked to others, lower-cased, valid ids only: its own Message-ID,
 * then its parents nearest first. Two messages sharing any of these ids belong to one conversation (the
 * References graph's connected components, as notmuch and JWZ's algorithm thread), whichever arrived
 * first and whether or not the message an id names was ever seen.
 */
export function threadIdsOf(msg: Pick<ThreadingInput, 'messageId' | 'inReplyTo' | 'references'>): string[] {
  const ids = [msg.messageId, ...parentIdsOf(msg)].filter((x): x is string => Boolean(x)).map((x) => x.toLowerCase());
  return [...new Set(ids)].filter(isThreadingId);
}

/**
 * Which of several conversations that one message links survives their merge: the oldest (created first,
 * then the smallest id), so an inbox conversation that people already work on keeps its id, assignee,
 * status and history, and the younger ones are folded into it.
 */
export function mergeSurvivor<T extends { id: string; createdAt: number }>(conversations: readonly T[]): T {
  if (!conversations.length) throw new Error('mergeSurvivor needs at least one conversation');
  return [...conversations].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))[0]!;
}

export const byReplyToken: ThreadingStrategy = (msg, snapshot, opts) => {
  if (!opts.replyTokenSecret) return null;
  const ids = parentIdsOf(msg);
  // Try each valid token in order: an old token whose outbox entry is gone must not hide a newer one.
  for (const id of ids) {
    const outboxId = readReplyToken([id], opts.replyTokenSecret);
    if (!outboxId) continue;
    const conversationId = snapshot.conversationByOutboxId(outboxId);
    if (conversationId) return existing(conversationId, 'reply_token', outboxId);
  }
  return null;
};

export const byInReplyTo: ThreadingStrategy = (msg, snapshot) => {
  if (!msg.inReplyTo || msg.inReplyTo === msg.messageId) return null;
  const conversationId = snapshot.conversationByMessageId(msg.inReplyTo);
  return conversationId ? existing(conversationId, 'in_reply_to', msg.inReplyTo) : null;
};

export const byReferences: ThreadingStrategy = (msg, snapshot) => {
  for (let i = msg.references.length - 1; i >= 0; i--) {
    const id = msg.references[i]!;
    if (id === msg.messageId) continue;
    const conversationId = snapshot.conversationByMessageId(id);
    if (conversationId) return existing(conversationId, 'references', id);
  }
  return null;
};

export const byReferencedBy: ThreadingStrategy = (msg, snapshot) => {
  if (!msg.messageId || !snapshot.conversationsReferencing) return null;
  const found = snapshot.conversationsReferencing(msg.messageId);
  if (found.length === 0) return null;
  // Several orphan conversations: join the first (stable order), `orphansToRethread` merges the rest.
  const conversationId = [...found].sort()[0]!;
  return existing(conversationId, 'referenced_by', msg.messageId);
};

export const bySubject: ThreadingStrategy = (msg, snapshot, opts) => {
  const key = subjectKey(msg.subject);
  if (key === '') return null;
  const requireMarker = opts.subjectRequiresResponseMarker ?? true;
  if (requireMarker && !isResponseSubject(msg.subject) && !msg.inReplyTo && msg.references.length === 0) return null;
  const own = new Set((opts.ownAddresses ?? []).map((a) => a.trim().toLowerCase()));
  const mine = new Set(messageParticipants(msg).filter((a) => !own.has(a)));
  if (mine.size === 0) return null;
  const windowMs = (opts.subjectWindowDays ?? 30) * 24 * 60 * 60 * 1000;
  const at = opts.receivedAt.getTime();
  let best: CandidateConversation | null = null;
  let bestShared = '';
  for (const c of snapshot.candidatesForSubject(key)) {
    if (c.subjectKey !== key) continue;
    if (Math.abs(at - c.lastMessageAt.getTime()) > windowMs) continue;
    const shared = c.participants.map((p) => p.toLowerCase()).find((p) => mine.has(p));
    if (!shared) continue;
    if (
      !best ||
      c.lastMessageAt.getTime() > best.lastMessageAt.getTime() ||
      (c.lastMessageAt.getTime() === best.lastMessageAt.getTime() && c.conversationId < best.conversationId)
    ) {
      best = c;
      bestShared = shared;
    }
  }
  return best ? existing(best.conversationId, 'subject', bestShared) : null;
};

/** The chain, in order. Exported so callers and tests can see (and log) which strategy answered. */
export const THREADING_STRATEGIES: ReadonlyArray<readonly [ThreadingStrategyName, ThreadingStrategy]> = [
  ['reply_token', byReplyToken],
  ['in_reply_to', byInReplyTo],
  ['references', byReferences],
  ['referenced_by', byReferencedBy],
  ['subject', bySubject],
];

export function findConversation(msg: ThreadingInput, snapshot: ThreadingSnapshot, opts: ThreadingOptions): ThreadingDecision {
  for (const [, strategy] of THREADING_STRATEGIES) {
    const decision = strategy(msg, snapshot, opts);
    if (decision) return decision;
  }
  return { kind: 'new', strategy: 'new' };
}

function messageParticipants(msg: ThreadingInput): string[] {
  const out: string[] = [];
  const add = (a: MailAddress | null) => {
    if (a && a.address) out.push(a.address.toLowerCase());
  };
  add(msg.from);
  add(msg.sender);
  msg.replyTo.forEach(add);
  msg.to.forEach(add);
  msg.cc.forEach(add);
  msg.bcc.forEach(add);
  return out;
}

/** A snapshot over plain maps and a candidate list: what tests and small callers need. */
export function snapshotFromMaps(input: {
  messages?: ReadonlyMap<string, string> | Record<string, string>;
  outbox?: ReadonlyMap<string, string> | Record<string, string>;
  /** Stored messages as (conversationId, inReplyTo, references) for the referenced_by strategy. */
  stored?: ReadonlyArray<{ conversationId: string; inReplyTo: string | null; references: readonly string[] }>;
  candidates?: readonly CandidateConversation[];
}): ThreadingSnapshot {
  const toMap = (m?: ReadonlyMap<string, string> | Record<string, string>) =>
    m instanceof Map ? (m as ReadonlyMap<string, string>) : new Map(Object.entries(m ?? {}));
  const messages = toMap(input.messages);
  const outbox = toMap(input.outbox);
  return {
    conversationByMessageId: (id) => messages.get(id) ?? null,
    conversationByOutboxId: (id) => outbox.get(id) ?? null,
    conversationsReferencing: (id) => [
      ...new Set((input.stored ?? []).filter((s) => s.inReplyTo === id || s.references.includes(id)).map((s) => s.conversationId)),
    ],
    candidatesForSubject: (key) => (input.candidates ?? []).filter((c) => c.subjectKey === key),
  };
}

export interface OrphanMessage {
  /** Caller's id of the stored message. */
  messageRef: string;
  conversationId: string;
  inReplyTo: string | null;
  references: readonly string[];
}

export interface RethreadMove {
  /** Conversation to merge away (the orphan's own). */
  fromConversationId: string;
  /** Conversation of the newly stored parent. */
  toConversationId: string;
  /** The orphan messages in `fromConversationId` that name the parent. */
  messageRefs: string[];
  via: 'in_reply_to' | 'references';
}

/**
 * "Reply before parent": after storing a message with `messageId` in `conversationId`, which
 * earlier-stored messages name it as parent or ancestor but sit in another conversation? Returns
 * one move per such conversation (merge it into the parent's). Pure; the caller finds the
 * candidates (an index on In-Reply-To / References) and performs the merge in one transaction.
 */
export function orphansToRethread(stored: { messageId: string | null; conversationId: string }, orphans: readonly OrphanMessage[]): RethreadMove[] {
  if (!stored.messageId) return [];
  const moves = new Map<string, RethreadMove>();
  for (const o of orphans) {
    if (o.conversationId === stored.conversationId) continue;
    let via: RethreadMove['via'] | null = null;
    if (o.inReplyTo === stored.messageId) via = 'in_reply_to';
    else if (o.references.includes(stored.messageId)) via = 'references';
    if (!via) continue;
    const move = moves.get(o.conversationId);
    if (move) {
      move.messageRefs.push(o.messageRef);
      if (via === 'in_reply_to') move.via = 'in_reply_to';
    } else {
      moves.set(o.conversationId, { fromConversationId: o.conversationId, toConversationId: stored.conversationId, messageRefs: [o.messageRef], via });
    }
  }
  return [...moves.values()].sort((a, b) => (a.fromConversationId < b.fromConversationId ? -1 : 1));
}
