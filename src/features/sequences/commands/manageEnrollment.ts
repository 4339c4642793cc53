import type { Actor, CommandEnv, Executor } from '../../../platform/context.js';
import { AppError } from '../../../platform/errors.js';
import { authorize } from '../../../platform/authorize.js';
import { recordAudit } from '../../../platform/audit.js';
import { nextAllowedSlot } from '../domain/schedule.js';
import { sequencesPolicies } from '../policies.js';
import { enrollmentViews, loadEnrollment } from '../queries.js';
import { liveEnrollmentsOf, transition } from '../lifecycle.js';
import { parseDefinition, type EnrollmentView } from '../views.js';
import { calendarOf, wakeScheduler } from './runDueSteps.js';

async function view(trx: Executor, id: string): Promise<EnrollmentView> {
  const row = await trx.selectFrom('sequence_enrollments').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  return (await enrollmentViews(trx, [row]))[0]!;
}

/** Stops an enrollment by hand (its sender or an admin); reason `manual`. */
export async function unenrollContact(env: CommandEnv, actor: Actor, enrollmentId: string): Promise<EnrollmentView> {
  const now = env.now();
  return env.db.transaction().execute(async (trx) => {
    const e = await loadEnrollment(trx, actor, enrollmentId);
    authorize(actor, sequencesPolicies.use);
    if (!(await transition(trx, e, { type: 'stop', reason: 'manual' }, now, { data: { by: actor.user.id } }))) {
      throw new AppError('enrollment_ended', 409, `This enrollment has already ended (${e.reason ?? e.state}).`);
    }
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'sequence.unenrolled', targetType: 'sequence_enrollment', targetId: e.id, data: { reason: 'manual' }, at: now });
    return view(trx, e.id);
  });
}

/** Resumes a paused enrollment now: its next step at the next allowed slot. */
export async function resumeEnrollment(env: CommandEnv, actor: Actor, enrollmentId: string): Promise<EnrollmentView> {
  const now = env.now();
  const result = await env.db.transaction().execute(async (trx) => {
    const e = await loadEnrollment(trx, actor, enrollmentId);
    authorize(actor, sequencesPolicies.use);
    const at = nextAllowedSlot(calendarOf(parseDefinition(e.definition), e.time_zone), now);
    if (!(await transition(trx, e, { type: 'resume' }, now, { nextDueAt: at, data: { by: actor.user.id } }))) {
      throw new AppError('invalid_state_change', 409, `Only a paused enrollment can be resumed; this one is ${e.state}.`);
    }
    await wakeScheduler(trx, now);
    return view(trx, e.id);
  });
  env.onJobsQueued?.();
  return result;
}

/** Marks a task of an enrollment (manual email, call, general task) done or skipped. */
export async function completeTask(env: CommandEnv, actor: Actor, enrollmentId: string, stepIndex: number, outcome: 'done' | 'skipped'): Promise<{ enrollmentId: string; stepIndex: number; state: 'done' | 'skipped' }> {
  const now = env.now();
  return env.db.transaction().execute(async (trx) => {
    const e = await loadEnrollment(trx, actor, enrollmentId);
    const r = await trx.updateTable('sequence_steps_run').set({ state: outcome, done_at: now }).where('enrollment_id', '=', e.id).where('step_index', '=', stepIndex).where('state', '=', 'open').executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) throw new AppError('task_not_open', 409, 'This task is not open (done, skipped, or its enrollment ended).');
    return { enrollmentId: e.id, stepIndex, state: outcome };
  });
}

/**
 * A meeting was booked with a contact (the meetings feature calls this, in its transaction): their live
 * sequence stops, reason `meeting_booked`.
 */
export async function meetingBooked(env: CommandEnv | Executor, input: { accountId: string; contactId: string }, at: number = Date.now()): Promise<number> {
  const trx = 'db' in env ? env.db : env;
  const when = 'now' in env && typeof env.now === 'function' ? env.now() : at;
  let n = 0;
  for (const e of await liveEnrollmentsOf(trx, input.accountId, [input.contactId])) if (await transition(trx, e, { type: 'stop', reason: 'meeting_booked' }, when)) n++;
  return n;
}

/** A contact deleted: their live enrollment stops (reason contact_deleted) in the deletion's transaction. */
export async function stopDeletedContactSequences(trx: Executor, p: { accountId: string; contactId: string; now: number }): Promise<void> {
  for (const e of await liveEnrollmentsOf(trx, p.accountId, [p.contactId])) await transition(trx, e, { type: 'stop', reason: 'contact_deleted' }, p.now);
}
