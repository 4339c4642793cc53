import { recordEvent } from '../../../platform/events.js';
import { invalidRequest } from '../../../platform/errors.js';
import { changeStatus } from '../domain/status.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { conversationItemById, recordActivity, requireConversation } from '../queries.js';
import { inboxEvents } from '../live.js';
import { scheduleSnoozeEnd } from '../snooze.js';
import { refreshConversationSla } from '../sla.js';

/** Opens, closes, snoozes (until a time in the future) or marks a conversation as spam. Members only. */
export async function changeConversationStatus(env: CommandEnv, actor: Actor, conversationId: string, input: { status: string; snoozedUntil?: string | number | null }) {
  const now = env.now();
  let until: number | null | undefined = undefined;
  if (input.snoozedUntil !== undefined && input.snoozedUntil !== null) {
    until = typeof input.snoozedUntil === 'number' ? input.snoozedUntil : Date.parse(input.snoozedUntil);
    if (!Number.isFinite(until)) throw invalidRequest('snoozedUntil must be a date and time, like 2026-03-01T09:00:00Z.', { field: 'snoozedUntil' });
  }
  const r = await env.db.transaction().execute(async (trx) => {
    const { conversation, inbox } = await requireConversation(trx, actor, conversationId, 'act');
    const next = changeStatus({ status: conversation.status, snoozedUntil: conversation.snoozed_until }, input.status, until, now);
    if (!next.ok) throw invalidRequest(next.message, { field: next.field });
    if (!next.changed) return { inbox, conversation, changed: false, status: next.status };
    await trx.updateTable('conversations').set({ status: next.status, snoozed_until: next.snoozedUntil, updated_at: now }).where('id', '=', conversation.id).execute();
    if (next.status === 'snoozed' && next.snoozedUntil !== null) await scheduleSnoozeEnd(trx, now, conversation.id, next.snoozedUntil);
    const words: Record<string, string> = { open: 'reopened', closed: 'closed', spam: 'marked as spam', snoozed: `snoozed until ${new Date(next.snoozedUntil ?? now).toISOString()}` };
    await recordActivity(trx, { accountId: actor.accountId, conversationId: conversation.id, kind: 'status', actorUserId: actor.user.id, at: now, data: { from: conversation.status, to: next.status, snoozedUntil: next.snoozedUntil, summary: `${actor.user.name} ${words[next.status]} this conversation.` } });
    await refreshConversationSla(trx, [conversation.id], now);
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'conversation.status_changed', targetType: 'conversation', targetId: conversation.id, data: { from: conversation.status, to: next.status }, at: now });
    await recordEvent(trx, {
      accountId: actor.accountId,
      type: 'conversation.status_changed',
      subject: { type: 'conversation', id: conversation.id },
      data: { conversationId: conversation.id, inboxId: conversation.inbox_id, from: conversation.status, to: next.status, snoozedUntil: next.snoozedUntil },
      at: now,
    });
    if (next.status === 'snoozed') await recordEvent(trx, { accountId: actor.accountId, type: 'conversation.snoozed', subject: { type: 'conversation', id: conversation.id }, data: { conversationId: conversation.id, inboxId: conversation.inbox_id, from: conversation.status, snoozedUntil: next.snoozedUntil }, at: now });
    if (next.status === 'closed') await recordEvent(trx, { accountId: actor.accountId, type: 'conversation.closed', subject: { type: 'conversation', id: conversation.id }, data: { conversationId: conversation.id, inboxId: conversation.inbox_id, from: conversation.status }, at: now });
    return { inbox, conversation, changed: true, status: next.status };
  });
  if (r.changed) await inboxEvents.publish(env, [{ type: 'conversation.updated', inboxId: r.inbox.id, conversationId: r.conversation.id, at: now, data: { status: r.status } }]);
  return conversationItemById(env.db, actor.accountId, r.conversation.id, now);
}
