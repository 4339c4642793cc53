/**
 * Wires the conversations inbox into the rest of the product. Call it once per process, wherever the
 * process starts (the mail engine's `createIngestor` and the HTTP routes both do; repeated calls are
 * harmless):
 *  - every stored message of a team address: search index, contact link, deny list, reopen, routing,
 *    live updates (`onMessageStored`);
 *  - deactivating or removing a user unassigns their conversations (`onUserStateChange`);
 *  - the `inbox.route_backlog` job routes again what nobody could take (see routeBacklog.ts);
 *  - the `inbox.snooze_ended` job opens a snoozed conversation at its time and tells the assignee.
 */
import { onMessageStored } from '../mail/ingest.js';
import { onUserStateChange } from './changeUserState.js';
import type { CommandEnv } from './support/context.js';
import { inboxEvents } from './support/inbox-events.js';
import { onTeamMessageStored } from './routeIncomingConversation.js';
import { unassignDepartedUserHook } from './unassignDepartedUser.js';
import { registerJob } from '../jobs/handlers.js';
import { routeBacklogJob } from './routeBacklog.js';
import { SNOOZE_ENDED_JOB, snoozeEndedJob } from './support/snooze.js';

const userLeft = unassignDepartedUserHook(() => inboxEvents.env);

export function registerInboxFeatures(env?: CommandEnv): void {
  if (env) inboxEvents.env = env;
  onMessageStored(onTeamMessageStored);
  onUserStateChange(userLeft);
  registerJob('inbox.route_backlog', routeBacklogJob);
  registerJob(SNOOZE_ENDED_JOB, snoozeEndedJob);
}
