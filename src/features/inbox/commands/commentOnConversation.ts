import { AppError, invalidRequest } from '../../../platform/errors.js';
import { mentionedUserIds } from '../domain/compose.js';
import { inboxAccessLevel } from '../domain/membership.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { membershipFacts, recordActivity, requireConversation } from '../queries.js';
import { inboxEvents } from '../live.js';
import { notifyUsers } from '../../notifications/index.js';

export const MAX_COMMENT = 20_000;

/**
 * An internal comment on a conversation: seen by the team, never sent to the customer (it is never
 * in the outbox). People mentioned (the `mentions` list, or "@usr_..." in the text) are notified; they
 * must be able to see the inbox.
 */
export async function commentOnConversation(env: CommandEnv, actor: Actor, conversationId: string, input: { body: string; mentions?: string[] }) {
  const body = (input.body ?? '').replace(/\r\n?/g, '\n').trim();
  if (!body) throw invalidRequest('Write something in the comment.', { field: 'body' });
  if (body.length > MAX_COMMENT) throw invalidRequest(`A comment is at most ${MAX_COMMENT} characters.`, { field: 'body' });
  const now = env.now();
  const r = await env.db.transaction().execute(async (trx) => {
    const { conversation, inbox } = await requireConversation(trx, actor, conversationId, 'act');
    const ids = mentionedUserIds(body, input.mentions ?? []);
    const mentioned: Array<{ id: string; name: string }> = [];
    if (ids.length) {
      const users = await trx.selectFrom('users').selectAll().where('account_id', '=', actor.accountId).where('id', 'in', ids).execute();
      for (const id of ids) {
        const u = users.find((x) => x.id === id);
        if (!u || u.state !== 'active') throw new AppError('invalid_mention', 400, `${u ? `${u.name} is ${u.state}` : `There is no user ${id}`}: mention active people of your account.`, { field: 'mentions', userId: id });
        if (inboxAccessLevel(u, await membershipFacts(trx, inbox, u.id)) === 'none') {
          throw new AppError('invalid_mention', 400, `${u.name} cannot see the ${inbox.name} inbox, so they could not read this conversation. Add them to the inbox first.`, { field: 'mentions', userId: id });
        }
        mentioned.push({ id: u.id, name: u.name });
      }
    }
    const id = await recordActivity(trx, { accountId: actor.accountId, conversationId: conversation.id, kind: 'comment', actorUserId: actor.user.id, at: now, data: { body, mentions: mentioned } });
    const others = mentioned.filter((m) => m.id !== actor.user.id).map((m) => m.id);
    if (others.length) {
      await notifyUsers(trx, { accountId: actor.accountId, userIds: others, kind: 'conversation.mentioned', message: `${actor.user.name} mentioned you on "${conversation.subject || '(no subject)'}" in ${inbox.name}`, data: { conversationId: conversation.id, inboxId: inbox.id, activityId: id }, at: now });
    }
    return { id, conversation, inbox, mentioned };
  });
  await inboxEvents.publish(env, [{ type: 'activity.created', inboxId: r.inbox.id, conversationId: r.conversation.id, at: now, data: { activityId: r.id, kind: 'comment' } }]);
  return { id: r.id, kind: 'comment' as const, actor: { id: actor.user.id, name: actor.user.name }, data: { body, mentions: r.mentioned }, createdAt: new Date(now).toISOString() };
}
