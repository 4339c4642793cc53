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
import { onMessageStored } from '../ingest/index.js';
import { onUserStateChange } from '../accounts/index.js';
import type { CommandEnv } from '../../platform/context.js';
import { inboxEvents } from './live.js';
import { onTeamMessageStored } from './commands/routeIncomingConversation.js';
import { unassignDepartedUserHook } from './commands/unassignDepartedUser.js';
import { registerJob } from '../../platform/jobs/handlers.js';
import { routeBacklogJob } from './commands/routeBacklog.js';
import { SNOOZE_ENDED_JOB, snoozeEndedJob } from './snooze.js';

const userLeft = unassignDepartedUserHook(() => inboxEvents.env);

export function registerInboxFeatures(env?: CommandEnv): void {
  if (env) inboxEvents.env = env;
  onMessageStored(onTeamMessageStored);
  onUserStateChange(userLeft);
  registerJob('inbox.route_backlog', routeBacklogJob);
  registerJob(SNOOZE_ENDED_JOB, snoozeEndedJob);
}
