import type { CommandEnv } from './context.js';
import { recordActivity } from './conversations.js';
import { inboxEvents, type InboxEvent } from './inbox-events.js';

/**
 * Snoozed conversations whose time has come are open again. Done when an inbox is read (an indexed
 * update that finds nothing most of the time), so no clock job is needed for the status to be right.
 */
export async function wakeSnoozed(env: CommandEnv, inboxId: string, now: number): Promise<void> {
  const due = await env.db
    .selectFrom('conversations')
    .select(['id', 'account_id', 'assignee_id'])
    .where('inbox_id', '=', inboxId)
    .where('status', '=', 'snoozed')
    .where('snoozed_until', '<=', now)
    .limit(500)
    .execute();
  if (!due.length) return;
  const woken: typeof due = [];
  await env.db.transaction().execute(async (trx) => {
    for (const c of due) {
      const r = await trx.updateTable('conversations').set({ status: 'open', snoozed_until: null, updated_at: now }).where('id', '=', c.id).where('status', '=', 'snoozed').where('snoozed_until', '<=', now).executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) continue; // another reader woke it
      woken.push(c);
      await recordActivity(trx, { accountId: c.account_id, conversationId: c.id, kind: 'status', actorUserId: null, at: now, data: { from: 'snoozed', to: 'open', reason: 'snooze_ended', summary: 'The snooze ended: open again.' } });
    }
  });
  const events: InboxEvent[] = woken.map((c) => ({ type: 'conversation.updated', inboxId, conversationId: c.id, at: now, data: { status: 'open', assigneeId: c.assignee_id } }));
  await inboxEvents.publish(env, events);
}
