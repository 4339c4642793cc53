/**
 * Wires the personal email tools into the mail engine of a process:
 * - reply, BCC and Sent-folder logging on contact timelines (`onMessageStored`);
 * - "not sent because you reached your send limit" on the timeline (`onSendOutcome`);
 * - the per-user BCC / forwarding logging addresses on inbound SMTP (only mail from the owner's own
 *   connected addresses is accepted; oversized mail gets the server's 552);
 * - the batched tracking digest job (timeline opens/clicks and one in-app notification per batch).
 * Call `registerPersonalEmailFeatures()` once per process, before mail is ingested or jobs run.
 */
import { onMessageStored } from '../ingest/ingest.js';
import { onSendOutcome } from '../outbox/sender.js';
import { addRecipientResolver } from '../../mail/inbound-smtp.js';
import { registerJob } from '../../platform/jobs/handlers.js';
import { RunAgain } from '../../platform/jobs/worker.js';
import { logPersonalMail } from './commands/logPersonalMail.js';
import { logSendOutcome } from './commands/logSendOutcome.js';
import { checkLoggedMailSender, resolveLoggingAddress } from './commands/resolveLoggingAddress.js';
import { processTrackingHits, TRACKING_DIGEST_JOB } from './commands/processTrackingHits.js';

let registered = false;

export function registerPersonalEmailFeatures(): void {
  if (registered) return;
  registered = true;
  onMessageStored(logPersonalMail);
  onSendOutcome(logSendOutcome);
  addRecipientResolver(async (db, address) => {
    const target = await resolveLoggingAddress(db, address);
    if (!target) return null;
    return { kind: 'connection', connection: target.connection, accept: (raw: Buffer) => checkLoggedMailSender(db, target.userId, raw) };
  });
  registerJob(TRACKING_DIGEST_JOB, async (payload: { userId: string }, ctx) => {
    const r = await processTrackingHits(ctx.env, payload.userId);
    if (r.pending > 0) throw new RunAgain(ctx.env.settings.trackingSettleMs);
  });
}
