/** API shapes of sequences, enrollments, their history and tasks. */
import type { SequenceDefinition } from './domain/definition.js';
import { formatClock } from './domain/schedule.js';
import type { SequenceEnrollmentsTable, SequenceHistoryTable, SequencesTable, SequenceStepsRunTable } from './tables.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

export function parseDefinition(text: string): SequenceDefinition {
  return JSON.parse(text) as SequenceDefinition;
}

export function sequenceView(row: SequencesTable, counts?: { active: number; total: number }) {
  const d = parseDefinition(row.definition);
  return {
    id: row.id,
    name: row.name,
    ownerId: row.owner_user_id,
    version: Number(row.version),
    archived: row.archived_at !== null,
    settings: {
      timeZone: d.settings.timeZone,
      window: { start: formatClock(d.settings.windowStart), end: formatClock(d.settings.windowEnd) },
      weekdays: d.settings.weekdays,
      holidays: d.settings.holidays,
      threaded: d.settings.threaded,
      unenrollOnCompanyReply: d.settings.unenrollOnCompanyReply,
      trackOpens: d.settings.trackOpens ?? null,
      trackClicks: d.settings.trackClicks ?? null,
    },
    steps: d.steps.map((s) => ({ id: s.id, type: s.type, delay: s.delay, variants: s.variants, note: s.note })),
    enrollments: counts ?? { active: 0, total: 0 },
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
  };
}
export type SequenceView = ReturnType<typeof sequenceView>;

export function enrollmentView(row: SequenceEnrollmentsTable, extra: { contactName?: string; sequenceName?: string } = {}) {
  const d = parseDefinition(row.definition);
  const next = d.steps[row.step_index];
  return {
    id: row.id,
    sequenceId: row.sequence_id,
    sequenceName: extra.sequenceName ?? null,
    sequenceVersion: Number(row.sequence_version),
    contactId: row.contact_id,
    contactName: extra.contactName ?? null,
    contactEmail: row.contact_email,
    userId: row.user_id,
    connectionId: row.connection_id,
    timeZone: row.time_zone,
    state: row.state,
    reason: row.reason,
    stepIndex: Number(row.step_index),
    steps: d.steps.length,
    nextStep: next && (row.state === 'active' || row.state === 'paused') ? { index: Number(row.step_index), type: next.type, dueAt: iso(row.next_due_at) } : null,
    enrolledAt: iso(row.enrolled_at)!,
    endedAt: iso(row.ended_at),
  };
}
export type EnrollmentView = ReturnType<typeof enrollmentView>;

export function historyView(row: SequenceHistoryTable) {
  return { kind: row.kind, reason: row.reason, data: JSON.parse(row.data) as Record<string, unknown>, at: iso(row.at)! };
}

export function taskView(row: SequenceStepsRunTable & { contact_id?: string; note?: string }) {
  return {
    enrollmentId: row.enrollment_id,
    stepIndex: Number(row.step_index),
    type: row.type,
    state: row.state,
    subject: row.subject,
    dueAt: iso(row.due_at)!,
    doneAt: iso(row.done_at),
  };
}
