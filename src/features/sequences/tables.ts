/**
 * The sequences feature's tables (migration 016), added to the database type by interface merging so the
 * feature's code is typed like the rest (src/platform/database/schema.ts lists the others).
 */
import type { EnrollmentState } from './domain/definition.js';

export interface SequencesTable {
  id: string;
  account_id: string;
  owner_user_id: string;
  name: string;
  version: number;
  /** JSON SequenceDefinition (domain/definition.ts). */
  definition: string;
  archived_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface SequenceEnrollmentsTable {
  id: string;
  account_id: string;
  sequence_id: string;
  sequence_version: number;
  /** The definition frozen when the enrollment started (edits apply to new enrollments only). */
  definition: string;
  contact_id: string;
  /** contact_id while active or paused, else null: the unique index allows one live enrollment per contact. */
  active_contact_id: string | null;
  contact_email: string;
  /** The contact's email domain unless free mail (same-company replies). */
  email_domain: string | null;
  company_id: string | null;
  user_id: string;
  connection_id: string;
  time_zone: string;
  state: EnrollmentState;
  reason: string | null;
  /** The next step to run. */
  step_index: number;
  next_due_at: number | null;
  /** When the previous step was due (the enrollment time before the first). */
  last_due_at: number;
  /** JSON {firstSubject, messageIds[]}: what follow-ups thread to. */
  thread: string;
  enrolled_at: number;
  ended_at: number | null;
  updated_at: number;
}

export interface SequenceStepsRunTable {
  enrollment_id: string;
  step_index: number;
  account_id: string;
  user_id: string;
  step_id: string;
  type: string;
  variant: number;
  /** email: queued (in the outbox) | task: open, done, skipped. */
  state: 'queued' | 'open' | 'done' | 'skipped';
  outbox_id: string | null;
  message_id: string | null;
  subject: string;
  due_at: number;
  ran_at: number;
  done_at: number | null;
}

export interface SequenceHistoryTable {
  id: string;
  enrollment_id: string;
  account_id: string;
  kind: 'enrolled' | 'step_queued' | 'task_created' | 'paused' | 'resumed' | 'unenrolled' | 'finished' | 'waiting';
  reason: string | null;
  data: string;
  at: number;
}

export interface SequenceSuppressionsTable {
  account_id: string;
  email_key: string;
  reason: 'unsubscribed' | 'bounced';
  enrollment_id: string | null;
  at: number;
}

declare module '../../platform/database/schema.js' {
  interface DB {
    sequences: SequencesTable;
    sequence_enrollments: SequenceEnrollmentsTable;
    sequence_steps_run: SequenceStepsRunTable;
    sequence_history: SequenceHistoryTable;
    sequence_suppressions: SequenceSuppressionsTable;
  }
}
