/**
 * The routing backlog: open conversations a rule could not give to anyone (everyone away, outside
 * working hours or at their cap; the assignee deactivated or taken off the inbox) are routed again every
 * minute by the `inbox.route_backlog` job, oldest first, until someone eligible takes them. Entries whose
 * conversation was assigned, closed, moved or deleted in the meantime are dropped. So a backlog never
 * waits for a person to notice it.
 */
import { parseStoredRule } from '../domain/routing.js';
import { RunAgain } from '../../../platform/jobs/worker.js';
import type { CommandEnv } from '../../../platform/context.js';
import { inboxEvents, type InboxEvent } from '../live.js';
import { BACKLOG_RETRY_MS, routeNewConversation } from './routeIncomingConversation.js';

export async function routeBacklog(env: CommandEnv, inboxId: string, limit = 200): Promise<{ assigned: number; dropped: number; waiting: number }> {
  const entries = await env.db.selectFrom('routing_backlog').selectAll().where('inbox_id', '=', inboxId).orderBy('since').limit(limit).execute();
  let assigned = 0;
  let dropped = 0;
  for (const e of entries) {
    const now = env.now();
    const events: InboxEvent[] = [];
    await env.db.transaction().execute(async (trx) => {
      const drop = async () => {
        await trx.deleteFrom('routing_backlog').where('conversation_id', '=', e.conversation_id).execute();
        dropped += 1;
      };
      const c = await trx.selectFrom('conversations').selectAll().where('id', '=', e.conversation_id).executeTakeFirst();
      if (!c || c.deleted_at !== null || c.status !== 'open' || c.assignee_id !== null || c.inbox_id !== e.inbox_id) return drop();
      const inbox = await trx.selectFrom('inboxes').selectAll().where('id', '=', e.inbox_id).where('deleted_at', 'is', null).executeTakeFirst();
      const connection = await trx.selectFrom('connections').selectAll().where('id', '=', c.connection_id).where('disconnected_at', 'is', null).executeTakeFirst();
      const rule = await trx.selectFrom('routing_rules').select('rule').where('connection_id', '=', c.connection_id).executeTakeFirst();
      if (!inbox || !connection || connection.inbox_id !== inbox.id || parseStoredRule(rule?.rule).kind === 'none') return drop();
      const decision = await routeNewConversation(trx, env, { conversation: c, connection, inbox, now, retry: { since: Number(e.since) } });
      if (decision?.assigneeId) {
        await trx.deleteFrom('routing_backlog').where('conversation_id', '=', e.conversation_id).execute();
        assigned += 1;
        events.push({ type: 'conversation.updated', inboxId: inbox.id, conversationId: c.id, at: now, data: { assigneeId: decision.assigneeId } });
      }
    });
    await inboxEvents.publish(env, events);
  }
  const { n } = await env.db.selectFrom('routing_backlog').select((eb) => eb.fn.countAll<number>().as('n')).where('inbox_id', '=', inboxId).executeTakeFirstOrThrow();
  return { assigned, dropped, waiting: Number(n) };
}

/** The job: route what can be routed; come back in a minute while anything is still waiting. */
export async function routeBacklogJob(payload: { inboxId: string }, ctx: { env: CommandEnv }): Promise<void> {
  const r = await routeBacklog(ctx.env, payload.inboxId);
  if (r.waiting > 0) throw new RunAgain(BACKLOG_RETRY_MS);
}
