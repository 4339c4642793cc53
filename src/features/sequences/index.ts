/**
 * Email sequences: timed follow-ups from a user's own mailbox (personal connections only) that stop the
 * moment a person answers. Steps in business days at the enrollment's time of day in the contact's time
 * zone, send window, weekdays and holidays; each due step sent once through the outbox, even with two
 * schedulers; unenroll on reply (any address of the contact, or a colleague when asked), bounce,
 * unsubscribe link, meeting booked; pause on out-of-office and resume on the stated return date. This
 * file is the only door other features use.
 */
import type { CommandEnv, Executor } from '../../platform/context.js';
import { RunAgain, type JobContext } from '../../platform/jobs/worker.js';
import type { Ingestor } from '../ingest/index.js';
import { stopSequencesOnReply } from './commands/stopOnReply.js';
import { meetingBooked, stopDeletedContactSequences } from './commands/manageEnrollment.js';
import { runDueSteps, SCHEDULER_JOB, TICK_MS } from './commands/runDueSteps.js';
import './tables.js';

export { sequencesPolicies } from './policies.js';
export { SEQUENCE_EVENTS, type SequenceEvents } from './events.js';
export { meetingBooked } from './commands/manageEnrollment.js';

/** A meeting booked with a contact, in the booking transaction: their live sequence stops. */
async function stopSequencesOnMeeting(trx: Executor, p: { accountId: string; contactId: string }, env: CommandEnv): Promise<void> {
  await meetingBooked(trx, p, env.now());
}

/** What sequences do when other features act, and the scheduler job (listed in src/app/features.ts). */
export function sequencesFeature() {
  return {
    name: 'sequences',
    /** A message from an enrolled contact: a reply (or a colleague's) unenrolls, an out-of-office pauses, a hard bounce unenrolls. */
    messageStored: stopSequencesOnReply,
    /** A contact deleted: their live enrollment stops (reason contact_deleted). */
    contactDeleting: stopDeletedContactSequences,
    /** A meeting booked with a contact (meetings): their live sequence stops (reason meeting_booked). */
    meetingBooked: stopSequencesOnMeeting,
    jobs: (ingestor: Ingestor) => ({
      /** The scheduler: due steps (emails to the outbox, tasks), then again within a minute while any enrollment is live. */
      [SCHEDULER_JOB]: async (_payload: unknown, ctx: JobContext) => {
        const r = await runDueSteps(ctx.env, { putBlob: (raw) => ingestor.blobs.put(raw), replyTokenSecret: ingestor.replyTokenSecret });
        if (r.outcomes.length >= 500) throw new RunAgain(0);
        if (r.live) throw new RunAgain(Math.max(1000, Math.min(TICK_MS, (r.nextDueAt ?? Infinity) - ctx.env.now())));
      },
    }),
  } as const;
}
