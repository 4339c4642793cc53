/**
 * The conversations inbox: team addresses feed a shared inbox that members read, assign (routing),
 * comment on and answer from the shared address. This file is the only door other features use.
 */
import { onTeamMessageStored } from './commands/routeIncomingConversation.js';
import { unassignDepartedUser } from './commands/unassignDepartedUser.js';
import { forgetDeletedTeam } from './commands/forgetDeletedTeam.js';
import { mergeTeamConversations } from './commands/mergeConversations.js';
import { routeBacklogJob } from './commands/routeBacklog.js';
import { SNOOZE_ENDED_JOB, snoozeEndedJob } from './snooze.js';
import { SLA_CHECK_JOB, slaCheckJob } from './sla.js';
import { demoInbox } from './demo.js';

export { inboxPolicies } from './policies.js';
export { conversationItemById } from './queries.js';

/** What the inbox does when other features act, and its background jobs (listed in src/app/features.ts). */
export function inboxFeature() {
  return {
    name: 'inbox',
    /** Stored messages of a team address (a batch's, in order): search index, contact link, deny list, reopen, routing, SLA due times, live updates. */
    messageStored: onTeamMessageStored,
    /** Two team conversations merged (one thread): activity, assignment and routing backlog follow the survivor. */
    conversationsMerged: mergeTeamConversations,
    /** A user deactivated or removed: their open and snoozed conversations are unassigned (and routed again). */
    userStateChanged: unassignDepartedUser,
    /** A team deleted: it leaves inbox member lists (their conversations unassigned where access went) and routing rules (retargeted or disabled). */
    teamDeleting: forgetDeletedTeam,
    jobs: () => ({
      /** Routes again, every minute, what nobody could take. */
      'inbox.route_backlog': routeBacklogJob,
      /** Opens a snoozed conversation at its time and tells the assignee. */
      [SNOOZE_ENDED_JOB]: snoozeEndedJob,
      /** Tells assignees once that a service-level target will breach soon, and once that it breached. */
      [SLA_CHECK_JOB]: slaCheckJob,
    }),
    /** Demo: a Support inbox with customer threads passed through the real ingest pipeline. */
    demo: demoInbox,
  } as const;
}
