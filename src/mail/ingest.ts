/**
 * The one path every message takes into Mailroom (IMAP sync, inbound SMTP, import, our own sent mail):
 * parse once (off the main thread) into the normalised message value, keep the raw bytes in the blob
 * store, then in ONE transaction per batch: dedupe per connection, classify, thread into a conversation,
 * store message + location, run the features' hooks (inbox routing, timeline logging), and write the
 * caller's checkpoint. A retried batch finds its messages by dedupe key and changes nothing twice.
 */
import type { CommandEnv, Executor } from '../commands/support/context.js';
import type { ConnectionsTable, ConversationsTable, MessagesTable } from '../store/schema.js';
import { newId } from '../store/ids.js';
import { sha256Hex, type BlobStore } from './blob-store.js';
import type { ParsedMessage } from '../domain/mail/message.js';
import { classifyMessage, type Classification } from '../domain/mail/classify.js';
import { subjectKey } from '../domain/mail/subject.js';
import { findConversation, parentIdsOf, type CandidateConversation, type ThreadingInput, type ThreadingSnapshot } from '../domain/mail/threading.js';
import { readReplyToken } from '../domain/mail/reply-token.js';
import { metrics } from '../http/metrics.js';
import { findContactsByEmail } from '../commands/findContactsByEmail.js';

export interface IngestItem {
  raw: Buffer;
  source: 'imap' | 'smtp' | 'import' | 'outbox';
  direction: 'inbound' | 'outbound';
  receivedAt: number;
  location?: { folder: string; uidvalidity: number; uid: number };
  /** Outgoing mail we sent: link to its outbox row and conversation. */
  outboxId?: string;
  conversationId?: string;
}

export interface Ingestor {
  env: CommandEnv;
  blobs: BlobStore;
  parse: (raw: Buffer) => Promise<ParsedMessage>;
  /** HMAC secret of our reply tokens. */
  replyTokenSecret: string;
}

export interface StoredMessage {
  message: MessagesTable;
  conversation: ConversationsTable;
  connection: ConnectionsTable;
  parsed: ParsedMessage;
  classification: Classification;
  isNewConversation: boolean;
  item: IngestItem;
}

/** Features react to stored messages inside the same transaction (routing, reopening, timeline). */
export type MessageStoredHook = (trx: Executor, stored: StoredMessage, env: CommandEnv) => Promise<void>;
const hooks: MessageStoredHook[] = [];
export function onMessageStored(h: MessageStoredHook): void {
  if (!hooks.includes(h)) hooks.push(h);
}

export interface IngestResult {
  stored: number;
  duplicates: number;
  messageIds: string[];
}

const SNIPPET = 200;
const TEXT_CAP = 256 * 1024;

/**
 * The per-connection identity of a message. Message-ID alone is a threading hint, not an identity
 * (different messages do reuse one), so it is combined with a digest of From, Date and Subject: the
 * same message seen in two folders (Gmail labels, a self-sent copy in INBOX and Sent) dedupes, two
 * different messages sharing an id do not. Without a Message-ID the raw bytes decide.
 */
export function dedupeKeyOf(parsed: ParsedMessage, rawSha: string): string {
  if (!parsed.messageId) return `sha:${rawSha}`;
  const digest = sha256Hex(`${parsed.from?.address ?? ''}\n${parsed.date ? parsed.date.getTime() : ''}\n${parsed.subject}`).slice(0, 16);
  return `mid:${parsed.messageId.toLowerCase()}:${digest}`;
}

interface Prepared {
  item: IngestItem;
  parsed: ParsedMessage;
  rawSha: string;
  htmlSha: string | null;
  dedupeKey: string;
}

async function prepare(ingestor: Ingestor, item: IngestItem): Promise<Prepared> {
  const [parsed, rawSha] = await Promise.all([ingestor.parse(item.raw), ingestor.blobs.put(item.raw)]);
  // Derived content: rebuilt from the raw message if ever lost, so no fsync.
  const htmlSha = parsed.html ? await ingestor.blobs.put(Buffer.from(parsed.html, 'utf8'), { durable: false }) : null;
  // The parser hands over Buffers: no copy (fresh tens of megabytes on the main thread stall it).
  await Promise.all(parsed.attachments.filter((a) => a.content).map((a) => ingestor.blobs.put(Buffer.isBuffer(a.content) ? a.content : Buffer.from(a.content), { durable: false })));
  return { item, parsed, rawSha, htmlSha, dedupeKey: dedupeKeyOf(parsed, rawSha) };
}

/** Parses in parallel (bounded by the parser's worker pool), then writes the batch in one transaction. */
export async function ingestBatch(ingestor: Ingestor, connection: ConnectionsTable, items: IngestItem[], afterWrite?: (trx: Executor, result: IngestResult) => Promise<void>): Promise<IngestResult> {
  return writePrepared(ingestor, connection, await prepareItems(ingestor, items), afterWrite);
}

/** Parsed messages with their raw bytes durably in the blob store, ready to be written. */
export type PreparedBatch = { items: Prepared[] };

/** The CPU and file half of ingest (parse in workers, blobs): can overlap with writing the previous batch. */
export async function prepareItems(ingestor: Ingestor, items: IngestItem[]): Promise<PreparedBatch> {
  return { items: await Promise.all(items.map((i) => prepare(ingestor, i))) };
}

/** The database half of ingest: one transaction for the whole batch, with the caller's checkpoint. */
export async function writePrepared(ingestor: Ingestor, connection: ConnectionsTable, batch: PreparedBatch, afterWrite?: (trx: Executor, result: IngestResult) => Promise<void>): Promise<IngestResult> {
  const prepared = batch.items;
  const env = ingestor.env;
  const result = await env.db.transaction().execute(async (trx) => {
    const r: IngestResult = { stored: 0, duplicates: 0, messageIds: [] };
    for (const p of prepared) {
      const existing = await trx.selectFrom('messages').select(['id']).where('connection_id', '=', connection.id).where('dedupe_key', '=', p.dedupeKey).executeTakeFirst();
      if (existing) {
        r.duplicates += 1;
        if (p.item.location) await upsertLocation(trx, connection.id, p.item.location, existing.id);
        r.messageIds.push(existing.id);
        continue;
      }
      const id = await storeOne(trx, ingestor, connection, p);
      r.stored += 1;
      r.messageIds.push(id);
    }
    if (afterWrite) await afterWrite(trx, r);
    return r;
  });
  metrics.messagesStored.inc({ source: prepared[0]?.item.source ?? 'unknown' }, result.stored);
  return result;
}

async function upsertLocation(trx: Executor, connectionId: string, loc: { folder: string; uidvalidity: number; uid: number }, messageId: string): Promise<void> {
  await trx
    .insertInto('message_locations')
    .values({ connection_id: connectionId, folder: loc.folder, uidvalidity: loc.uidvalidity, uid: loc.uid, message_id: messageId, expunged_at: null })
    .onConflict((oc) => oc.columns(['connection_id', 'folder', 'uidvalidity', 'uid']).doUpdateSet({ message_id: messageId, expunged_at: null }))
    .execute();
}

function participantsOf(parsed: ParsedMessage): string[] {
  const all = [parsed.from, ...parsed.to, ...parsed.cc].filter((a): a is NonNullable<typeof a> => Boolean(a)).map((a) => a.address).filter(Boolean);
  return [...new Set(all.map((a) => a.toLowerCase()))];
}

const SUBJECT_WINDOW_DAYS = 30;

/**
 * Message ids are stored lower-cased and compared case-insensitively, but the message goes to the
 * strategies as parsed: our reply tokens are checked with their case as written.
 */
function threadingInput(parsed: ParsedMessage): ThreadingInput {
  return parsed;
}

/**
 * Loads, for one message, exactly the rows the pure threading strategies may ask about (parents by
 * Message-ID, our outbox entries named by reply tokens, stored replies naming this message, recent
 * conversations with the same subject key), and answers from them synchronously.
 */
async function loadThreadingSnapshot(trx: Executor, connection: ConnectionsTable, msg: ThreadingInput, secret: string, key: string, at: number): Promise<ThreadingSnapshot> {
  const parents = parentIdsOf(msg);
  const lowered = [...new Set(parents.map((p) => p.toLowerCase()))];
  const byMessageId = new Map<string, string>();
  if (lowered.length) {
    const rows = await trx
      .selectFrom('messages')
      .select(['message_id', 'conversation_id'])
      .where('connection_id', '=', connection.id)
      .where('message_id', 'in', lowered.slice(0, 200))
      .where('conversation_id', 'is not', null)
      .execute();
    for (const r of rows) if (r.message_id && r.conversation_id) byMessageId.set(r.message_id, r.conversation_id);
  }
  const outboxIds = parents.map((id) => readReplyToken([id], secret)).filter((x): x is string => Boolean(x));
  const byOutbox = new Map<string, string>();
  if (outboxIds.length) {
    const rows = await trx.selectFrom('outbox').select(['id', 'conversation_id']).where('id', 'in', outboxIds).where('account_id', '=', connection.account_id).execute();
    for (const r of rows) if (r.conversation_id) byOutbox.set(r.id, r.conversation_id);
  }
  const referencing: string[] = [];
  if (msg.messageId) {
    const rows = await trx
      .selectFrom('messages')
      .select(['conversation_id'])
      .where('connection_id', '=', connection.id)
      .where('in_reply_to', '=', msg.messageId.toLowerCase())
      .where('conversation_id', 'is not', null)
      .execute();
    for (const r of rows) if (r.conversation_id && !referencing.includes(r.conversation_id)) referencing.push(r.conversation_id);
  }
  let candidates: CandidateConversation[] = [];
  if (key) {
    const rows = await trx
      .selectFrom('conversations')
      .select(['id', 'participants', 'last_message_at', 'base_subject'])
      .where('connection_id', '=', connection.id)
      .where('base_subject', '=', key)
      .where('last_message_at', '>=', at - SUBJECT_WINDOW_DAYS * 86_400_000)
      .where('deleted_at', 'is', null)
      .orderBy('last_message_at', 'desc')
      .limit(20)
      .execute();
    candidates = rows.map((r) => ({ conversationId: r.id, subjectKey: r.base_subject, participants: JSON.parse(r.participants) as string[], lastMessageAt: new Date(r.last_message_at) }));
  }
  return {
    conversationByMessageId: (id) => byMessageId.get(id.toLowerCase()) ?? null,
    conversationByOutboxId: (id) => byOutbox.get(id) ?? null,
    conversationsReferencing: () => referencing,
    candidatesForSubject: (k) => candidates.filter((c) => c.subjectKey === k),
  };
}

/** The connection's own addresses never count as a "shared participant" for subject threading. */
function ownAddresses(connection: ConnectionsTable): string[] {
  return [connection.address_key, connection.forwarding_address ?? ''].filter(Boolean);
}

async function storeOne(trx: Executor, ingestor: Ingestor, connection: ConnectionsTable, p: Prepared): Promise<string> {
  const env = ingestor.env;
  const { parsed, item } = p;
  const now = env.now();
  const classification = classifyMessage(parsed, { accountId: connection.account_id });
  const base = subjectKey(parsed.subject ?? '');
  const participants = participantsOf(parsed);
  const at = parsed.date ? parsed.date.getTime() : item.receivedAt;

  let conversationId = item.conversationId ?? null;
  let isNew = false;
  if (!conversationId) {
    const input = threadingInput(parsed);
    const snapshot = await loadThreadingSnapshot(trx, connection, input, ingestor.replyTokenSecret, base, item.receivedAt);
    const decision = findConversation(input, snapshot, { replyTokenSecret: ingestor.replyTokenSecret, ownAddresses: ownAddresses(connection), receivedAt: new Date(item.receivedAt), subjectWindowDays: SUBJECT_WINDOW_DAYS });
    if (decision.kind === 'existing') conversationId = decision.conversationId;
  }
  let conversation: ConversationsTable;
  if (conversationId) {
    conversation = await trx.selectFrom('conversations').selectAll().where('id', '=', conversationId).executeTakeFirstOrThrow();
  } else {
    isNew = true;
    conversation = {
      id: newId('cnv'),
      account_id: connection.account_id,
      kind: connection.type,
      inbox_id: connection.type === 'team' ? connection.inbox_id : null,
      connection_id: connection.id,
      owner_user_id: connection.type === 'personal' ? connection.user_id : null,
      subject: (parsed.subject ?? '').slice(0, 998),
      base_subject: base,
      status: classification.kind === 'loop' ? 'spam' : 'open',
      snoozed_until: null,
      assignee_id: null,
      contact_id: null,
      participants: JSON.stringify(participants),
      message_count: 0,
      last_message_at: at,
      last_inbound_at: null,
      created_at: now,
      updated_at: now,
      deleted_at: null,
    };
    await trx.insertInto('conversations').values(conversation).execute();
  }

  const text = parsed.text ?? '';
  const message: MessagesTable = {
    id: newId('msg'),
    account_id: connection.account_id,
    connection_id: connection.id,
    conversation_id: conversation.id,
    dedupe_key: p.dedupeKey,
    direction: item.direction,
    source: item.source,
    raw_sha256: p.rawSha,
    size: item.raw.length,
    message_id: parsed.messageId?.toLowerCase() ?? null,
    in_reply_to: parsed.inReplyTo?.toLowerCase() ?? null,
    references: JSON.stringify(parsed.references.map((r) => r.toLowerCase())),
    subject: (parsed.subject ?? '').slice(0, 998),
    from_address: parsed.from?.address ?? null,
    from_name: parsed.from?.name ?? null,
    to: JSON.stringify(parsed.to),
    cc: JSON.stringify(parsed.cc),
    reply_to: JSON.stringify(parsed.replyTo),
    sent_at: parsed.date ? parsed.date.getTime() : null,
    received_at: item.receivedAt,
    text_body: text.slice(0, TEXT_CAP),
    html_sha256: p.htmlSha,
    // From a prefix: collapsing whitespace over a multi-megabyte body costs the main thread ~100 ms per MB.
    snippet: text.slice(0, 16 * 1024).replace(/\s+/g, ' ').trim().slice(0, SNIPPET),
    attachments: JSON.stringify(parsed.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, size: a.size, sha256: a.sha256, contentId: a.contentId ?? null }))),
    classification: classification.kind,
    classification_detail: JSON.stringify(classification),
    malformed: JSON.stringify(parsed.malformed),
    outbox_id: item.outboxId ?? null,
    created_at: now,
  };
  await trx.insertInto('messages').values(message).execute();
  if (item.location) await upsertLocation(trx, connection.id, item.location, message.id);

  const merged = [...new Set([...(JSON.parse(conversation.participants) as string[]), ...participants])].slice(0, 200);
  const patch = {
    message_count: conversation.message_count + 1,
    last_message_at: Math.max(conversation.last_message_at, at),
    participants: JSON.stringify(merged),
    updated_at: now,
    ...(item.direction === 'inbound' ? { last_inbound_at: Math.max(conversation.last_inbound_at ?? 0, at) } : {}),
  };
  await trx.updateTable('conversations').set(patch).where('id', '=', conversation.id).execute();
  conversation = { ...conversation, ...patch };

  // A reply stored before its parent: the parent joined the reply's conversation above (via
  // conversationReferencing); replies that started conversations of their own are pulled in here.
  if (message.message_id) {
    const orphans = await trx
      .selectFrom('messages')
      .select(['id', 'conversation_id'])
      .where('connection_id', '=', connection.id)
      .where('in_reply_to', '=', message.message_id)
      .where('conversation_id', '!=', conversation.id)
      .execute();
    for (const o of orphans) {
      const other = await trx.selectFrom('conversations').select(['id', 'message_count']).where('id', '=', o.conversation_id!).executeTakeFirst();
      await trx.updateTable('messages').set({ conversation_id: conversation.id }).where('id', '=', o.id).execute();
      await trx.updateTable('conversations').set((eb) => ({ message_count: eb('message_count', '+', 1) })).where('id', '=', conversation.id).execute();
      conversation = { ...conversation, message_count: conversation.message_count + 1 };
      if (other) {
        const left = other.message_count - 1;
        await trx.updateTable('conversations').set(left <= 0 ? { deleted_at: now, message_count: 0 } : { message_count: left }).where('id', '=', other.id).execute();
      }
    }
  }

  // Contact matching: the conversation is linked to the first participant (other than the mailbox's own
  // addresses) who is a contact of the account. Creating contacts from mail is the features' choice.
  if (!conversation.contact_id) {
    const own = new Set(ownAddresses(connection));
    const candidates = participants.filter((a) => !own.has(a)).slice(0, 50);
    if (candidates.length) {
      const matches = await findContactsByEmail(trx, connection.account_id, candidates);
      const first = candidates.map((c) => matches.find((m) => m.emailKey === c)).find(Boolean);
      if (first) {
        await trx.updateTable('conversations').set({ contact_id: first.contactId }).where('id', '=', conversation.id).execute();
        conversation = { ...conversation, contact_id: first.contactId };
      }
    }
  }

  for (const h of hooks) await h(trx, { message, conversation, connection, parsed, classification, isNewConversation: isNew, item }, env);
  return message.id;
}
