/**
 * The events sequences emit, declared here and only here: their `data` (merged into the platform's
 * `EventTypes`, so `recordEvent` accepts exactly these) and their catalogue entries (version, subject,
 * description), which the webhooks catalogue collects through this feature's index.ts.
 * Enrollment events have the contact as subject: they reach a webhook in order with the contact's own.
 */
import type { EventDescription } from '../../platform/events.js';

/** An enrollment's change: `reason` says why it stopped or paused (reply, out_of_office, meeting_booked...). */
export interface EnrollmentEventData {
  enrollmentId: string;
  sequenceId: string;
  contactId: string;
  reason: string | null;
}

export interface SequenceEvents {
  'sequence.enrollment.created': EnrollmentEventData;
  'sequence.enrollment.paused': EnrollmentEventData;
  'sequence.enrollment.resumed': EnrollmentEventData;
  'sequence.enrollment.unenrolled': EnrollmentEventData;
  'sequence.enrollment.finished': EnrollmentEventData;
}

declare module '../../platform/events.js' {
  interface EventTypes extends SequenceEvents {}
}

export const SEQUENCE_EVENTS = {
  'sequence.enrollment.created': { version: 1, subject: 'contact', description: 'A contact was enrolled in a sequence.' },
  'sequence.enrollment.paused': { version: 1, subject: 'contact', description: 'An enrollment paused (an out-of-office reply; `reason`), to resume on the stated return date.' },
  'sequence.enrollment.resumed': { version: 1, subject: 'contact', description: 'A paused enrollment resumed.' },
  'sequence.enrollment.unenrolled': { version: 1, subject: 'contact', description: 'An enrollment stopped before its last step; `reason`: reply, bounce, unsubscribe, meeting_booked, manual, contact_deleted...' },
  'sequence.enrollment.finished': { version: 1, subject: 'contact', description: 'An enrollment ran its last step.' },
} as const satisfies { readonly [K in keyof SequenceEvents]: EventDescription };
