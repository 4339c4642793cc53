/**
 * Conversation search: the one place where SQLite and PostgreSQL differ for the inbox.
 *
 * Each stored message gets one search document (subject, participants, body; folded by
 * `searchDocument` in the domain, so both databases see the same words):
 *   - SQLite: an FTS5 table `message_search(doc, message_id UNINDEXED, account_id UNINDEXED)`,
 *     contentless since migration 035 (the index and the two ids; the document itself is not kept);
 *     queries are word prefixes joined with AND (`"refund"* AND "order"*`).
 *   - PostgreSQL: a plain table `message_search(message_id, account_id, doc)` with a GIN index on
 *     `to_tsvector('simple', doc)`; queries are `to_tsquery('simple', 'refund:* & order:*')`. The document
 *     is stored with each word once (`distinctWords`): searches match words, never phrases.
 * The 'simple' configuration and FTS5's unicode61 tokenizer both split on non-letters and do not stem,
 * so the same search finds the same conversations on both.
 *
 * Documents name messages, not conversations: a message moved to another conversation (a reply that
 * arrived before its parent) is found in its new conversation through `messages.conversation_id`.
 */
import { PostgresAdapter, sql, type Kysely, type RawBuilder } from 'kysely';
import type { Dialect } from '../../platform/database/database.js';
import { distinctWords, fts5Query, tsQuery } from './domain/filters.js';
import { insertRows } from '../../platform/database/insert-rows.js';

export function dialectOf(db: Kysely<any>): Dialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/** Creates the search table (migration 005; 035 makes SQLite's contentless). */
export async function createMessageSearch(db: Kysely<any>): Promise<void> {
  if (dialectOf(db) === 'postgres') {
    await db.schema
      .createTable('message_search')
      .addColumn('message_id', 'text', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('doc', 'text', (c) => c.notNull())
      .execute();
    await sql`create index message_search_doc_idx on message_search using gin (to_tsvector('simple', doc))`.execute(db);
  } else {
    await sql`create virtual table message_search using fts5(doc, message_id unindexed, account_id unindexed, tokenize = 'unicode61 remove_diacritics 2')`.execute(db);
  }
}

/** Adds the search document of a newly stored message (inside the ingest transaction). */
export async function indexMessage(db: Kysely<any>, dialect: Dialect, m: { messageId: string; accountId: string; doc: string }): Promise<void> {
  await indexMessages(db, dialect, [m]);
}

/** Adds the search documents of newly stored messages in one statement (an ingest batch's). */
export async function indexMessages(db: Kysely<any>, dialect: Dialect, list: ReadonlyArray<{ messageId: string; accountId: string; doc: string }>): Promise<void> {
  const all = list.filter((m) => m.doc);
  if (all.length) await insertDocs(db, dialect, all);
}

async function insertDocs(db: Kysely<any>, dialect: Dialect, docs: ReadonlyArray<{ messageId: string; accountId: string; doc: string }>): Promise<void> {
  if (dialect === 'postgres') {
    // Each word once (see distinctWords): the same matches for a fifth of PostgreSQL's indexing work.
    const rows = docs.map((m) => ({ message_id: m.messageId, account_id: m.accountId, doc: distinctWords(m.doc) }));
    await insertRows(db, dialect, 'message_search', rows, 'on conflict ("message_id") do nothing');
  } else {
    await insertRows(db, dialect, 'message_search', docs.map((m) => ({ doc: m.doc, message_id: m.messageId, account_id: m.accountId })));
  }
}

/**
 * A condition on `conversations.id`: the conversation has a message whose document contains every term
 * (as a word prefix). `terms` are folded words (see `searchTerms`); an empty list matches everything.
 */
export function conversationMatches(dialect: Dialect, accountId: string, terms: readonly string[]): RawBuilder<boolean> {
  if (!terms.length) return sql<boolean>`1 = 1`;
  if (dialect === 'postgres') {
    return sql<boolean>`conversations.id in (select m.conversation_id from message_search s join messages m on m.id = s.message_id where s.account_id = ${accountId} and to_tsvector('simple', s.doc) @@ to_tsquery('simple', ${tsQuery(terms)}))`;
  }
  return sql<boolean>`conversations.id in (select m.conversation_id from messages m where m.id in (select message_id from message_search where message_search match ${fts5Query(terms)} and account_id = ${accountId}))`;
}
