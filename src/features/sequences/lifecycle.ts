/**
 * The named transitions of an enrollment (stop, pause, resume, finish), each asking the pure
 * `nextEnrollmentState` and written guarded by the state read, with a history entry saying why. Run
 * inside the caller's transaction.
 */
import type { Executor } from '../../platform/context.js';
import { newId } from '../../platform/database/ids.js';
import { recordEvent } from '../../platform/events.js';
import { UNSENT_OUTBOX_STATES } from '../outbox/index.js';
import { nextEnrollmentState, type EnrollmentEvent } from './domain/definition.js';
import type { SequenceEnrollmentsTable, SequenceHistoryTable } from './tables.js';
import './events.js';

export async function recordEnrollmentEvent(
  trx: Executor,
  e: Pick<SequenceEnrollmentsTable, 'id' | 'account_id' | 'sequence_id' | 'contact_id'>,
  what: 'created' | 'paused' | 'resumed' | 'unenrolled' | 'finished',
  reason: string | null,
  at: number,
): Promise<void> {
  await recordEvent(trx, { accountId: e.account_id, type: `sequence.enrollment.${what}`, subject: { type: 'contact', id: e.contact_id }, data: { enrollmentId: e.id, sequenceId: e.sequence_id, contactId: e.contact_id, reason }, at });
}

let historyCounter = 0;
/** Ids that sort in the order entries were written (time, then a per-process counter): history of one transaction shares its `at`. */
function historyId(): string {
  historyCounter = (historyCounter + 1) % 36 ** 6;
  return `seh_${Date.now().toString(36).padStart(9, '0')}${historyCounter.toString(36).padStart(6, '0')}${newId('x').slice(-6)}`;
}

export async function addHistory(trx: Executor, e: Pick<SequenceEnrollmentsTable, 'id' | 'account_id'>, kind: SequenceHistoryTable['kind'], reason: string | null, data: Record<string, unknown>, at: number): Promise<void> {
  await trx.insertInto('sequence_history').values({ id: historyId(), enrollment_id: e.id, account_id: e.account_id, kind, reason, data: JSON.stringify(data), at }).execute();
}

/**
 * Applies an event to an enrollment. Returns false when it does not apply (already ended) or its state
 * changed since it was read (someone else applied another event first).
 */
export async function transition(
  trx: Executor,
  e: SequenceEnrollmentsTable,
  event: EnrollmentEvent,
  at: number,
  o: { nextDueAt?: number | null; data?: Record<string, unknown> } = {},
): Promise<boolean> {
  const to = nextEnrollmentState(e.state, event);
  if (!to) return false;
  const ended = to === 'finished' || to === 'unenrolled';
  const reason = event.type === 'stop' || event.type === 'pause' ? event.reason : event.type === 'complete' ? 'completed' : null;
  const r = await trx
    .updateTable('sequence_enrollments')
    .set({
      state: to,
      reason,
      active_contact_id: ended ? null : e.contact_id,
      next_due_at: ended ? null : o.nextDueAt !== undefined ? o.nextDueAt : e.next_due_at,
      ended_at: ended ? at : null,
      updated_at: at,
    })
    .where('id', '=', e.id)
    // A stop wins whatever the scheduler did meanwhile (a reply must stop the next step even if a step was
    // just claimed); the other events apply to the state they were decided on.
    .where('state', 'in', event.type === 'stop' ? ['active', 'paused'] : [e.state])
    .$if(event.type === 'complete', (q) => q.where('step_index', '=', e.step_index))
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) return false;
  const kind = event.type === 'stop' ? 'unenrolled' : event.type === 'pause' ? 'paused' : event.type === 'resume' ? 'resumed' : 'finished';
  await addHistory(trx, e, kind, reason, o.data ?? {}, at);
  await recordEnrollmentEvent(trx, e, kind, reason, at);
  if (to === 'unenrolled') {
    // Tasks of a stopped enrollment are moot (a finished one keeps its last tasks).
    await trx.updateTable('sequence_steps_run').set({ state: 'skipped', done_at: at }).where('enrollment_id', '=', e.id).where('state', '=', 'open').execute();
    // An email claimed just before the stop that has not left yet stays in the outbox, cancelled.
    const queued = await trx.selectFrom('sequence_steps_run').select(['step_index', 'outbox_id']).where('enrollment_id', '=', e.id).where('state', '=', 'queued').where('outbox_id', 'is not', null).execute();
    for (const q of queued) {
      const r = await trx.updateTable('outbox').set({ state: 'cancelled', last_error: `Not sent: the sequence stopped (${reason}).` }).where('id', '=', q.outbox_id!).where('state', 'in', UNSENT_OUTBOX_STATES).executeTakeFirst();
      if (Number(r.numUpdatedRows) === 1) await trx.updateTable('sequence_steps_run').set({ state: 'skipped', done_at: at }).where('enrollment_id', '=', e.id).where('step_index', '=', q.step_index).execute();
    }
  }
  return true;
}

/** The live (active or paused) enrollments of these contacts in the account. */
export async function liveEnrollmentsOf(trx: Executor, accountId: string, contactIds: readonly string[]): Promise<SequenceEnrollmentsTable[]> {
  if (!contactIds.length) return [];
  return trx.selectFrom('sequence_enrollments').selectAll().where('account_id', '=', accountId).where('active_contact_id', 'in', [...contactIds]).execute();
}
