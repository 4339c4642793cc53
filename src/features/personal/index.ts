/**
 * Personal email: one user's own mailbox. One-to-one email from a contact's record, replies logged on
 * the contact's timeline, BCC logging address, open and click tracking, templates, default font. This file
 * is the only door other features use.
 */
import type { Executor } from '../../platform/context.js';
import { RunAgain, type JobContext } from '../../platform/jobs/worker.js';
import { logPersonalMail } from './commands/logPersonalMail.js';
import { logSendOutcome } from './commands/logSendOutcome.js';
import { forgetDeletedContact } from './commands/forgetDeletedContact.js';
import { followMergedConversation } from './commands/followMergedConversation.js';
import { checkLoggedMailSender, resolveLoggingAddress } from './commands/resolveLoggingAddress.js';
import { processTrackingHits, TRACKING_DIGEST_JOB } from './commands/processTrackingHits.js';

export { escapeHtml } from './domain/html.js';
export { personalPolicies } from './policies.js';
export { trackingByOutbox, trackingChoice, trackOutgoingEmail } from './tracking.js';

/** What personal email does when other features act, and its background jobs (listed in src/app/features.ts). */
export function personalFeature() {
  return {
    name: 'personal',
    /** Stored messages of a personal address (reply, BCC, Sent folder; a batch's, in order): logged on the contacts' timelines. */
    messageStored: logPersonalMail,
    /** Two personal conversations merged (one thread): emails from a contact's record and logged contacts follow the survivor. */
    conversationsMerged: followMergedConversation,
    /** An email from a contact's record that did not go out: "not sent" on the timeline. */
    sendFinished: logSendOutcome,
    /**
     * A contact deleted: emails written from its record keep existing without it (those not yet sent are
     * cancelled, their author told), it leaves every email's logged-to list and every logged conversation.
     */
    contactDeleting: forgetDeletedContact,
    /** The per-user BCC / forwarding logging addresses on inbound SMTP (only mail from the owner's own addresses). */
    inboundRecipient: async (db: Executor, address: string) => {
      const target = await resolveLoggingAddress(db, address);
      if (!target) return null;
      return { kind: 'connection' as const, connection: target.connection, accept: (raw: Buffer) => checkLoggedMailSender(db, target.userId, raw) };
    },
    jobs: () => ({
      /** Batched tracking digest: opens and clicks on the timeline, one in-app notification per batch. */
      [TRACKING_DIGEST_JOB]: async (payload: { userId: string }, ctx: JobContext) => {
        const r = await processTrackingHits(ctx.env, payload.userId);
        if (r.pending > 0) throw new RunAgain(ctx.env.settings.trackingSettleMs);
      },
    }),
  } as const;
}
