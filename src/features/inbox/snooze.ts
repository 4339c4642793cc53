import { enqueue } from '../../platform/jobs/queue.js';
import type { CommandEnv, Executor } from '../../platform/context.js';
import { recordActivity } from './queries.js';
import { inboxEvents, type InboxEvent } from './live.js';
import { notifyUsers } from '../notifications/index.js';
import { refreshConversationSla } from './sla.js';

export const SNOOZE_ENDED_JOB = 'inbox.snooze_ended';

/** Queues the wake-up of a snoozed conversation at its time (in the snoozing transaction). */
export async function scheduleSnoozeEnd(trx: Executor, now: number, conversationId: string, until: number): Promise<void> {
  await enqueue(trx, now, { kind: SNOOZE_ENDED_JOB, payload: { conversationId, until }, runAt: until, dedupeKey: `snooze:${conversationId}:${until}` });
}

/**
 * Snoozed conversations whose time has come are open again. Done when an inbox is read (an indexed
 * update that finds nothing most of the time), so no clock job is needed for the status to be right.
 */
export async function wakeSnoozed(env: CommandEnv, inboxId: string, now: number): Promise<void> {
  await wake(env, now, { inboxId });
}

/**
 * The job queued when a conversation is snoozed: at the snooze's end it is open again (unless someone or
 * a customer message changed it since). Whoever wakes it, a reader or this job, records the activity and
 * tells the assignee, once (the conditional update lets only one of them do it).
 */
export async function snoozeEndedJob(payload: { conversationId: string; until: number }, ctx: { env: CommandEnv }): Promise<void> {
  await wake(ctx.env, ctx.env.now(), { conversationId: payload.conversationId, until: payload.until });
}

async function wake(env: CommandEnv, now: number, which: { inboxId: string } | { conversationId: string; until: number }): Promise<void> {
  let q = env.db
    .selectFrom('conversations')
    .select(['id', 'account_id', 'assignee_id', 'inbox_id', 'subject']);
  q = 'inboxId' in which ? q.where('inbox_id', '=', which.inboxId) : q.where('id', '=', which.conversationId).where('snoozed_until', '=', which.until);
  const due = await q
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
      if (c.assignee_id) {
        await notifyUsers(trx, { accountId: c.account_id, userIds: [c.assignee_id], kind: 'conversation.snooze_ended', message: `The snooze ended on "${c.subject || '(no subject)'}": it is open again.`, data: { conversationId: c.id, inboxId: c.inbox_id }, at: now });
      }
    }
    await refreshConversationSla(trx, woken.map((c) => c.id), now);
  });
  const events: InboxEvent[] = woken.map((c) => ({ type: 'conversation.updated', inboxId: c.inbox_id!, conversationId: c.id, at: now, data: { status: 'open', assigneeId: c.assignee_id } }));
  await inboxEvents.publish(env, events);
}
