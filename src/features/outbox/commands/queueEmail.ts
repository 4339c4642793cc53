import type MailComposerType from 'nodemailer/lib/mail-composer';
import { AppError } from '../../../platform/errors.js';
import { makeMessageId } from '../../../mail/message/reply-token.js';
import { newId } from '../../../platform/database/ids.js';
import { enqueue } from '../../../platform/jobs/queue.js';
import type { Executor } from '../../../platform/context.js';
import type { ConnectionsTable } from '../../../platform/database/schema.js';
import { json, writeJson } from '../../../platform/database/json.js';

/** nodemailer's MIME composer, loaded with the first email queued: a process that sends nothing (`mailroom import`) never loads nodemailer. */
let composerClass: typeof MailComposerType | null = null;
async function mailComposer(): Promise<typeof MailComposerType> {
  composerClass ??= (await import('nodemailer/lib/mail-composer')).default;
  return composerClass;
}

/** `outbox.envelope`: the SMTP envelope (Bcc included, which the headers never show). */
export const outboxEnvelope = json.object({ from: json.string, to: json.stringArray });

export interface OutgoingEmail {
  from: { name?: string; address: string };
  to: Array<{ name?: string; address: string }>;
  cc?: Array<{ name?: string; address: string }>;
  bcc?: Array<{ name?: string; address: string }>;
  replyTo?: string;
  subject: string;
  text?: string;
  html?: string;
  inReplyTo?: string | null;
  references?: string[];
  attachments?: Array<{ filename: string; content: Buffer; contentType?: string }>;
  headers?: Record<string, string>;
}

export interface QueueEmailInput {
  connection: ConnectionsTable;
  userId: string;
  conversationId?: string | null;
  email: OutgoingEmail;
  /** Send later; default now. */
  sendAt?: number;
  /**
   * Undo send: hold a "send now" email this many milliseconds (the sender's undo window). The hold is the
   * row's send time (durable: a restart during it sends once, after it); the row stays `queued`, and
   * `undoSend` may cancel it until then. Ignored for scheduled email (`sendAt` in the future).
   */
  holdMs?: number;
  meta?: Record<string, unknown>;
  /**
   * The outbox id, when the caller derives it from what the email is (a sequence's (enrollment, step)):
   * the Message-ID follows from it, so the same email always has the same Message-ID and a second row for
   * it is refused by the primary key. Default: a new id.
   */
  outboxId?: string;
}

export interface QueueEmailDeps {
  now: number;
  putBlob: (raw: Buffer) => Promise<string>;
  replyTokenSecret: string;
  messageIdDomain: string;
}

/**
 * Puts a message in the durable outbox: the MIME is built once (with our own stable Message-ID carrying
 * the reply token) and kept as a blob, the row and its send job are written in the caller's transaction.
 * A message is a row before it is ever sent.
 */
export async function queueEmail(trx: Executor, deps: QueueEmailDeps, input: QueueEmailInput): Promise<{ outboxId: string; messageId: string; undoUntil?: number }> {
  const c = input.connection;
  if (c.disconnected_at !== null) throw new AppError('connection_disconnected', 409, `${c.address} is disconnected, so nothing can be sent from it. Connect it again first.`);
  if (!input.email.to.length && !input.email.cc?.length && !input.email.bcc?.length) throw new AppError('invalid_request', 400, 'Add at least one recipient.');
  const outboxId = input.outboxId ?? newId('out');
  const messageId = makeMessageId({ outboxId, domain: deps.messageIdDomain, secret: deps.replyTokenSecret });
  const e = input.email;
  const MailComposer = await mailComposer();
  const composer = new MailComposer({
    from: e.from,
    to: e.to,
    cc: e.cc,
    bcc: e.bcc,
    replyTo: e.replyTo,
    subject: e.subject,
    text: e.text,
    html: e.html,
    messageId,
    date: new Date(input.sendAt ?? deps.now),
    inReplyTo: e.inReplyTo ?? undefined,
    references: e.references,
    attachments: e.attachments,
    headers: e.headers,
  });
  // Bcc must reach the envelope but never the headers.
  const node = composer.compile();
  node.keepBcc = false;
  const raw = (await node.build()) as Buffer;
  const sha = await deps.putBlob(raw);
  const recipients = [...e.to, ...(e.cc ?? []), ...(e.bcc ?? [])].map((a) => a.address);
  const scheduled = (input.sendAt ?? deps.now) > deps.now;
  const hold = !scheduled && input.holdMs && input.holdMs > 0 ? Math.min(input.holdMs, MAX_UNDO_SECONDS * 1000) : 0;
  const sendAt = scheduled ? input.sendAt! : deps.now + hold;
  const meta = { ...(input.meta ?? {}), ...(hold ? { undoUntil: sendAt } : {}) };
  await trx
    .insertInto('outbox')
    .values({
      id: outboxId,
      account_id: c.account_id,
      connection_id: c.id,
      user_id: input.userId,
      conversation_id: input.conversationId ?? null,
      message_id: messageId.replace(/^<|>$/g, '').toLowerCase(),
      envelope: writeJson('outbox.envelope', { from: e.from.address, to: recipients }, outboxEnvelope),
      raw_sha256: sha,
      state: scheduled ? 'scheduled' : 'queued',
      send_at: sendAt,
      attempts: 0,
      attempt_started_at: null,
      sent_at: null,
      smtp_response: null,
      last_error: null,
      appended_to_sent: 0,
      meta: JSON.stringify(meta),
      created_at: deps.now,
    })
    .execute();
  await enqueue(trx, deps.now, { queue: 'mail', kind: 'outbox.send', payload: { outboxId }, runAt: sendAt, dedupeKey: `send:${outboxId}`, maxAttempts: 12 });
  return { outboxId, messageId, ...(hold ? { undoUntil: sendAt } : {}) };
}

/** Undo send: the longest hold a user may choose (seconds). */
export const MAX_UNDO_SECONDS = 30;
