/**
 * Logs personal mail on contact timelines as it is stored (a `messageStored` reaction of ingest:
 * it runs inside the ingest transaction, so a retried batch logs nothing twice and a failed one logs
 * nothing). Only personal connections; everything else of the mailbox stays private to its owner.
 *
 * - Our own send from the CRM (stored by the outbox sender): `email_sent` on the contacts it is logged to;
 *   the conversation is associated with them (and their company) for its replies.
 * - A reply in an associated conversation (threaded by References, In-Reply-To or our reply token; a
 *   reply from another address of the same contact too): `email_received` on the same contacts, and an
 *   implied open of the tracked email. An out-of-office or other automatic reply: `auto_reply_received`.
 * - A bounce (DSN, ARF or a recognised non-standard bounce) of a logged email: the address is marked
 *   bounced (permanent failures) and `email_bounced` is appended; delays are ignored.
 * - Mail BCC'd or forwarded to the user's logging address (inbound SMTP): logged to the recipient
 *   contacts (created when the account allows), or for a forward to the original sender.
 * - With the account rule "log all email with known contacts": mail received from, and mail sent to known
 *   contacts from any client (the synced Sent folder).
 * Never-log lists (account and user) are respected everywhere; list mail and loops are never logged, nor
 * is mail whose From failed DMARC under a reject or quarantine policy (flagged by inbound SMTP).
 */
import type { Classification } from '../../ingest/index.js';
import type { ParsedMessage } from '../../../mail/message/message.js';
import { readReplyToken } from '../../../mail/message/reply-token.js';
import { readSenderAuth } from '../../../mail/sender-auth.js';
import { forwardedSender, isForwardSubject, looksLikeLoggingAddress } from '../domain/bcc.js';
import { decideLogging, isNeverLogged, mailKey } from '../domain/logging.js';
import type { ConnectionsTable, ConversationsTable, MessagesTable } from '../../../platform/database/schema.js';
import { newId } from '../../../platform/database/ids.js';
import { appendTimelineEvent, type TimelineKind } from '../../crm/index.js';
import type { CommandEnv, Executor } from '../../../platform/context.js';
import { contactsByAddress, createContactFromEmail, loadLogContext, type LogContext } from '../queries.js';
import { scheduleTrackingDigest } from './processTrackingHits.js';
import { json, readJson, shapes } from '../../../platform/database/json.js';

/** What the hook reads of a stored message (the engine's StoredMessage has these fields). */
export interface StoredPersonalMail {
  message: MessagesTable;
  conversation: ConversationsTable;
  connection: ConnectionsTable;
  parsed: ParsedMessage;
  classification: Classification;
  item: { source: string; direction: string; outboxId?: string };
}

interface Association {
  contactId: string;
  companyId: string | null;
  personalEmailId: string | null;
}

/** The `messageStored` reaction (declared in ../index.ts): the batch's messages, one after the other, in order. */
export async function logPersonalMail(trx: Executor, batch: readonly StoredPersonalMail[], env: CommandEnv): Promise<void> {
  for (const stored of batch) if (stored.connection.type === 'personal') await logOnePersonalMail(trx, stored, env);
}

async function logOnePersonalMail(trx: Executor, stored: StoredPersonalMail, env: CommandEnv): Promise<void> {
  const { connection: c, conversation: conv, message: m, classification: cls, item } = stored;
  if (c.type !== 'personal') return;
  // Its From failed DMARC under a reject/quarantine policy (src/mail/sender-auth.ts): kept, never logged as anyone's words.
  if (readSenderAuth(m.sender_auth)?.flagged) return;
  // The engine threads by reply token across the account; a conversation of another mailbox is never ours to log into.
  const ownConversation = conv.connection_id === c.id && (conv.owner_user_id === null || conv.owner_user_id === c.user_id);

  if (item.source === 'outbox' && item.outboxId) return logCrmSend(trx, stored, item.outboxId, ownConversation);
  if (cls.kind === 'list' || cls.kind === 'loop') return;
  const ctx = await logContextFor(trx, c.account_id, c.user_id);
  if (cls.kind === 'bounce') return logBounce(trx, env, stored, ctx, ownConversation);
  if (item.source === 'smtp') return logBcc(trx, env, stored, ctx, ownConversation);
  if (m.direction === 'inbound') return logInbound(trx, env, stored, ctx, ownConversation);
  return logSentFromClient(trx, env, stored, ctx, ownConversation);
}

/**
 * The logging context of a user, loaded once per ingest transaction (a sync batch stores hundreds of
 * messages of one mailbox; the rule and lists do not change in between).
 */
const contexts = new WeakMap<object, Map<string, Promise<LogContext>>>();
function logContextFor(trx: Executor, accountId: string, userId: string): Promise<LogContext> {
  let perTrx = contexts.get(trx);
  if (!perTrx) {
    perTrx = new Map();
    contexts.set(trx, perTrx);
  }
  let ctx = perTrx.get(userId);
  if (!ctx) {
    ctx = loadLogContext(trx, accountId, userId);
    perTrx.set(userId, ctx);
  }
  return ctx;
}

const occurredAt = (m: MessagesTable) => m.sent_at ?? m.received_at;
const emailRef = (m: MessagesTable) => ({ refType: 'email', refId: (m.message_id ?? m.id).slice(0, 500) });

function addresses(text: string): string[] {
  return readJson('messages.to', text, shapes.mailboxes, []).map((a) => a.address).filter(Boolean);
}

function eventData(stored: StoredPersonalMail, extra: Record<string, unknown> = {}) {
  const { message: m, conversation: conv, connection: c } = stored;
  return {
    subject: m.subject,
    snippet: m.snippet,
    from: m.from_address,
    to: addresses(m.to),
    cc: addresses(m.cc),
    direction: m.direction,
    messageId: m.id,
    conversationId: conv.id,
    userId: c.user_id,
    ...extra,
  };
}

async function existingContacts(trx: Executor, accountId: string, ids: readonly string[]): Promise<Map<string, string | null>> {
  if (!ids.length) return new Map();
  const rows = await trx.selectFrom('contacts').select(['id', 'company_id']).where('account_id', '=', accountId).where('id', 'in', [...new Set(ids)]).execute();
  return new Map(rows.map((r) => [r.id, r.company_id]));
}

async function associations(trx: Executor, conversationId: string): Promise<Association[]> {
  const rows = await trx.selectFrom('logged_conversations').select(['contact_id', 'company_id', 'personal_email_id']).where('conversation_id', '=', conversationId).execute();
  return rows.map((r) => ({ contactId: r.contact_id, companyId: r.company_id, personalEmailId: r.personal_email_id }));
}

/**
 * The logged conversations of messages with these Message-IDs in any of the user's personal mailboxes. The
 * mailboxes are a list of connection ids, so that the parents are looked up by (connection_id, message_id)
 * whatever the statistics: as a join, SQLite without statistics (a new install during its first sync,
 * before the hourly `optimize`) scanned every message of the database for each reply. Exported for its plan test.
 */
export function loggedByParents(trx: Executor, p: { accountId: string; userId: string; parents: readonly string[] }) {
  return trx
    .selectFrom('messages')
    .innerJoin('logged_conversations', 'logged_conversations.conversation_id', 'messages.conversation_id')
    .select(['logged_conversations.contact_id', 'logged_conversations.company_id', 'logged_conversations.personal_email_id'])
    .where('messages.connection_id', 'in', (eb) => eb.selectFrom('connections').select('connections.id').where('connections.user_id', '=', p.userId).where('connections.type', '=', 'personal'))
    .where('messages.message_id', 'in', [...p.parents])
    .where('messages.account_id', '=', p.accountId);
}

/**
 * Associations reached through the message's parents (In-Reply-To, References) in any of the user's
 * personal mailboxes: a reply that landed in another of the user's mailboxes than the logged original.
 */
async function associationsByParents(trx: Executor, stored: StoredPersonalMail): Promise<Association[]> {
  const m = stored.message;
  const parents = [...new Set([m.in_reply_to, ...readJson('messages.references', m.references, json.stringArray, [])].filter((x): x is string => Boolean(x)))].slice(0, 50);
  if (!parents.length) return [];
  const rows = await loggedByParents(trx, { accountId: m.account_id, userId: stored.connection.user_id, parents }).execute();
  const seen = new Set<string>();
  return rows.filter((r) => !seen.has(r.contact_id) && seen.add(r.contact_id)).map((r) => ({ contactId: r.contact_id, companyId: r.company_id, personalEmailId: r.personal_email_id }));
}

async function associate(trx: Executor, conv: ConversationsTable, list: readonly Association[], now: number): Promise<void> {
  for (const a of list) {
    await trx
      .insertInto('logged_conversations')
      .values({ conversation_id: conv.id, contact_id: a.contactId, account_id: conv.account_id, company_id: a.companyId, personal_email_id: a.personalEmailId, created_at: now })
      .onConflict((oc) => oc.columns(['conversation_id', 'contact_id']).doNothing())
      .execute();
  }
}

async function appendToAll(trx: Executor, stored: StoredPersonalMail, list: readonly Association[], kind: TimelineKind, extra: Record<string, unknown> = {}): Promise<void> {
  const { message: m, connection: c } = stored;
  const alive = await existingContacts(
    trx,
    c.account_id,
    list.map((a) => a.contactId),
  );
  for (const a of list) {
    if (!alive.has(a.contactId)) continue;
    await appendTimelineEvent(trx, {
      accountId: c.account_id,
      contactId: a.contactId,
      kind,
      occurredAt: occurredAt(m),
      actorUserId: c.user_id,
      ...emailRef(m),
      data: eventData(stored, { companyId: a.companyId, ...(a.personalEmailId ? { personalEmailId: a.personalEmailId } : {}), ...extra }),
    });
  }
}

/** Known contacts (and new ones, when decided) as associations. */
async function toAssociations(trx: Executor, env: CommandEnv, ctx: LogContext, logTo: ReadonlyArray<{ address: string; contactId: string | null }>, create: readonly string[], names: Map<string, string>): Promise<Association[]> {
  const out: Association[] = [];
  const alive = await existingContacts(
    trx,
    ctx.accountId,
    logTo.map((p) => p.contactId!),
  );
  for (const p of logTo) if (alive.has(p.contactId!)) out.push({ contactId: p.contactId!, companyId: alive.get(p.contactId!) ?? null, personalEmailId: null });
  for (const address of create) {
    const made = await createContactFromEmail(trx, { accountId: ctx.accountId, ownerId: ctx.userId, address, name: names.get(mailKey(address)), now: env.now() });
    if (!out.some((a) => a.contactId === made.contactId)) out.push({ contactId: made.contactId, companyId: made.companyId, personalEmailId: null });
  }
  return out;
}

async function logCrmSend(trx: Executor, stored: StoredPersonalMail, outboxId: string, ownConversation: boolean): Promise<void> {
  const pe = await trx.selectFrom('personal_emails').selectAll().where('outbox_id', '=', outboxId).executeTakeFirst();
  if (!pe) return; // sent by another feature
  await trx.updateTable('personal_emails').set({ conversation_id: stored.conversation.id }).where('id', '=', pe.id).execute();
  if (pe.logged !== 1 || !ownConversation) return;
  const ids = readJson('personal_emails.log_contact_ids', pe.log_contact_ids, json.stringArray, []);
  const alive = await existingContacts(trx, pe.account_id, ids);
  const list = ids.filter((id) => alive.has(id)).map((id) => ({ contactId: id, companyId: id === pe.contact_id ? pe.company_id : (alive.get(id) ?? null), personalEmailId: pe.id }));
  await associate(trx, stored.conversation, list, stored.message.created_at);
  await appendToAll(trx, stored, list, 'email_sent', { tracking: { opens: pe.track_opens === 1, clicks: pe.track_clicks === 1 } });
}

async function logInbound(trx: Executor, env: CommandEnv, stored: StoredPersonalMail, ctx: LogContext, ownConversation: boolean): Promise<void> {
  const { message: m, conversation: conv, classification: cls } = stored;
  const sender = m.from_address;
  if (sender && ctx.ownAddresses.has(mailKey(sender))) return; // the user's own message seen in INBOX
  const kind: TimelineKind = cls.kind === 'auto_reply' || cls.kind === 'challenge' ? 'auto_reply_received' : 'email_received';
  let assoc = ownConversation ? await associations(trx, conv.id) : [];
  if (!assoc.length) {
    assoc = await associationsByParents(trx, stored);
    if (assoc.length && ownConversation) await associate(trx, conv, assoc, env.now());
  }
  if (assoc.length) {
    const d = decideLogging({ situation: 'reply', rule: ctx.rule, createContacts: false, neverLog: ctx.neverLog, userLogs: ctx.userLogs, participants: sender ? [{ address: sender, contactId: null }] : [] });
    if (!d.log) return;
    await appendToAll(trx, stored, assoc, kind, { reply: true });
    if (kind === 'email_received') await impliedOpen(trx, env, assoc, occurredAt(m), ctx.userId);
    return;
  }
  if (!sender || ctx.rule !== 'all_known_contacts' || !ctx.userLogs) return; // replies only: the rest of the mailbox stays private
  const known = await contactsByAddress(trx, ctx.accountId, [sender]);
  const d = decideLogging({
    situation: 'received',
    rule: ctx.rule,
    createContacts: false,
    neverLog: ctx.neverLog,
    userLogs: ctx.userLogs,
    participants: [{ address: sender, contactId: known.get(mailKey(sender))?.contactId ?? null }],
  });
  if (!d.log) return;
  const list = await toAssociations(trx, env, ctx, d.logTo, [], new Map());
  if (ownConversation) await associate(trx, conv, list, env.now());
  await appendToAll(trx, stored, list, kind);
}

async function logSentFromClient(trx: Executor, env: CommandEnv, stored: StoredPersonalMail, ctx: LogContext, ownConversation: boolean): Promise<void> {
  if (ctx.rule !== 'all_known_contacts' || !ctx.userLogs) return;
  const p = stored.parsed;
  const recipients = [...p.to, ...p.cc, ...p.bcc].map((a) => a.address).filter((a) => a && !ctx.ownAddresses.has(mailKey(a)) && !looksLikeLoggingAddress(a));
  if (!recipients.length) return;
  const known = await contactsByAddress(trx, ctx.accountId, recipients);
  const d = decideLogging({
    situation: 'sent_from_client',
    rule: ctx.rule,
    createContacts: ctx.createContacts,
    neverLog: ctx.neverLog,
    userLogs: ctx.userLogs,
    participants: recipients.map((a) => ({ address: a, contactId: known.get(mailKey(a))?.contactId ?? null })),
  });
  if (!d.log) return;
  const list = await toAssociations(trx, env, ctx, d.logTo, d.create, new Map());
  if (ownConversation) await associate(trx, stored.conversation, list, env.now());
  await appendToAll(trx, stored, list, 'email_sent', { source: 'sent_folder' });
}

async function logBcc(trx: Executor, env: CommandEnv, stored: StoredPersonalMail, ctx: LogContext, ownConversation: boolean): Promise<void> {
  const { message: m, parsed: p } = stored;
  const from = m.from_address;
  if (!from || !ctx.ownAddresses.has(mailKey(from)) || looksLikeLoggingAddress(from)) return; // refused at SMTP already; never logged
  const names = new Map<string, string>();
  for (const a of [...p.to, ...p.cc]) if (a.name) names.set(mailKey(a.address), a.name);
  const recipients = [...p.to, ...p.cc].map((a) => a.address).filter((a) => a && !ctx.ownAddresses.has(mailKey(a)) && !looksLikeLoggingAddress(a));
  let participants = recipients;
  let kind: TimelineKind = 'email_sent';
  if (!recipients.length && isForwardSubject(p.subject)) {
    const original = forwardedSender(p.text);
    if (!original || ctx.ownAddresses.has(mailKey(original))) return;
    participants = [original];
    kind = 'email_received';
  }
  if (!participants.length) return;
  const known = await contactsByAddress(trx, ctx.accountId, participants);
  const d = decideLogging({
    situation: 'bcc',
    rule: ctx.rule,
    createContacts: ctx.createContacts,
    neverLog: ctx.neverLog,
    userLogs: true,
    participants: participants.map((a) => ({ address: a, contactId: known.get(mailKey(a))?.contactId ?? null })),
  });
  if (!d.log) return;
  const list = await toAssociations(trx, env, ctx, d.logTo, d.create, names);
  if (ownConversation) await associate(trx, stored.conversation, list, env.now());
  await appendToAll(trx, stored, list, kind, kind === 'email_sent' ? { source: 'bcc', direction: 'outbound' } : { source: 'forward', direction: 'inbound' });
}

async function logBounce(trx: Executor, env: CommandEnv, stored: StoredPersonalMail, ctx: LogContext, ownConversation: boolean): Promise<void> {
  const b = stored.classification.bounce;
  if (!b || b.type === 'delay') return;
  let pe: { id: string; logged: number; log_contact_ids: string } | undefined;
  if (b.originalMessageId) {
    // Our reply token names the outbox entry; the stored Message-ID (lower-cased) finds it too.
    const byToken = readReplyToken([b.originalMessageId], env.secrets.derive('reply-token'));
    const byId = byToken ? undefined : await trx.selectFrom('outbox').select('id').where('message_id', '=', b.originalMessageId.toLowerCase()).where('account_id', '=', ctx.accountId).executeTakeFirst();
    const outboxId = byToken ?? byId?.id;
    if (outboxId) pe = await trx.selectFrom('personal_emails').select(['id', 'logged', 'log_contact_ids']).where('outbox_id', '=', outboxId).where('account_id', '=', ctx.accountId).where('user_id', '=', ctx.userId).executeTakeFirst();
  }
  const assoc = ownConversation ? await associations(trx, stored.conversation.id) : [];
  // Only mail that was (or, under the rule, would have been) logged: a bounce tells whom the user wrote to.
  if (!(pe?.logged === 1 || assoc.length > 0 || ctx.rule === 'all_known_contacts')) return;
  const at = occurredAt(stored.message);
  const affected = b.recipients.filter((r) => b.type === 'complaint' || r.action === null || r.action === 'failed').filter((r) => r.address && !isNeverLogged(r.address, ctx.neverLog));
  if (!affected.length) return;
  const known = await contactsByAddress(
    trx,
    ctx.accountId,
    affected.map((r) => r.address),
  );
  for (const r of affected) {
    const key = mailKey(r.address);
    const contact = known.get(key);
    if (!contact) continue;
    const permanent = b.permanent || b.type === 'complaint' || (r.status ?? '').startsWith('5');
    const reason = [r.status, r.diagnostic].filter(Boolean).join(' ').slice(0, 500) || (b.type === 'complaint' ? 'marked as spam by the recipient' : 'bounced');
    if (permanent) {
      await trx.updateTable('contact_emails').set({ bounced_at: at, bounce_reason: reason }).where('account_id', '=', ctx.accountId).where('email_key', '=', key).execute();
    }
    await appendTimelineEvent(trx, {
      accountId: ctx.accountId,
      contactId: contact.contactId,
      kind: 'email_bounced',
      occurredAt: at,
      actorUserId: ctx.userId,
      refType: 'message',
      refId: stored.message.id,
      data: { address: r.address, status: r.status, diagnostic: r.diagnostic, permanent, type: b.type, personalEmailId: pe?.id ?? null, conversationId: stored.conversation.id, userId: ctx.userId },
    });
  }
}

/** A reply implies the tracked email was opened: record an open unless a real one exists. */
async function impliedOpen(trx: Executor, env: CommandEnv, assoc: readonly Association[], at: number, userId: string): Promise<void> {
  const ids = [...new Set(assoc.map((a) => a.personalEmailId).filter((x): x is string => Boolean(x)))];
  if (!ids.length) return;
  const emails = await trx.selectFrom('personal_emails').select(['id', 'account_id']).where('id', 'in', ids).where('track_opens', '=', 1).execute();
  for (const e of emails) {
    const open = await trx.selectFrom('tracking_hits').select('id').where('personal_email_id', '=', e.id).where('kind', '=', 'open').where('flagged', '=', 0).executeTakeFirst();
    if (open) continue;
    await trx
      .insertInto('tracking_hits')
      .values({ id: newId('hit'), account_id: e.account_id, personal_email_id: e.id, link_id: null, kind: 'open', occurred_at: at, method: 'implied', ip: null, user_agent: null, flagged: 0, flag_reasons: '[]', implied_by: 'reply', processed_at: null })
      .execute();
    await scheduleTrackingDigest(trx, env, userId);
  }
}
