/**
 * Shared pieces of mail sent from a team address: which address sends, the From name and signature,
 * recipients checked, attachments decoded, and stored messages read as thread messages.
 */
import { AppError, invalidRequest } from '../../platform/errors.js';
import { addressKey } from '../connections/index.js';
import { limitsFor, undoSendSecondsOf, type PlanId } from '../accounts/index.js';
import { undoHoldMs as outboxUndoHoldMs, type UndoSendInput } from '../outbox/index.js';
import { renderSenderName, renderSignature, type SenderContext } from './domain/sender.js';
import type { Mailbox, ThreadMessage } from './domain/compose.js';
import type { ConnectionsTable, ConversationsTable, InboxesTable, MessagesTable } from '../../platform/database/schema.js';
import type { Actor, Executor } from '../../platform/context.js';
import { json, readJson, shapes } from '../../platform/database/json.js';

/**
 * The team address a conversation's replies go out from: the one the customer wrote to while it is
 * connected, else a connected address of the conversation's (current) inbox.
 */
export async function sendingConnection(db: Executor, conversation: Pick<ConversationsTable, 'connection_id'>, inbox: InboxesTable, preferredId?: string | null): Promise<ConnectionsTable> {
  const live = await db.selectFrom('connections').selectAll().where('account_id', '=', inbox.account_id).where('type', '=', 'team').where('disconnected_at', 'is', null).where('inbox_id', '=', inbox.id).orderBy('created_at').execute();
  if (preferredId) {
    const p = live.find((c) => c.id === preferredId);
    if (!p) throw invalidRequest(`That address is not a connected team address of ${inbox.name}.`, { field: 'connectionId' });
    return p;
  }
  const own = await db.selectFrom('connections').selectAll().where('id', '=', conversation.connection_id).where('disconnected_at', 'is', null).where('type', '=', 'team').executeTakeFirst();
  if (own) return own;
  if (live[0]) return live[0];
  throw new AppError('no_team_address', 409, `${inbox.name} has no connected team address to send from. Connect one in the inbox settings first.`);
}

/** Our own addresses for this inbox (never recipients of our replies). */
export async function ownAddresses(db: Executor, inbox: InboxesTable, connection: ConnectionsTable): Promise<string[]> {
  const rows = await db.selectFrom('connections').select(['address_key', 'forwarding_address']).where('inbox_id', '=', inbox.id).where('type', '=', 'team').execute();
  return [...new Set([connection.address_key, connection.forwarding_address ?? '', ...rows.flatMap((r) => [r.address_key, r.forwarding_address ?? ''])].filter(Boolean))];
}

/** From and signature of a message an agent sends from a team address. */
export async function teamSender(db: Executor, actor: Actor, inbox: InboxesTable, connection: ConnectionsTable): Promise<{ from: { name: string; address: string }; signature: string; context: SenderContext }> {
  const account = await db.selectFrom('accounts').select(['name']).where('id', '=', actor.accountId).executeTakeFirstOrThrow();
  const context: SenderContext = { agentName: actor.user.name, agentEmail: actor.user.email, inboxName: inbox.name, companyName: account.name };
  return {
    from: { name: renderSenderName(connection.sender_name_mode, connection.sender_name_custom, context), address: connection.address },
    signature: renderSignature(connection.signature, context),
    context,
  };
}

export const MAX_RECIPIENTS = 100;

/** Recipients as typed, checked (400 naming the bad one), repeats dropped. */
export function cleanRecipients(list: ReadonlyArray<{ address: string; name?: string }> | undefined, field: string): Mailbox[] {
  const out: Mailbox[] = [];
  for (const m of list ?? []) {
    const k = addressKey(m.address ?? '');
    if (!k.ok) throw invalidRequest(`${field}: ${k.message}`, { field, address: m.address });
    if (out.some((o) => o.address.toLowerCase() === k.key)) continue;
    out.push(m.name?.trim() ? { name: m.name.trim().slice(0, 200), address: k.display } : { address: k.display });
  }
  if (out.length > MAX_RECIPIENTS) throw invalidRequest(`At most ${MAX_RECIPIENTS} recipients in ${field}.`, { field });
  return out;
}

export interface AttachmentInput {
  filename: string;
  contentType?: string;
  /** The file, base64-encoded. */
  contentBase64: string;
}

/** Decodes attachments and checks the plan's total size. */
export function decodeAttachments(list: readonly AttachmentInput[] | undefined, plan: string, extraBytes = 0): Array<{ filename: string; content: Buffer; contentType?: string }> {
  const out = (list ?? []).map((a, i) => {
    if (!a.filename?.trim()) throw invalidRequest('Each attachment needs a file name.', { field: `attachments.${i}.filename` });
    const content = Buffer.from(a.contentBase64 ?? '', 'base64');
    return { filename: a.filename.trim().slice(0, 255), content, ...(a.contentType ? { contentType: a.contentType } : {}) };
  });
  const total = out.reduce((n, a) => n + a.content.length, extraBytes);
  const max = limitsFor(plan as PlanId).maxAttachmentBytes;
  if (total > max) throw new AppError('attachments_too_large', 413, `Attachments add up to ${(total / 1048576).toFixed(1)} MB; at most ${Math.floor(max / 1048576)} MB can be sent in one message. Send fewer or smaller files, or share a link.`);
  return out;
}

const parseList = (s: string): Mailbox[] => readJson('messages.to', s, shapes.mailboxes, []);

export function threadMessageOf(m: MessagesTable): ThreadMessage {
  return {
    messageId: m.message_id,
    direction: m.direction,
    classification: m.classification,
    from: m.from_address ? { name: m.from_name ?? '', address: m.from_address } : null,
    to: parseList(m.to),
    cc: parseList(m.cc),
    replyTo: parseList(m.reply_to),
    subject: m.subject,
    references: readJson('messages.references', m.references, json.stringArray, []),
    text: m.text_body,
    at: Number(m.sent_at ?? m.received_at),
  };
}

export type { UndoSendInput } from '../outbox/index.js';

/** Undo send: how long (ms) to hold this email before the outbox takes it (the actor's setting, or the request's). */
export function undoHoldMs(actor: Actor, input: UndoSendInput): number {
  return outboxUndoHoldMs(undoSendSecondsOf(actor.user), input);
}
