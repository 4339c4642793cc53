/**
 * What the writer of one ingest batch needs to know about what is already stored, loaded with a handful
 * of queries for the whole batch instead of about ten per message, then kept up to date in memory as the
 * batch's messages are placed. It answers exactly what the per-message queries answered:
 *
 *  - dedupe: is a message with this dedupe key stored (or placed earlier in this batch)?
 *  - threading: conversation by parent Message-ID, by our outbox id (reply token), by any id a stored
 *    message carries or names (`thread_ids`: a reply stored before its parent, replies to a parent never
 *    seen), and subject candidates (same base subject, last message within the window, not deleted,
 *    newest 20);
 *  - merges: every conversation a message links through its ids, so they can be merged into one;
 *  - contact matching: which participant addresses belong to contacts of the account.
 *
 * Loading is I/O (`loadBatchState`); everything after is in memory and synchronous.
 */
import type { Executor } from '../../platform/context.js';
import { chunks } from '../crm/index.js';
import { findContactsByEmail } from '../crm/index.js';
import { parentIdsOf, threadIdsOf, type CandidateConversation, type ThreadingSnapshot } from './domain/threading.js';
import { readReplyToken } from '../../mail/message/reply-token.js';
import { isResponseSubject } from './domain/subject.js';
import type { ParsedMessage } from '../../mail/message/message.js';
import type { ConnectionsTable, ConversationsTable } from '../../platform/database/schema.js';
import { sql } from '../../platform/database/database.js';
import { json, readJson } from '../../platform/database/json.js';

export const SUBJECT_WINDOW_DAYS = 30;
const DAY = 86_400_000;
/** Subject candidates per message, newest first (as the per-message query had). */
const CANDIDATES = 20;

/** One message of the batch as the loader sees it. */
export interface BatchMessage {
  parsed: ParsedMessage;
  dedupeKey: string;
  subjectKey: string;
  receivedAt: number;
  /** Set for our own sent mail: the conversation is known. */
  conversationId?: string;
  /** Participant addresses that may be contacts (own addresses removed), in order. */
  contactCandidates: string[];
}

/** A conversation as the batch keeps it: the row, with participants parsed. */
export interface LiveConversation {
  row: ConversationsTable;
  participants: string[];
  /** Inserted by this batch (not yet in the database). */
  isNew: boolean;
  /** Changed by this batch. */
  dirty: boolean;
}

export class BatchState {
  /** dedupe key → message id (stored, or placed earlier in the batch). */
  readonly stored = new Map<string, string>();
  /** lower-cased Message-ID → conversation id. */
  private readonly byMessageId = new Map<string, string>();
  private readonly byOutbox = new Map<string, string>();
  /**
   * Every id a stored (or placed) message carries or names → its conversation (`thread_ids`), for the ids
   * of the batch's messages. An id no stored message carries is a placeholder for a message never seen.
   */
  private readonly links = new Map<string, string>();
  /** Ids whose conversation this batch set (written to `thread_ids`). */
  private readonly linksChanged = new Set<string>();
  readonly conversations = new Map<string, LiveConversation>();
  /** email key → contact id. */
  readonly contacts = new Map<string, string>();

  addConversation(row: ConversationsTable, isNew: boolean): LiveConversation {
    const live: LiveConversation = { row, participants: readJson('conversations.participants', row.participants, json.stringArray, []), isNew, dirty: false };
    this.conversations.set(row.id, live);
    return live;
  }

  conversation(id: string): LiveConversation {
    const c = this.conversations.get(id);
    if (!c) throw new Error(`Conversation ${id} was not loaded for this batch`);
    return c;
  }

  /** The threading questions for one message, answered from what is stored plus what the batch placed so far. */
  snapshot(messageId: string | null, receivedAt: number): ThreadingSnapshot {
    return {
      conversationByMessageId: (id) => this.byMessageId.get(id.toLowerCase()) ?? this.links.get(id.toLowerCase()) ?? null,
      conversationByOutboxId: (id) => this.byOutbox.get(id) ?? null,
      conversationsReferencing: () => {
        const found = messageId ? this.links.get(messageId.toLowerCase()) : undefined;
        return found ? [found] : [];
      },
      candidatesForSubject: (key) => this.candidates(key, receivedAt),
    };
  }

  private candidates(key: string, at: number): CandidateConversation[] {
    if (!key) return [];
    const floor = at - SUBJECT_WINDOW_DAYS * DAY;
    // One pass without copying the map (asked once per message of the batch, over every loaded conversation).
    const matches: LiveConversation[] = [];
    for (const c of this.conversations.values()) if (c.row.base_subject === key && c.row.deleted_at === null && c.row.last_message_at >= floor) matches.push(c);
    return matches
      .sort((a, b) => b.row.last_message_at - a.row.last_message_at || (a.row.id < b.row.id ? -1 : 1))
      .slice(0, CANDIDATES)
      .map((c) => ({ conversationId: c.row.id, subjectKey: c.row.base_subject, participants: c.participants, lastMessageAt: new Date(c.row.last_message_at) }));
  }

  /** The conversation an id (own, In-Reply-To or References of a stored message) links to, if any. */
  linkOf(id: string): string | null {
    return this.links.get(id) ?? this.byMessageId.get(id) ?? null;
  }

  /** Records a message placed in a conversation by this batch, with the ids it links through (`threadIdsOf`). */
  placed(m: { id: string; messageId: string | null; threadIds: readonly string[]; conversationId: string; dedupeKey: string }): void {
    this.stored.set(m.dedupeKey, m.id);
    if (m.messageId) this.byMessageId.set(m.messageId, m.conversationId);
    for (const id of m.threadIds) {
      if (this.links.get(id) === m.conversationId) continue;
      this.links.set(id, m.conversationId);
      this.linksChanged.add(id);
    }
  }

  /** A conversation merged into another: every id that pointed at it now points at the survivor. */
  relink(from: string, into: string): void {
    for (const [id, c] of this.byMessageId) if (c === from) this.byMessageId.set(id, into);
    for (const [id, c] of this.links) {
      if (c !== from) continue;
      this.links.set(id, into);
      this.linksChanged.add(id);
    }
  }

  /** The `thread_ids` rows this batch set, with their final conversations. */
  changedLinks(connectionId: string): Array<{ connection_id: string; message_id: string; conversation_id: string }> {
    return [...this.linksChanged].map((id) => ({ connection_id: connectionId, message_id: id, conversation_id: this.links.get(id)! }));
  }

  /**
   * Loads what the batch can ask about: a few queries for the whole batch (chunked by 500 ids).
   */
  static async load(trx: Executor, connection: ConnectionsTable, batch: readonly BatchMessage[], secret: string): Promise<BatchState> {
    const s = new BatchState();
    const keys = [...new Set(batch.map((b) => b.dedupeKey))];
    for (const part of chunks(keys)) {
      const rows = await trx.selectFrom('messages').select(['id', 'dedupe_key']).where('connection_id', '=', connection.id).where('dedupe_key', 'in', part).execute();
      for (const r of rows) s.stored.set(r.dedupe_key, r.id);
    }
    const fresh = batch.filter((b) => !s.stored.has(b.dedupeKey));
    const conversationIds = new Set<string>(fresh.map((b) => b.conversationId).filter((x): x is string => Boolean(x)));

    // Parents by Message-ID (the per-message query took the first 200 of each message).
    const parents = new Set<string>();
    const outboxIds = new Set<string>();
    for (const b of fresh) {
      if (b.conversationId) continue;
      const ids = parentIdsOf(b.parsed);
      for (const p of [...new Set(ids.map((x) => x.toLowerCase()))].slice(0, 200)) parents.add(p);
      for (const id of ids) {
        const outboxId = readReplyToken([id], secret);
        if (outboxId) outboxIds.add(outboxId);
      }
    }
    for (const part of chunks([...parents])) {
      const rows = await trx
        .selectFrom('messages')
        .select(['message_id', 'conversation_id'])
        .where('connection_id', '=', connection.id)
        .where('message_id', 'in', part)
        .where('conversation_id', 'is not', null)
        .execute();
      for (const r of rows) {
        if (!r.message_id || !r.conversation_id) continue;
        s.byMessageId.set(r.message_id, r.conversation_id);
        conversationIds.add(r.conversation_id);
      }
    }
    for (const part of chunks([...outboxIds])) {
      const rows = await trx.selectFrom('outbox').select(['id', 'conversation_id']).where('id', 'in', part).where('account_id', '=', connection.account_id).execute();
      for (const r of rows) {
        if (!r.conversation_id) continue;
        s.byOutbox.set(r.id, r.conversation_id);
        conversationIds.add(r.conversation_id);
      }
    }

    // Every id the batch's messages carry or name, among the ids stored messages carry or name: a reply
    // that arrived before its parent, replies sharing a parent never seen, conversations to merge.
    const linked = [...new Set(fresh.flatMap((b) => threadIdsOf(b.parsed)))];
    for (const part of chunks(linked)) {
      const rows = await trx.selectFrom('thread_ids').select(['message_id', 'conversation_id']).where('connection_id', '=', connection.id).where('message_id', 'in', part).execute();
      for (const r of rows) {
        s.links.set(r.message_id, r.conversation_id);
        conversationIds.add(r.conversation_id);
      }
    }

    // Subject candidates. Only messages the subject strategy may thread (a response marker, or parents
    // we could not resolve) ask. The newest 20 per key at or after a message's window floor are the
    // newest 20 of those after the batch's lowest floor, so loading that many per key (plus one per
    // message, for conversations this batch may empty) answers every message exactly.
    const asking = fresh.filter((b) => !b.conversationId && b.subjectKey && (isResponseSubject(b.parsed.subject) || b.parsed.inReplyTo || b.parsed.references.length));
    const floors = new Map<string, number>();
    for (const b of asking) floors.set(b.subjectKey, Math.min(floors.get(b.subjectKey) ?? Infinity, b.receivedAt - SUBJECT_WINDOW_DAYS * DAY));
    // (Merges may empty every conversation the batch links through its ids: as many more.)
    const perKey = CANDIDATES + batch.length + new Set(s.links.values()).size;
    for (const part of chunks([...floors.keys()])) {
      const floor = Math.min(...part.map((k) => floors.get(k)!));
      const ranked = trx
        .selectFrom('conversations')
        .selectAll()
        .select(sql<number>`row_number() over (partition by base_subject order by last_message_at desc)`.as('rank_in_subject'))
        .where('connection_id', '=', connection.id)
        .where('base_subject', 'in', part)
        .where('last_message_at', '>=', floor)
        .where('deleted_at', 'is', null);
      const rows = await trx.selectFrom(ranked.as('c')).selectAll().where('rank_in_subject', '<=', perKey).execute();
      for (const { rank_in_subject: _rank, ...row } of rows) if (!s.conversations.has(row.id)) s.addConversation(row, false);
    }

    const missing = [...conversationIds].filter((id) => !s.conversations.has(id));
    for (const part of chunks(missing)) {
      const rows = await trx.selectFrom('conversations').selectAll().where('id', 'in', part).execute();
      for (const row of rows) s.addConversation(row, false);
    }

    // Contacts of every participant that may be matched.
    await s.loadContacts(trx, connection.account_id, fresh.flatMap((b) => b.contactCandidates));
    return s;
  }

  async loadContacts(trx: Executor, accountId: string, addresses: readonly string[]): Promise<void> {
    const wanted = [...new Set(addresses)];
    if (!wanted.length) return;
    const matches = await findContactsByEmail(trx, accountId, wanted);
    for (const m of matches) if (!this.contacts.has(m.emailKey)) this.contacts.set(m.emailKey, m.contactId);
  }
}
