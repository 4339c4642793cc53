/**
 * The features of Mailroom and how they react to each other: the one place to read what runs when.
 *
 * Each feature declares, in its `index.ts`, one object: the reactions it has to other features' events,
 * the background jobs it handles, what it does when a process starts, and its demo data. Nothing
 * registers itself by being imported; this list is the whole wiring, in order.
 *
 * When a message is stored (in the ingest transaction; once per batch, given its messages in order), in this order:
 *   1. inbox     onTeamMessageStored: a team address's messages: search index, contact link, deny list,
 *                reopen, routing, SLA due times, live updates (loaded and written for the batch)
 *   2. personal  logPersonalMail: a personal address's messages (reply, BCC, Sent): contact timelines
 *   3. sequences stopSequencesOnReply: a reply (or a colleague's) unenrolls, an out-of-office pauses,
 *                a hard bounce unenrolls; sent steps and replies on the contact's timeline
 *   4. meetings  recordInvitationMail: calendar email of a personal address: a visitor's iTIP REPLY
 *                updates the booking and the timeline; invitations the host sent or accepted block slots
 *   (A batch that merges conversations calls them once per run of messages between two merges; each
 *   message comes with its conversation as it was right after it.)
 * When two conversations are merged (one thread found; in the ingest transaction, before the message's hooks):
 *   1. inbox     mergeTeamConversations: activity, assignment and routing backlog follow the survivor
 *   2. personal  followMergedConversation: emails from a contact's record and logged contacts follow it
 *   3. outbox    followMergedConversation: what was sent in the merged one belongs to the survivor
 * When a send finishes (sent, failed, uncertain, held by the send limit):
 *   1. personal  logSendOutcome: "not sent" on the contact's timeline
 * When a user is deactivated, removed or restored (inside that transaction):
 *   1. inbox     unassignDepartedUser: open and snoozed conversations unassigned and routed again
 * Before a team is deleted (inside that transaction, before its memberships go):
 *   1. inbox     forgetDeletedTeam: it leaves inbox member lists (conversations of people who lose access
 *                unassigned) and routing rules (retargeted to the rest of the pool, or disabled), all told
 * Before a contact is deleted (inside that transaction, before its emails and timeline go):
 *   1. ingest    unlinkDeletedContact: its conversations stay, unlinked (contact_id null)
 *   2. personal  forgetDeletedContact: emails from its record keep existing without it (unsent ones
 *                cancelled, the author told); it leaves logged-to lists and logged conversations
 *   3. sequences stopDeletedContactSequences: its live enrollment stops (reason contact_deleted)
 * When a meeting is booked (inside the booking transaction; `meetingBooked`, fired by meetings):
 *   1. sequences stopSequencesOnMeeting: the contact's live sequence stops (reason meeting_booked)
 * Domain events (src/platform/events.ts) are recorded by the features' commands in the transaction of
 *   their change; webhooks handles their `events.publish` jobs (fan-out to endpoints, then delivery).
 * Sequences: the `sequences.tick` job runs due steps (emails through the outbox, tasks).
 * Inbox SLA: the `inbox.sla_check` job, every minute while a target is due, tells assignees once that a
 *   target will breach soon and once that it breached.
 * Inbound SMTP: forwarding addresses, then personal's BCC logging addresses; connections' forwarding
 *   check is consumed before storing.
 *
 * `test/platform/features.test.ts` checks this comment against the objects.
 */
import type { CommandEnv, Actor } from '../platform/context.js';
import type { Reactions } from '../platform/reactions.js';
import type { JobHandler } from '../platform/jobs/worker.js';
import type { InboundIntercept, RecipientResolver } from '../mail/inbound-smtp.js';
import { accountsFeature, type TeamDeletionHook, type UserStateHook } from '../features/accounts/index.js';
import { connectionsFeature, type MailboxSupervisor } from '../features/connections/index.js';
import { ingestFeature, type ConversationsMergedHook, type Ingestor, type MessageStoredHook } from '../features/ingest/index.js';
import { inboxFeature } from '../features/inbox/index.js';
import { personalFeature } from '../features/personal/index.js';
import { crmFeature, type ContactDeletionHook } from '../features/crm/index.js';
import { notificationsFeature } from '../features/notifications/index.js';
import { outboxFeature, type SendOutcomeHook } from '../features/outbox/index.js';
import { webhooksFeature } from '../features/webhooks/index.js';
import { meetingsFeature, type MeetingBookedHook } from '../features/meetings/index.js';
import { sequencesFeature } from '../features/sequences/index.js';

/** Long-lived services a process runs, handed to the jobs that need them (a worker's mailbox supervisor). */
export interface RunningServices {
  mailboxSupervisor: MailboxSupervisor | null;
}

/** What a feature may declare. Every key is optional; a feature declares only what it does. */
export interface Feature {
  name: string;
  messageStored?: MessageStoredHook;
  conversationsMerged?: ConversationsMergedHook;
  sendFinished?: SendOutcomeHook;
  userStateChanged?: UserStateHook;
  teamDeleting?: TeamDeletionHook;
  contactDeleting?: ContactDeletionHook;
  meetingBooked?: MeetingBookedHook;
  /** Inbound SMTP addresses the feature owns (besides forwarding addresses). */
  inboundRecipient?: RecipientResolver;
  /** Inbound SMTP messages the feature consumes instead of storing them. */
  inboundIntercept?: InboundIntercept;
  /** Job kinds the feature handles, given the process's ingest pipeline and what the process runs. */
  jobs?: (ingestor: Ingestor, running: RunningServices) => Record<string, JobHandler>;
  /** Once per process, when its environment is built. */
  start?: (env: CommandEnv) => void;
  /** Demo data for `mailroom serve --demo`, run in this order after the demo users exist. */
  demo?: (env: CommandEnv, admin: Actor) => Promise<void>;
}

/** Every feature, in the order their reactions run. */
export const FEATURES: readonly Feature[] = [
  accountsFeature(),
  connectionsFeature(),
  crmFeature(),
  ingestFeature(),
  inboxFeature(),
  personalFeature(),
  sequencesFeature(),
  notificationsFeature(),
  outboxFeature(),
  webhooksFeature(),
  meetingsFeature(),
] satisfies readonly Feature[];

const pick = <K extends keyof Feature>(key: K) => FEATURES.flatMap((f) => (f[key] ? [f[key] as NonNullable<Feature[K]>] : []));

/** The reactions every command sees in `env.reactions`. */
export function featureReactions(): Reactions {
  return {
    messageStored: pick('messageStored'),
    conversationsMerged: pick('conversationsMerged'),
    sendFinished: pick('sendFinished'),
    userStateChanged: pick('userStateChanged'),
    teamDeleting: pick('teamDeleting'),
    contactDeleting: pick('contactDeleting'),
    meetingBooked: pick('meetingBooked'),
  };
}

/** Every job kind this process can run, and who handles it. Refuses two features claiming one kind. */
export function jobHandlersFor(ingestor: Ingestor, running: RunningServices = { mailboxSupervisor: null }): Record<string, JobHandler> {
  const handlers: Record<string, JobHandler> = {};
  for (const f of FEATURES) {
    for (const [kind, handler] of Object.entries(f.jobs?.(ingestor, running) ?? {})) {
      if (handlers[kind]) throw new Error(`Job kind ${kind} is handled twice (again by ${f.name})`);
      handlers[kind] = handler;
    }
  }
  return handlers;
}

/** What inbound SMTP asks, in order, about a recipient, and what may consume a message. */
export function inboundWiring(): { recipients: RecipientResolver[]; intercepts: InboundIntercept[] } {
  return { recipients: pick('inboundRecipient'), intercepts: pick('inboundIntercept') };
}

/** Runs each feature's process start (e.g. notification email on when NOTIFY_SMTP_URL is set). */
export function startFeatures(env: CommandEnv): void {
  for (const f of FEATURES) f.start?.(env);
}

/** The features' demo steps, in order. */
export function demoSteps(): Array<NonNullable<Feature['demo']>> {
  return pick('demo');
}
