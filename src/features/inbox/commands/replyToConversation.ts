import { invalidRequest } from '../../../platform/errors.js';
import { composeText, replyParent, replyRecipients, responseSubject, textToHtml, threadingHeaders, type Mailbox, type ReplyMode } from '../domain/compose.js';
import { queueEmail } from '../../outbox/index.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { blobStoreOf, conversationItemById, outboxDeps, recordActivity, requireConversation, threadOrder } from '../queries.js';
import { inboxEvents } from '../live.js';
import { cleanRecipients, decodeAttachments, ownAddresses, sendingConnection, teamSender, threadMessageOf, undoHoldMs, type AttachmentInput, type UndoSendInput } from '../outgoing.js';
import { readJson, shapes } from '../../../platform/database/json.js';
import { firstField, readHeaderBlock } from '../../../mail/message/header-block.js';
import { replyThreadIndex, replyThreadTopic } from '../domain/thread-index.js';
import type { BlobStore } from '../../../mail/blob-store.js';
import type { MessagesTable } from '../../../platform/database/schema.js';
import crypto from 'node:crypto';

/** The parent's Outlook threading headers (Thread-Index, Thread-Topic), read from its stored raw bytes. */
async function outlookHeadersOf(blobs: BlobStore, row: MessagesTable | null): Promise<{ threadIndex: string | null; threadTopic: string | null }> {
  if (!row) return { threadIndex: null, threadTopic: null };
  try {
    const raw = await blobs.get(row.raw_sha256);
    const { fields } = readHeaderBlock(raw.subarray(0, 256 * 1024).toString('latin1'));
    return { threadIndex: firstField(fields, 'thread-index'), threadTopic: firstField(fields, 'thread-topic') };
  } catch {
    return { threadIndex: null, threadTopic: null }; // the raw bytes are gone: start a new index
  }
}

export interface ReplyInput extends UndoSendInput {
  /** reply (to the customer), reply_all (and everyone else on the message), forward (to `to`). */
  mode: ReplyMode;
  /** What the agent wrote, as plain text. The signature and the quote (or forwarded message) are added. */
  text: string;
  /** Optional HTML version of `text`; the signature is appended to it. */
  html?: string;
  /** Recipients: required to forward; for replies they replace the computed ones. */
  to?: Array<{ address: string; name?: string }>;
  cc?: Array<{ address: string; name?: string }>;
  bcc?: Array<{ address: string; name?: string }>;
  attachments?: AttachmentInput[];
  /** Quote the message answered under the reply (default true). */
  quote?: boolean;
  /** Forward: include the original's attachments (default true). */
  includeAttachments?: boolean;
}

export const MAX_BODY = 1_000_000;

/**
 * Replies to (or forwards) a conversation from its team address, through the durable outbox: From reads
 * as the address's sender name ("Ana at Support"), the signature's placeholders are filled, and
 * In-Reply-To / References name the message answered so the customer's mail client threads it. The
 * Message-ID carries our reply token, so the customer's answer comes back into this conversation.
 * Replying to an unassigned conversation assigns it to the replier.
 */
export async function replyToConversation(env: CommandEnv, actor: Actor, conversationId: string, input: ReplyInput) {
  const pre = await requireConversation(env.db, actor, conversationId, 'act');
  if (typeof input.text !== 'string' || input.text.length > MAX_BODY) throw invalidRequest(`The message text is required and at most ${MAX_BODY} characters.`, { field: 'text' });
  const rows = threadOrder(await env.db.selectFrom('messages').selectAll().where('conversation_id', '=', pre.conversation.id).execute());
  const parent = replyParent(rows.map(threadMessageOf));
  const parentRow = parent ? rows.find((r) => r.message_id === parent.messageId && threadMessageOf(r).at === parent.at) ?? null : null;
  const connection = await sendingConnection(env.db, pre.conversation, pre.inbox);
  const own = await ownAddresses(env.db, pre.inbox, connection);

  let to: Mailbox[];
  let cc: Mailbox[] = cleanRecipients(input.cc, 'cc');
  const bcc = cleanRecipients(input.bcc, 'bcc');
  if (input.mode === 'forward') {
    to = cleanRecipients(input.to, 'to');
    if (!to.length) throw invalidRequest('Say who to forward this conversation to (to).', { field: 'to' });
    if (!parent) throw invalidRequest('There is no message in this conversation to forward yet.', { field: 'mode' });
  } else {
    if (input.to?.length) to = cleanRecipients(input.to, 'to');
    else {
      if (!parent) throw invalidRequest('There is no message to reply to yet: say who to write to (to).', { field: 'to' });
      const r = replyRecipients(input.mode, parent, own);
      to = r.to;
      if (!input.cc) cc = r.cc;
    }
    if (!to.length) throw invalidRequest('Nobody to reply to: the message has no sender other than this inbox. Say who to write to (to).', { field: 'to' });
  }

  const blobs = blobStoreOf(env);
  const forwarded: Array<{ filename: string; content: Buffer; contentType?: string }> = [];
  if (input.mode === 'forward' && input.includeAttachments !== false && parentRow) {
    for (const a of readJson('messages.attachments', parentRow.attachments, shapes.attachments)) {
      forwarded.push({ filename: a.filename ?? 'attachment', content: await blobs.get(a.sha256), contentType: a.contentType });
    }
  }
  const attachments = [...forwarded, ...decodeAttachments(input.attachments, actor.plan, forwarded.reduce((n, a) => n + a.content.length, 0))];
  const sender = await teamSender(env.db, actor, pre.inbox, connection);
  const text = composeText({ body: input.text, signature: sender.signature, mode: input.mode, parent, quote: input.quote !== false });
  const html = input.html ? `${input.html}${sender.signature ? `<br><br>-- <br>${textToHtml(sender.signature)}` : ''}` : undefined;
  const threading = threadingHeaders(parent);
  const subject = responseSubject(parent?.subject || pre.conversation.subject, input.mode);
  const now = env.now();
  // Outlook groups by Thread-Index (the parent's, extended) and Thread-Topic (kept), not by References.
  const outlook = await outlookHeadersOf(blobs, parentRow);
  const topic = replyThreadTopic(outlook.threadTopic, parent?.subject || pre.conversation.subject);
  const headers: Record<string, string> = {
    'Thread-Index': replyThreadIndex({ parent: outlook.threadIndex, now, guid: crypto.randomBytes(16), random: crypto.randomInt(16) }),
    ...(topic ? { 'Thread-Topic': topic } : {}),
  };
  const deps = outboxDeps(env, connection.address);
  const holdMs = undoHoldMs(actor, input);

  const r = await env.db.transaction().execute(async (trx) => {
    const { conversation, inbox } = await requireConversation(trx, actor, conversationId, 'act');
    const queued = await queueEmail(trx, deps, {
      connection,
      userId: actor.user.id,
      conversationId: conversation.id,
      email: {
        from: sender.from,
        to,
        cc,
        bcc,
        subject,
        text,
        ...(html ? { html } : {}),
        inReplyTo: threading.inReplyTo ? `<${threading.inReplyTo}>` : null,
        references: threading.references.map((id) => `<${id}>`),
        headers,
        attachments,
      },
      meta: { mode: input.mode, inboxId: inbox.id },
      holdMs,
    });
    let assigned = false;
    if (!conversation.assignee_id) {
      await trx.updateTable('conversations').set({ assignee_id: actor.user.id, updated_at: now }).where('id', '=', conversation.id).where('assignee_id', 'is', null).execute();
      await recordActivity(trx, { accountId: actor.accountId, conversationId: conversation.id, kind: 'assignment', actorUserId: actor.user.id, at: now, data: { by: 'replied', assigneeId: actor.user.id, assigneeName: actor.user.name, summary: `${actor.user.name} replied, so the conversation is now assigned to them.` } });
      assigned = true;
    }
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: input.mode === 'forward' ? 'conversation.forwarded' : 'conversation.replied', targetType: 'conversation', targetId: conversation.id, data: { outboxId: queued.outboxId, to: to.map((m) => m.address), mode: input.mode }, at: now });
    return { conversation, inbox, queued, assigned };
  });
  env.onJobsQueued?.();
  await inboxEvents.publish(env, [{ type: 'conversation.updated', inboxId: r.inbox.id, conversationId: r.conversation.id, at: now, data: { outboxId: r.queued.outboxId, ...(r.assigned ? { assigneeId: actor.user.id } : {}) } }]);
  return {
    outboxId: r.queued.outboxId,
    messageId: r.queued.messageId.replace(/^<|>$/g, ''),
    from: sender.from,
    to,
    cc,
    subject,
    /** Undo send: the email waits until then (ISO); POST .../replies/{outboxId}/undo before it. Null: it left at once. */
    undoUntil: r.queued.undoUntil ? new Date(r.queued.undoUntil).toISOString() : null,
    conversation: await conversationItemById(env.db, actor.accountId, r.conversation.id, now),
  };
}
