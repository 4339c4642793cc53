/** Reads of the sequences feature: sequences, enrollments, history, tasks, stats. */
import type { Actor, Executor } from '../../platform/context.js';
import { notFound } from '../../platform/errors.js';
import { can } from '../../platform/authorize.js';
import { isAdmin } from '../accounts/index.js';
import { contactDisplayName } from '../crm/index.js';
import { trackingByOutbox } from '../personal/index.js';
import { sequencesPolicies } from './policies.js';
import type { SequenceEnrollmentsTable, SequencesTable } from './tables.js';
import { enrollmentView, historyView, sequenceView, taskView } from './views.js';

export const LIVE_STATES = ['active', 'paused'] as const;

export async function loadSequence(db: Executor, accountId: string, id: string): Promise<SequencesTable> {
  const row = await db.selectFrom('sequences').selectAll().where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
  if (!row) throw notFound('Sequence');
  return row;
}

export async function loadEnrollment(db: Executor, actor: Actor, id: string): Promise<SequenceEnrollmentsTable> {
  const row = await db.selectFrom('sequence_enrollments').selectAll().where('id', '=', id).where('account_id', '=', actor.accountId).executeTakeFirst();
  if (!row || !can(actor, sequencesPolicies.seeEnrollment, { userId: row.user_id })) throw notFound('Enrollment');
  return row;
}

export async function countSequences(db: Executor, accountId: string): Promise<number> {
  const r = await db.selectFrom('sequences').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', accountId).where('archived_at', 'is', null).executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function sequenceViews(db: Executor, rows: readonly SequencesTable[]) {
  if (!rows.length) return [];
  const counts = await db
    .selectFrom('sequence_enrollments')
    .select((eb) => ['sequence_id', 'state', eb.fn.countAll<number>().as('n')])
    .where(
      'sequence_id',
      'in',
      rows.map((r) => r.id),
    )
    .groupBy(['sequence_id', 'state'])
    .execute();
  return rows.map((r) => {
    const mine = counts.filter((c) => c.sequence_id === r.id);
    return sequenceView(r, { active: mine.filter((c) => c.state === 'active' || c.state === 'paused').reduce((s, c) => s + Number(c.n), 0), total: mine.reduce((s, c) => s + Number(c.n), 0) });
  });
}

export async function listSequences(db: Executor, actor: Actor, o: { archived?: boolean } = {}) {
  let q = db.selectFrom('sequences').selectAll().where('account_id', '=', actor.accountId);
  q = o.archived ? q.where('archived_at', 'is not', null) : q.where('archived_at', 'is', null);
  return sequenceViews(db, await q.orderBy('name').orderBy('id').limit(500).execute());
}

export async function enrollmentViews(db: Executor, rows: readonly SequenceEnrollmentsTable[]) {
  if (!rows.length) return [];
  const contacts = await db
    .selectFrom('contacts')
    .select(['id', 'first_name', 'last_name'])
    .where(
      'id',
      'in',
      [...new Set(rows.map((r) => r.contact_id))],
    )
    .execute();
  const seqs = await db
    .selectFrom('sequences')
    .select(['id', 'name'])
    .where(
      'id',
      'in',
      [...new Set(rows.map((r) => r.sequence_id))],
    )
    .execute();
  return rows.map((r) => {
    const c = contacts.find((x) => x.id === r.contact_id);
    return enrollmentView(r, {
      contactName: c ? contactDisplayName({ firstName: c.first_name, lastName: c.last_name, primaryEmail: r.contact_email }) : r.contact_email,
      ...(seqs.find((s) => s.id === r.sequence_id) ? { sequenceName: seqs.find((s) => s.id === r.sequence_id)!.name } : {}),
    });
  });
}

/** Enrollments the actor may see (their own; an admin: everyone's), newest first. */
export async function listEnrollments(db: Executor, actor: Actor, f: { sequenceId?: string; contactId?: string; state?: string; limit?: number }) {
  let q = db.selectFrom('sequence_enrollments').selectAll().where('account_id', '=', actor.accountId);
  if (!isAdmin(actor.user)) q = q.where('user_id', '=', actor.user.id);
  if (f.sequenceId) q = q.where('sequence_id', '=', f.sequenceId);
  if (f.contactId) q = q.where('contact_id', '=', f.contactId);
  if (f.state) q = q.where('state', '=', f.state as SequenceEnrollmentsTable['state']);
  const rows = await q.orderBy('enrolled_at', 'desc').orderBy('id', 'desc').limit(Math.min(f.limit ?? 100, 500)).execute();
  return enrollmentViews(db, rows);
}

export async function enrollmentHistory(db: Executor, enrollmentId: string) {
  const rows = await db.selectFrom('sequence_history').selectAll().where('enrollment_id', '=', enrollmentId).orderBy('at').orderBy('id').execute();
  return rows.map(historyView);
}

export async function enrollmentSteps(db: Executor, enrollmentId: string) {
  const rows = await db.selectFrom('sequence_steps_run').selectAll().where('enrollment_id', '=', enrollmentId).orderBy('step_index').execute();
  return rows.map(taskView);
}

/** The actor's open tasks (manual emails, calls, general tasks), oldest due first. */
export async function openTasks(db: Executor, actor: Actor) {
  const rows = await db
    .selectFrom('sequence_steps_run')
    .innerJoin('sequence_enrollments as e', 'e.id', 'sequence_steps_run.enrollment_id')
    .selectAll('sequence_steps_run')
    .select(['e.contact_id', 'e.contact_email'])
    .where('sequence_steps_run.user_id', '=', actor.user.id)
    .where('sequence_steps_run.state', '=', 'open')
    .orderBy('sequence_steps_run.due_at')
    .limit(500)
    .execute();
  return rows.map((r) => ({ ...taskView(r), contactId: r.contact_id, contactEmail: r.contact_email }));
}

/** The reasons an enrollment ends that count as the outcome of the email before it. */
const OUTCOME_REASONS = ['replied', 'colleague_replied', 'bounced', 'unsubscribed', 'meeting_booked'] as const;

/**
 * One step's (and variant's) figures. An enrollment's outcome (reply, bounce, unsubscribe, meeting) is
 * credited to the last email step it got. Opens and clicks (indicative: privacy proxies and scanners
 * inflate them) count the step's tracked emails opened or clicked at least once by a hit not flagged as a
 * bot or prefetch (a click counts as an open); null when none of the step's emails was tracked.
 */
export interface StepVariantStats {
  stepIndex: number;
  variant: number;
  queued: number;
  sent: number;
  failed: number;
  delivered: number;
  bounced: number;
  replied: number;
  unsubscribed: number;
  meetingsBooked: number;
  /** Emails sent with open (or click) tracking: what opened and clicked are out of. */
  tracked: number;
  opened: number | null;
  clicked: number | null;
  /** replied / delivered. */
  replyRate: number | null;
}

/** Per step and variant: emails queued, sent, and the outcomes they led to; per sequence: enrollments by state and reason. */
export async function sequenceStats(db: Executor, sequenceId: string) {
  const byState = await db
    .selectFrom('sequence_enrollments')
    .select((eb) => ['state', 'reason', eb.fn.countAll<number>().as('n')])
    .where('sequence_id', '=', sequenceId)
    .groupBy(['state', 'reason'])
    .execute();
  const steps = await db
    .selectFrom('sequence_steps_run')
    .innerJoin('sequence_enrollments as e', 'e.id', 'sequence_steps_run.enrollment_id')
    .leftJoin('outbox as o', 'o.id', 'sequence_steps_run.outbox_id')
    .select((eb) => ['sequence_steps_run.step_index', 'sequence_steps_run.variant', 'o.state as outbox_state', eb.fn.countAll<number>().as('n')])
    .where('e.sequence_id', '=', sequenceId)
    .groupBy(['sequence_steps_run.step_index', 'sequence_steps_run.variant', 'o.state'])
    .execute();
  // How enrollments ended, credited to the last email step each got (and that step's variant).
  const outcomes = await db
    .selectFrom('sequence_enrollments as e')
    .innerJoin('sequence_steps_run as r', 'r.enrollment_id', 'e.id')
    .select((eb) => ['r.step_index', 'r.variant', 'e.reason', eb.fn.countAll<number>().as('n')])
    .where('e.sequence_id', '=', sequenceId)
    .where('e.reason', 'in', [...OUTCOME_REASONS])
    .where('r.type', '=', 'email')
    .where('r.step_index', '=', (eb) => eb.selectFrom('sequence_steps_run as r2').select((x) => x.fn.max('r2.step_index').as('m')).whereRef('r2.enrollment_id', '=', 'e.id').where('r2.type', '=', 'email'))
    .groupBy(['r.step_index', 'r.variant', 'e.reason'])
    .execute();
  const reason = (r: string) => byState.filter((s) => s.reason === r).reduce((a, s) => a + Number(s.n), 0);
  const enrolled = byState.reduce((a, s) => a + Number(s.n), 0);
  const stepRows = new Map<string, StepVariantStats>();
  const row = (stepIndex: number, variant: number) => {
    const key = `${stepIndex}/${variant}`;
    let e = stepRows.get(key);
    if (!e) {
      e = { stepIndex, variant, queued: 0, sent: 0, failed: 0, delivered: 0, bounced: 0, replied: 0, unsubscribed: 0, meetingsBooked: 0, tracked: 0, opened: null, clicked: null, replyRate: null };
      stepRows.set(key, e);
    }
    return e;
  };
  for (const s of steps) {
    const e = row(Number(s.step_index), Number(s.variant));
    e.queued += Number(s.n);
    if (s.outbox_state === 'sent') e.sent += Number(s.n);
    if (s.outbox_state === 'failed' || s.outbox_state === 'uncertain') e.failed += Number(s.n);
  }
  // Opens and clicks of the tracked step emails (the personal email tracking they went through).
  const sentSteps = await db
    .selectFrom('sequence_steps_run')
    .innerJoin('sequence_enrollments as e', 'e.id', 'sequence_steps_run.enrollment_id')
    .select(['sequence_steps_run.step_index', 'sequence_steps_run.variant', 'sequence_steps_run.outbox_id'])
    .where('e.sequence_id', '=', sequenceId)
    .where('sequence_steps_run.type', '=', 'email')
    .where('sequence_steps_run.outbox_id', 'is not', null)
    .execute();
  const tracking = await trackingByOutbox(
    db,
    sentSteps.map((r) => r.outbox_id!),
  );
  for (const r of sentSteps) {
    const t = tracking.get(r.outbox_id!);
    if (!t) continue;
    const e = row(Number(r.step_index), Number(r.variant));
    e.tracked += 1;
    e.opened = (e.opened ?? 0) + (t.opened ? 1 : 0);
    e.clicked = (e.clicked ?? 0) + (t.clicked ? 1 : 0);
  }
  for (const o of outcomes) {
    const e = row(Number(o.step_index), Number(o.variant));
    const n = Number(o.n);
    if (o.reason === 'replied' || o.reason === 'colleague_replied') e.replied += n;
    else if (o.reason === 'bounced') e.bounced += n;
    else if (o.reason === 'unsubscribed') e.unsubscribed += n;
    else if (o.reason === 'meeting_booked') e.meetingsBooked += n;
  }
  for (const e of stepRows.values()) {
    e.delivered = Math.max(0, e.sent - e.bounced);
    e.replyRate = e.delivered ? Math.round((e.replied / e.delivered) * 1000) / 1000 : null;
  }
  return {
    enrolled,
    active: byState.filter((s) => s.state === 'active').reduce((a, s) => a + Number(s.n), 0),
    paused: byState.filter((s) => s.state === 'paused').reduce((a, s) => a + Number(s.n), 0),
    finished: reason('completed'),
    replied: reason('replied') + reason('colleague_replied'),
    bounced: reason('bounced'),
    unsubscribed: reason('unsubscribed'),
    meetings: reason('meeting_booked'),
    tracking: 'Opens and clicks are indicative: privacy proxies (Apple Mail) and link scanners inflate them, and a reader who blocks images is never counted. Hits recognised as bots or prefetches are left out.',
    steps: [...stepRows.values()].sort((a, b) => a.stepIndex - b.stepIndex || a.variant - b.variant),
  };
}
