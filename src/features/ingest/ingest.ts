/**
 * The one path every message takes into Mailroom (IMAP sync, inbound SMTP, import, our own sent mail):
 * parse once (off the main thread) into the normalised message value, then in ONE transaction per batch:
 * dedupe per connection, classify, thread into a conversation, write the new messages' bytes as one
 * blob pack (fsynced before the commit), store message + location, run the features' hooks (inbox
 * routing, timeline logging), and write the caller's checkpoint. A retried batch finds its messages by
 * dedupe key and changes nothing twice.
 */
import { recordEvents, type AnyEventInput } from '../../platform/events.js';
import type { CommandEnv, Executor } from '../../platform/context.js';
import type { ConnectionsTable, ConversationsTable, MessagesTable } from '../../platform/database/schema.js';
import { newId } from '../../platform/database/ids.js';
import { readReplyToken } from '../../mail/message/reply-token.js';
import { recordPackEntries, sha256Hex, storedBlobs, type BlobStore } from '../../mail/blob-store.js';
import { insertRows } from '../../platform/database/insert-rows.js';
import { transaction } from '../../platform/database/after-commit.js';
import { chunks } from '../crm/index.js';
import type { Dialect } from '../../platform/database/database.js';
import type { MalformedReason, ParsedMessage } from '../../mail/message/message.js';
import { classifyMessage, type Classification } from './domain/classify.js';
import { subjectKey } from './domain/subject.js';
import { messageSnippet } from './domain/snippet.js';
import { messageTime } from './domain/dating.js';
import { findConversation, mergeSurvivor, threadIdsOf } from './domain/threading.js';
import { BatchState, SUBJECT_WINDOW_DAYS, type BatchMessage, type LiveConversation } from './batch-state.js';
import { metrics } from '../../platform/metrics.js';
import path from 'node:path';
import { folderBlobStore } from '../../mail/blob-store.js';
import { parseMailDate, parseMessage } from '../../mail/parse/index.js';
import type { IngestItem, IngestResult, MailIngest, PreparedBatch as PortBatch } from '../../mail/ingest-port.js';

export type { IngestItem, IngestResult };

/** The ingest pipeline of a process; implements the mail adapters' port. */
export interface Ingestor extends MailIngest<Prepared> {
  env: CommandEnv;
  blobs: BlobStore;
  parse: (raw: Buffer) => Promise<ParsedMessage>;
  /** HMAC secret of our reply tokens. */
  replyTokenSecret: string;
}

/** The ingest pipeline of a process: blob store under DATA_DIR/blobs, parser pool, reply-token secret. */
export function createIngestor(env: CommandEnv): Ingestor {
  const ingestor: Ingestor = {
    env,
    blobs: folderBlobStore(path.join(env.settings.dataDir, 'blobs'), env.db),
    parse: (raw) => parseMessage(raw),
    replyTokenSecret: env.secrets.derive('reply-token'),
    prepare: (item) => prepareItem(ingestor, item),
    prepareMany: (items) => prepareItems(ingestor, items),
    write: (connection, batch, afterWrite) => writePrepared(ingestor, connection, batch, afterWrite),
  };
  return ingestor;
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

/**
 * The features' reactions to a written batch, in order, each seeing the batch as it was right after its
 * step: a merge of conversations (conversationsMerged), or the messages stored between two merges, in
 * order (messageStored, then their domain events). A batch without merges is one call of each hook.
 */
async function runReactions(trx: Executor, env: CommandEnv, plan: BatchPlan): Promise<void> {
  let run: StoredMessage[] = [];
  const flush = async () => {
    if (!run.length) return;
    const stored = run;
    run = [];
    for (const h of env.reactions.messageStored) await h(trx, stored, env);
    await recordMessageEvents(trx, env, stored);
  };
  for (const step of plan.steps) {
    if (step.merge) {
      await flush();
      for (const h of env.reactions.conversationsMerged) await h(trx, step.merge, env);
    } else run.push(step.stored);
  }
  await flush();
}

/**
/**
 * The domain events of stored messages (src/platform/events.ts), in their transaction, in order: for
 * each message, the conversation it began, the message in its conversation, email.received for inbound
 * mail, then email.bounced (a bounce or complaint, not a delay) or email.replied (a person's answer to an
 * email Mailroom sent: our reply token in In-Reply-To/References). All have the conversation as subject,
 * so they reach a webhook in this order.
 */
async function recordMessageEvents(trx: Executor, env: CommandEnv, stored: readonly StoredMessage[]): Promise<void> {
  const now = env.now();
  const events: AnyEventInput[] = [];
  // The outbox entries bounces name by Message-ID, in one query for the batch (a bounce is common in imports).
  const bouncedIds = new Map<string, string[]>();
  for (const s of stored) {
    const b = s.classification.bounce;
    const id = b?.originalMessageId;
    if (s.message.direction !== 'inbound' || s.classification.kind !== 'bounce' || !b || b.type === 'delay' || !id || isReplyToken(id)) continue;
    bouncedIds.set(s.message.account_id, [...(bouncedIds.get(s.message.account_id) ?? []), normalMessageId(id)]);
  }
  const outboxByMessageId = new Map<string, string>();
  for (const [accountId, ids] of bouncedIds) {
    for (const part of chunks([...new Set(ids)])) {
      const rows = await trx.selectFrom('outbox').select(['id', 'message_id']).where('account_id', '=', accountId).where('message_id', 'in', part).execute();
      for (const r of rows) if (r.message_id && !outboxByMessageId.has(`${accountId}\n${r.message_id}`)) outboxByMessageId.set(`${accountId}\n${r.message_id}`, r.id);
    }
  }
  for (const s of stored) {
    const m = s.message;
    const c = s.conversation;
    const subject = { type: 'conversation', id: c.id };
    if (s.isNewConversation) {
      events.push({ accountId: m.account_id, type: 'conversation.created', subject, data: { conversationId: c.id, inboxId: c.inbox_id, connectionId: m.connection_id, contactId: c.contact_id }, at: now });
    }
    events.push({ accountId: m.account_id, type: 'conversation.message.created', subject, data: { conversationId: c.id, messageId: m.id, direction: m.direction, source: m.source }, at: now });
    if (m.direction !== 'inbound') continue;
    events.push({ accountId: m.account_id, type: 'email.received', subject, data: { messageId: m.id, conversationId: c.id, connectionId: m.connection_id }, at: now });
    const cls = s.classification;
    const parents = [s.parsed.inReplyTo, ...[...s.parsed.references].reverse()].filter((x): x is string => Boolean(x));
    const b = cls.bounce;
    if (cls.kind === 'bounce' && b && b.type !== 'delay') {
      const original = b.originalMessageId;
      const outboxId = !original ? null : isReplyToken(original) ? await sentByUs(trx, m.account_id, [original], env, true) : (outboxByMessageId.get(`${m.account_id}\n${normalMessageId(original)}`) ?? null);
      const recipients = b.recipients.map((r) => ({ address: r.address, status: r.status, action: r.action }));
      const data = { messageId: m.id, conversationId: c.id, connectionId: m.connection_id, type: b.type, permanent: b.permanent, recipients, originalMessageId: b.originalMessageId, outboxId };
      events.push({ accountId: m.account_id, type: 'email.bounced', subject, data, at: now });
    } else if (cls.kind === 'normal' && parents.length) {
      const outboxId = await sentByUs(trx, m.account_id, parents, env);
      if (outboxId) events.push({ accountId: m.account_id, type: 'email.replied', subject, data: { messageId: m.id, conversationId: c.id, connectionId: m.connection_id, outboxId, from: m.from_address }, at: now });
    }
  }
  await recordEvents(trx, env.dialect, events);
}

/** The outbox entry (an email Mailroom sent) named by our reply token in one of `ids` (or, with `byMessageId`, by its Message-ID), if it exists in the account. */
const isReplyToken = (id: string) => /^<?mr\./i.test(id.trim());
const normalMessageId = (id: string) => id.trim().replace(/^<|>$/g, '').toLowerCase();

async function sentByUs(trx: Executor, accountId: string, ids: readonly string[], env: CommandEnv, byMessageId = false): Promise<string | null> {
  const hasToken = ids.some(isReplyToken);
  if (!hasToken && !byMessageId) return null;
  const outboxId = hasToken ? readReplyToken(ids, env.secrets.derive('reply-token')) : null;
  let q = trx.selectFrom('outbox').select('id').where('account_id', '=', accountId);
  if (outboxId) q = q.where('id', '=', outboxId);
  else if (byMessageId && ids[0]) q = q.where('message_id', '=', normalMessageId(ids[0]));
  else return null;
  return (await q.executeTakeFirst())?.id ?? null;
}

/**
 * Features react to stored messages inside the same transaction (routing, reopening, timeline): a hook
 * gets the messages a batch stored between two merges, in order (one or more), each with its conversation
 * as it was right after that message, so it can load what it needs once and write with few statements.
 */
export type MessageStoredHook = (trx: Executor, stored: readonly StoredMessage[], env: CommandEnv) => Promise<void>;

/**
 * Two conversations found to be one thread (a message links both through its References, whatever the
 * arrival order) were merged: `mergedId` into `survivorId`, the older one. Ingest has already moved the
 * messages and set the survivor's count, participants, last message and contact; `mergedId` is deleted
 * (`deleted_at`, count 0). Each feature moves what it keeps about the merged conversation.
 */
export interface ConversationMerge {
  accountId: string;
  kind: ConversationsTable['kind'];
  survivorId: string;
  mergedId: string;
  at: number;
}
export type ConversationsMergedHook = (trx: Executor, merge: ConversationMerge, env: CommandEnv) => Promise<void>;

declare module '../../platform/reactions.js' {
  interface Reactions {
    /** Run for the messages a batch stored (between two merges, in order), inside the ingest transaction, in the order of src/app/features.ts. */
    messageStored: readonly MessageStoredHook[];
    /** Run for every merge of two conversations, inside the ingest transaction, before the hooks of the message that linked them. */
    conversationsMerged: readonly ConversationsMergedHook[];
  }
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

export interface Prepared {
  item: IngestItem;
  parsed: ParsedMessage;
  rawSha: string;
  htmlSha: string | null;
  dedupeKey: string;
  /** Raw bytes, decoded HTML and attachments: written (packed) with the batch if the message is new. */
  blobs: Array<{ sha256: string; data: Uint8Array }>;
}

/** One message's CPU half (parse in a worker, hashes); IMAP sync starts it as each message arrives. */
export async function prepareItem(ingestor: Ingestor, item: IngestItem): Promise<Prepared> {
  const parsed = await ingestor.parse(item.raw);
  const rawSha = parsed.rawSha256 ?? sha256Hex(item.raw);
  const blobs: Prepared['blobs'] = [{ sha256: rawSha, data: item.raw }];
  let htmlSha: string | null = null;
  if (parsed.html) {
    const html = Buffer.from(parsed.html, 'utf8');
    htmlSha = sha256Hex(html);
    blobs.push({ sha256: htmlSha, data: html });
  }
  // The parser hands over Buffers: no copy (fresh tens of megabytes on the main thread stall it).
  for (const a of parsed.attachments) if (a.content) blobs.push({ sha256: a.sha256, data: a.content });
  return { item, parsed, rawSha, htmlSha, dedupeKey: dedupeKeyOf(parsed, rawSha), blobs };
}

/** Parses in parallel (bounded by the parser's worker pool), then writes the batch in one transaction. */
export async function ingestBatch(ingestor: Ingestor, connection: ConnectionsTable, items: IngestItem[], afterWrite?: (trx: Executor, result: IngestResult) => Promise<void>): Promise<IngestResult> {
  return writePrepared(ingestor, connection, await prepareItems(ingestor, items), afterWrite);
}

/** Parsed messages with their bytes, ready to be written. */
export type PreparedBatch = PortBatch<Prepared>;

/** The CPU half of ingest (parse in workers, hashes): can overlap with writing the previous batch. */
export async function prepareItems(ingestor: Ingestor, items: IngestItem[]): Promise<PreparedBatch> {
  return { items: await Promise.all(items.map((i) => prepareItem(ingestor, i))) };
}

/**
 * The database half of ingest: one transaction for the whole batch, with the caller's checkpoint.
 * What is already stored is loaded for the whole batch at once (BatchState); each message is then
 * deduped, classified and threaded in memory, in order, exactly as if the previous ones were stored;
 * the rows are written with a few multi-row statements; the features' hooks then run once for the batch's
 * messages (once per run between merges), each message with its conversation as it was right after it.
 */
export async function writePrepared(ingestor: Ingestor, connection: ConnectionsTable, batch: PreparedBatch, afterWrite?: (trx: Executor, result: IngestResult) => Promise<void>): Promise<IngestResult> {
  const prepared = batch.items;
  const env = ingestor.env;
  const result = await transaction(env.db, async (trx) => {
    const r: IngestResult = { stored: 0, duplicates: 0, messageIds: [] };
    if (prepared.length) {
      const plan = await planBatch(trx, ingestor, connection, prepared, r);
      await packBlobs(trx, ingestor.blobs, env.dialect, plan);
      await writePlan(trx, env.dialect, plan);
      await runReactions(trx, env, plan);
      await linkContactsCreatedByHooks(trx, connection, plan);
    }
    if (afterWrite) await afterWrite(trx, r);
    return r;
  });
  metrics.messagesStored.inc({ source: prepared[0]?.item.source ?? 'unknown' }, result.stored);
  return result;
}

export interface GroupEntry {
  connection: ConnectionsTable;
  batch: PreparedBatch;
  afterWrite?: (trx: Executor, result: IngestResult) => Promise<void>;
}

/**
 * Several connections' prepared batches in ONE transaction with ONE pack file (one fsync): what
 * `writePrepared` does for each, in order, with the blobs of all of them packed together. Many mailboxes
 * receiving mail at once (one worker holding thousands) then cost one commit per group instead of one per
 * mailbox. Planning and writing stay per connection (dedupe and threading are per connection). Used
 * through `groupCommit`, which writes a failed group again one entry at a time.
 */
export async function writePreparedGroup(ingestor: Ingestor, entries: GroupEntry[]): Promise<IngestResult[]> {
  const env = ingestor.env;
  const results = await transaction(env.db, async (trx) => {
    const out: IngestResult[] = [];
    const plans: Array<BatchPlan | null> = [];
    for (const e of entries) {
      const r: IngestResult = { stored: 0, duplicates: 0, messageIds: [] };
      out.push(r);
      plans.push(e.batch.items.length ? await planBatch(trx, ingestor, e.connection, e.batch.items, r) : null);
    }
    const live = plans.filter((x): x is BatchPlan => x !== null);
    if (live.length) await packBlobs(trx, ingestor.blobs, env.dialect, { ...live[0]!, blobs: live.flatMap((x) => x.blobs) });
    for (let i = 0; i < entries.length; i++) {
      const plan = plans[i];
      if (plan) {
        await writePlan(trx, env.dialect, plan);
        await runReactions(trx, env, plan);
        await linkContactsCreatedByHooks(trx, entries[i]!.connection, plan);
      }
      if (entries[i]!.afterWrite) await entries[i]!.afterWrite!(trx, out[i]!);
    }
    return out;
  });
  for (let i = 0; i < entries.length; i++) metrics.messagesStored.inc({ source: entries[i]!.batch.items[0]?.item.source ?? 'unknown' }, results[i]!.stored);
  return results;
}

type Location = { folder: string; uidvalidity: number; uid: number };

interface BatchPlan {
  connection: ConnectionsTable;
  state: BatchState;
  messages: MessagesTable[];
  locations: Map<string, { loc: Location; messageId: string }>;
  /** Conversations merged by this batch, in order (the messages they held move with them). */
  merges: ConversationMerge[];
  stored: StoredMessage[];
  /** The features' reactions, in order: each message's merges, then the message. */
  steps: Array<{ merge: ConversationMerge; stored?: undefined } | { merge?: undefined; stored: StoredMessage }>;
  /** Bytes of the stored messages (raw, HTML, attachments). */
  blobs: Prepared['blobs'];
  now: number;
}

function participantsOf(parsed: ParsedMessage): string[] {
  const all = [parsed.from, ...parsed.to, ...parsed.cc].filter((a): a is NonNullable<typeof a> => Boolean(a)).map((a) => a.address).filter(Boolean);
  return [...new Set(all.map((a) => a.toLowerCase()))];
}

/** The connection's own addresses never count as a "shared participant" for subject threading. */
function ownAddresses(connection: ConnectionsTable): string[] {
  return [connection.address_key, connection.forwarding_address ?? ''].filter(Boolean);
}

/** Places every message of the batch in memory (dedupe, classify, thread, orphans, contact); writes nothing. */
async function planBatch(trx: Executor, ingestor: Ingestor, connection: ConnectionsTable, prepared: Prepared[], r: IngestResult): Promise<BatchPlan> {
  const env = ingestor.env;
  const now = env.now();
  const own = new Set(ownAddresses(connection));
  const inputs = prepared.map((p) => {
    const participants = participantsOf(p.parsed);
    const batch: BatchMessage = {
      parsed: p.parsed,
      dedupeKey: p.dedupeKey,
      subjectKey: subjectKey(p.parsed.subject ?? ''),
      receivedAt: p.item.receivedAt,
      ...(p.item.conversationId ? { conversationId: p.item.conversationId } : {}),
      contactCandidates: participants.filter((a) => !own.has(a)).slice(0, 50),
    };
    return { p, participants, batch };
  });
  const state = await BatchState.load(trx, connection, inputs.map((i) => i.batch), ingestor.replyTokenSecret);
  const plan: BatchPlan = { connection, state, messages: [], locations: new Map(), merges: [], stored: [], steps: [], blobs: [], now };
  const locate = (loc: Location | undefined, messageId: string) => {
    if (loc) plan.locations.set(`${loc.folder}\n${loc.uidvalidity}\n${loc.uid}`, { loc, messageId });
  };

  for (const { p, participants, batch } of inputs) {
    const { parsed, item } = p;
    const existing = state.stored.get(p.dedupeKey);
    if (existing) {
      r.duplicates += 1;
      locate(item.location, existing);
      r.messageIds.push(existing);
      continue;
    }
    const classification = classifyMessage(parsed, { accountId: connection.account_id });
    // An undated message is dated by Received, the file's time or its arrival, flagged, and anchors no
    // subject join: a conversation it starts has no base subject until a dated message joins it, and it
    // never moves an existing conversation's last message time.
    const time = messageTime(parsed, item, parseMailDate);
    const at = time.at;
    const dated = time.source === 'date';

    let conversationId = item.conversationId ?? null;
    if (!conversationId) {
      const decision = findConversation(parsed, state.snapshot(parsed.messageId, item.receivedAt), {
        replyTokenSecret: ingestor.replyTokenSecret,
        ownAddresses: [...own],
        receivedAt: new Date(item.receivedAt),
        subjectWindowDays: SUBJECT_WINDOW_DAYS,
      });
      if (decision.kind === 'existing') conversationId = decision.conversationId;
    }
    // Every conversation the message links through its ids (own, In-Reply-To, References, seen or not)
    // is one thread: the oldest survives, the others are merged into it (a reply that came before its
    // parent brings the whole conversation it already heads; replies to a missing parent meet).
    const threadIds = threadIdsOf(parsed);
    const linked = new Map<string, LiveConversation>();
    if (conversationId) linked.set(conversationId, state.conversation(conversationId));
    for (const id of threadIds) {
      const c = state.linkOf(id);
      const live = c ? state.conversations.get(c) : undefined;
      if (live && live.row.deleted_at === null) linked.set(c!, live);
    }
    if (linked.size > 1) {
      const survivor = mergeSurvivor([...linked.values()].map((c) => ({ id: c.row.id, createdAt: c.row.created_at, c }))).c;
      for (const other of linked.values()) if (other !== survivor) mergeConversation(plan, other, survivor);
      conversationId = survivor.row.id;
    }
    const isNew = !conversationId;
    const conv = conversationId
      ? state.conversation(conversationId)
      : state.addConversation(
          {
            id: newId('cnv'),
            account_id: connection.account_id,
            kind: connection.type,
            inbox_id: connection.type === 'team' ? connection.inbox_id : null,
            connection_id: connection.id,
            owner_user_id: connection.type === 'personal' ? connection.user_id : null,
            subject: (parsed.subject ?? '').slice(0, 998),
            base_subject: dated ? batch.subjectKey : '',
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
          },
          true,
        );

    const message = messageRow(connection, conv.row.id, p, classification, now, dated ? null : `dated_by_${time.source as Exclude<typeof time.source, 'date'>}`);
    plan.messages.push(message);
    locate(item.location, message.id);
    state.placed({ id: message.id, messageId: message.message_id, threadIds, conversationId: conv.row.id, dedupeKey: p.dedupeKey });

    conv.participants = [...new Set([...conv.participants, ...participants])].slice(0, 200);
    const anchors = dated || isNew;
    conv.row = {
      ...conv.row,
      message_count: conv.row.message_count + 1,
      last_message_at: anchors ? Math.max(conv.row.last_message_at, at) : conv.row.last_message_at,
      updated_at: now,
      ...(item.direction === 'inbound' && anchors ? { last_inbound_at: Math.max(conv.row.last_inbound_at ?? 0, at) } : {}),
      // A conversation an undated message started joins subject threading with its first dated message.
      ...(dated && conv.row.base_subject === '' && subjectKey(conv.row.subject) !== '' ? { base_subject: subjectKey(conv.row.subject) } : {}),
    };
    conv.dirty = true;

    // Contact matching: the conversation is linked to the first participant (other than the mailbox's own
    // addresses) who is a contact of the account. Creating contacts from mail is the features' choice.
    // A message whose From failed DMARC under a reject/quarantine policy links nobody (sender-auth.ts).
    if (!conv.row.contact_id && !item.senderAuth?.flagged) {
      const first = batch.contactCandidates.map((a) => state.contacts.get(a)).find(Boolean);
      if (first) conv.row = { ...conv.row, contact_id: first };
    }

    r.stored += 1;
    r.messageIds.push(message.id);
    plan.blobs.push(...p.blobs);
    const stored: StoredMessage = { message, conversation: { ...conv.row, participants: JSON.stringify(conv.participants) }, connection, parsed, classification, isNewConversation: isNew, item };
    plan.stored.push(stored);
    plan.steps.push({ stored });
  }
  return plan;
}

/**
 * Merges `from` into `survivor` in memory: its messages (stored and of this batch), count, participants,
 * last message and inbound times, and contact when the survivor has none; `from` is deleted (tombstone,
 * count 0) and every id that linked to it links to the survivor. The rest of the conversation (status,
 * assignee, comments, routing, timeline logging, outbox) is the features' to move (`conversationsMerged`).
 */
function mergeConversation(plan: BatchPlan, from: LiveConversation, survivor: LiveConversation): void {
  const into = survivor.row.id;
  survivor.participants = [...new Set([...survivor.participants, ...from.participants])].slice(0, 200);
  const inbound = Math.max(survivor.row.last_inbound_at ?? 0, from.row.last_inbound_at ?? 0);
  survivor.row = {
    ...survivor.row,
    message_count: survivor.row.message_count + from.row.message_count,
    last_message_at: Math.max(survivor.row.last_message_at, from.row.last_message_at),
    last_inbound_at: inbound || null,
    contact_id: survivor.row.contact_id ?? from.row.contact_id,
    updated_at: plan.now,
  };
  survivor.dirty = true;
  from.row = { ...from.row, message_count: 0, deleted_at: plan.now, updated_at: plan.now };
  from.dirty = true;
  // The batch's messages in `from` are inserted there and moved with the stored ones (writePlan).
  plan.state.relink(from.row.id, into);
  const merge: ConversationMerge = { accountId: from.row.account_id, kind: from.row.kind, survivorId: into, mergedId: from.row.id, at: plan.now };
  plan.merges.push(merge);
  plan.steps.push({ merge });
}

function messageRow(connection: ConnectionsTable, conversationId: string, p: Prepared, classification: Classification, now: number, datedBy: MalformedReason | null): MessagesTable {
  const { parsed, item } = p;
  const text = parsed.text ?? '';
  return {
    id: newId('msg'),
    account_id: connection.account_id,
    connection_id: connection.id,
    conversation_id: conversationId,
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
    snippet: messageSnippet(text, SNIPPET),
    attachments: JSON.stringify(parsed.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, size: a.size, sha256: a.sha256, contentId: a.contentId ?? null }))),
    classification: classification.kind,
    classification_detail: JSON.stringify(classification),
    malformed: JSON.stringify(datedBy ? [...parsed.malformed, datedBy] : parsed.malformed),
    outbox_id: item.outboxId ?? null,
    created_at: now,
    sender_auth: item.senderAuth ? JSON.stringify(item.senderAuth) : null,
  };
}

/**
 * The batch's new bytes as one pack file, on disk (fsync) before the transaction that references them
 * commits; bytes stored already (loose or packed) are not written again.
 */
async function packBlobs(trx: Executor, blobs: BlobStore, dialect: Dialect, plan: BatchPlan): Promise<void> {
  const have = await storedBlobs(
    trx,
    blobs,
    plan.blobs.map((b) => b.sha256),
  );
  const fresh = plan.blobs.filter((b) => !have.has(b.sha256) && have.add(b.sha256));
  await recordPackEntries(trx, dialect, await blobs.writePack(fresh), plan.now);
}

/** What ingest changes on an existing conversation (the rest is the agents'). */
const CONVERSATION_INGEST_COLUMNS = ['message_count', 'last_message_at', 'last_inbound_at', 'updated_at', 'contact_id', 'deleted_at', 'base_subject', 'participants'] as const;
const CONVERSATION_UPSERT = `on conflict ("id") do update set ${CONVERSATION_INGEST_COLUMNS.map((k) => `"${k}" = excluded."${k}"`).join(', ')}`;

/** Writes the planned batch: new conversations, messages, locations, then the changed conversations and moves. */
async function writePlan(trx: Executor, dialect: Dialect, plan: BatchPlan): Promise<void> {
  const all = [...plan.state.conversations.values()];
  // New and changed conversations in one statement: an upsert of their whole rows whose conflict on the id
  // (only the changed ones: they exist, a new id never does) updates only what ingest changes, where a
  // statement per conversation cost a database round trip each (PostgreSQL: ~10 per group of inbound mail),
  // and the new ones a statement of their own (one round trip more per group).
  const created = all.filter((c) => c.isNew).map((c) => ({ ...c.row, participants: JSON.stringify(c.participants) }));
  const changed = all.filter((c) => !c.isNew && c.dirty).map((c) => ({ ...c.row, participants: JSON.stringify(c.participants) }));
  await insertRows(trx, dialect, 'conversations', [...created, ...changed], changed.length ? CONVERSATION_UPSERT : '');
  await insertRows(trx, dialect, 'messages', plan.messages);
  const locations = [...plan.locations.values()].map(({ loc, messageId }) => ({ connection_id: plan.connection.id, folder: loc.folder, uidvalidity: loc.uidvalidity, uid: loc.uid, message_id: messageId, expunged_at: null }));
  await insertRows(trx, dialect, 'message_locations', locations, 'on conflict ("connection_id", "folder", "uidvalidity", "uid") do update set "message_id" = excluded."message_id", "expunged_at" = null');
  // Merges, in order (a conversation merged into one that is merged later follows it).
  for (const m of plan.merges) {
    await trx.updateTable('messages').set({ conversation_id: m.survivorId }).where('conversation_id', '=', m.mergedId).execute();
    await trx.updateTable('thread_ids').set({ conversation_id: m.survivorId }).where('conversation_id', '=', m.mergedId).execute();
  }
  await insertRows(trx, dialect, 'thread_ids', plan.state.changedLinks(plan.connection.id), 'on conflict ("connection_id", "message_id") do update set "conversation_id" = excluded."conversation_id"');
}

/**
 * A hook may create contacts (logging personal mail can, when the account allows): a conversation of the
 * batch still without a contact is linked to the first of its participants who is one now.
 */
async function linkContactsCreatedByHooks(trx: Executor, connection: ConnectionsTable, plan: BatchPlan): Promise<void> {
  const own = new Set(ownAddresses(connection));
  const unlinked = new Map<string, string[]>();
  for (const s of plan.stored) {
    const conv = plan.state.conversations.get(s.conversation.id);
    if (!conv || conv.row.contact_id || conv.row.deleted_at !== null || s.item.senderAuth?.flagged) continue;
    const list = unlinked.get(conv.row.id) ?? [];
    for (const a of participantsOf(s.parsed)) if (!own.has(a) && !list.includes(a) && list.length < 50) list.push(a);
    unlinked.set(conv.row.id, list);
  }
  if (!unlinked.size) return;
  const asked = [...new Set([...unlinked.values()].flat())];
  if (!asked.length) return;
  await plan.state.loadContacts(trx, connection.account_id, asked);
  for (const [id, addresses] of unlinked) {
    const first = addresses.map((a) => plan.state.contacts.get(a)).find(Boolean);
    if (first) await trx.updateTable('conversations').set({ contact_id: first }).where('id', '=', id).where('contact_id', 'is', null).execute();
  }
}
