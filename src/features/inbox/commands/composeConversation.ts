import { invalidRequest } from '../../../platform/errors.js';
import { composeText, textToHtml } from '../domain/compose.js';
import { subjectKey } from '../../ingest/index.js';
import { newId } from '../../../platform/database/ids.js';
import { queueEmail } from '../../outbox/index.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { conversationItemById, outboxDeps, recordActivity, requireInboxAccess } from '../queries.js';
import { inboxEvents } from '../live.js';
import { cleanRecipients, decodeAttachments, sendingConnection, teamSender, type AttachmentInput } from '../outgoing.js';
import { MAX_BODY } from './replyToConversation.js';

export interface ComposeInput {
  /** The team address to send from (default: the inbox's first connected one). */
  connectionId?: string;
  to: Array<{ address: string; name?: string }>;
  cc?: Array<{ address: string; name?: string }>;
  bcc?: Array<{ address: string; name?: string }>;
  subject: string;
  text: string;
  html?: string;
  attachments?: AttachmentInput[];
}

/**
 * Starts a new conversation from a team address: the conversation exists (assigned to its author) as
 * soon as the message is queued; the sent copy joins it when the outbox has sent it, and the answer
 * threads back into it by our reply token.
 */
export async function composeConversation(env: CommandEnv, actor: Actor, inboxId: string, input: ComposeInput) {
  const pre = await requireInboxAccess(env.db, actor, inboxId, 'act');
  const subject = (input.subject ?? '').replace(/[\r\n]+/g, ' ').trim();
  if (!subject) throw invalidRequest('A new conversation needs a subject.', { field: 'subject' });
  if (typeof input.text !== 'string' || input.text.length > MAX_BODY) throw invalidRequest(`The message text is required and at most ${MAX_BODY} characters.`, { field: 'text' });
  const to = cleanRecipients(input.to, 'to');
  if (!to.length) throw invalidRequest('Say who to write to (to).', { field: 'to' });
  const cc = cleanRecipients(input.cc, 'cc');
  const bcc = cleanRecipients(input.bcc, 'bcc');
  const connection = await sendingConnection(env.db, { connection_id: '' }, pre.inbox, input.connectionId ?? null);
  const sender = await teamSender(env.db, actor, pre.inbox, connection);
  const attachments = decodeAttachments(input.attachments, actor.plan);
  const text = composeText({ body: input.text, signature: sender.signature, mode: 'new', parent: null });
  const html = input.html ? `${input.html}${sender.signature ? `<br><br>-- <br>${textToHtml(sender.signature)}` : ''}` : undefined;
  const now = env.now();
  const deps = outboxDeps(env, connection.address);
  const id = newId('cnv');
  const r = await env.db.transaction().execute(async (trx) => {
    const { inbox } = await requireInboxAccess(trx, actor, inboxId, 'act');
    await trx
      .insertInto('conversations')
      .values({
        id,
        account_id: actor.accountId,
        kind: 'team',
        inbox_id: inbox.id,
        connection_id: connection.id,
        owner_user_id: null,
        subject: subject.slice(0, 998),
        base_subject: subjectKey(subject),
        status: 'open',
        snoozed_until: null,
        assignee_id: actor.user.id,
        contact_id: null,
        participants: JSON.stringify([...new Set([connection.address_key, ...[...to, ...cc].map((m) => m.address.toLowerCase())])]),
        message_count: 0,
        last_message_at: now,
        last_inbound_at: null,
        created_at: now,
        updated_at: now,
        deleted_at: null,
      })
      .execute();
    const queued = await queueEmail(trx, deps, { connection, userId: actor.user.id, conversationId: id, email: { from: sender.from, to, cc, bcc, subject, text, ...(html ? { html } : {}), attachments }, meta: { mode: 'new', inboxId: inbox.id } });
    await recordActivity(trx, { accountId: actor.accountId, conversationId: id, kind: 'assignment', actorUserId: actor.user.id, at: now, data: { by: 'composed', assigneeId: actor.user.id, assigneeName: actor.user.name, summary: `${actor.user.name} started this conversation.` } });
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'conversation.composed', targetType: 'conversation', targetId: id, data: { outboxId: queued.outboxId, to: to.map((m) => m.address) }, at: now });
    return { inbox, queued };
  });
  env.onJobsQueued?.();
  await inboxEvents.publish(env, [{ type: 'conversation.created', inboxId: r.inbox.id, conversationId: id, at: now, data: { status: 'open', assigneeId: actor.user.id } }]);
  return { outboxId: r.queued.outboxId, messageId: r.queued.messageId.replace(/^<|>$/g, ''), from: sender.from, to, cc, subject, conversation: await conversationItemById(env.db, actor.accountId, id, now) };
}
