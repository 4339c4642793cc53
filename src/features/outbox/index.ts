/**
 * The outbox: every email Mailroom sends (replies from an inbox, email from a contact's record) is queued
 * here first and sent once by a background job, through the connection's own SMTP server; the sent copy is
 * appended to the mailbox's Sent folder. This file is the only door other features use.
 */
import type { Ingestor } from '../ingest/index.js';
import { outboxJobs } from './sender.js';
import { followMergedConversation } from './commands/followMergedConversation.js';

export { MAX_UNDO_SECONDS, queueEmail } from './commands/queueEmail.js';
export { undoSend } from './commands/undoSend.js';
export { undoHoldMs } from './domain/undo.js';
export type { UndoSendInput } from './domain/undo.js';
export { isOutboxState, OUTBOX_STATES, UNSENT_OUTBOX_STATES } from './domain/states.js';
export type { OutboxState } from './domain/states.js';
export type { QueueEmailDeps } from './commands/queueEmail.js';
export type { SendOutcomeHook } from './sender.js';

export function outboxFeature() {
  return {
    name: 'outbox',
    /** Two conversations merged (one thread): what was sent in the merged one belongs to the survivor. */
    conversationsMerged: followMergedConversation,
    /** Send a queued email (never twice), then append the sent copy to the Sent folder. */
    jobs: (ingestor: Ingestor) => outboxJobs(ingestor),
  } as const;
}
