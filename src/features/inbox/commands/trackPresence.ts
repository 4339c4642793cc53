import type { Actor, CommandEnv } from '../../../platform/context.js';
import { requireConversation } from '../queries.js';
import { presenceHeartbeat, viewersOf, type PresenceActivity } from '../live.js';

/**
 * A browser's heartbeat on an open conversation ("viewing", "replying", or "left" when it closes it):
 * tells the inbox's open views, and answers with who else is there.
 */
export async function trackPresence(env: CommandEnv, actor: Actor, conversationId: string, activity: PresenceActivity) {
  const { conversation, inbox } = await requireConversation(env.db, actor, conversationId, 'view');
  const now = env.now();
  await presenceHeartbeat(env, { inboxId: inbox.id, conversationId: conversation.id, userId: actor.user.id, name: actor.user.name, activity, now });
  return { viewers: viewersOf(conversation.id, now).filter((v) => v.userId !== actor.user.id).map((v) => ({ userId: v.userId, name: v.name, activity: v.activity })) };
}
