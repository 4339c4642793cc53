import type { CommandEnv } from '../../../platform/context.js';
import { AppError, invalidRequest } from '../../../platform/errors.js';
import { recordAudit } from '../../../platform/audit.js';
import { recordEvent } from '../../../platform/events.js';
import { isUniqueViolation } from '../../../platform/database/database.js';
import { appendTimelineEvent } from '../../crm/index.js';
import { hostUsers, loadMeeting, loadPage } from '../queries.js';
import { queueInvite, scheduleReminders, stopReminders, syncCalendarEvent, type MailDeps } from '../invites.js';
import { meetingView } from '../views.js';
import { meetingOfLink } from './manageMeeting.js';
import { ONE_DAY, slotsOf } from './getBookingPage.js';
import { claimTime, slotTaken } from './bookMeeting.js';
import { json, readJson } from '../../../platform/database/json.js';

/**
 * Moves a booking to another free slot from its signed link: the same hosts must be free at the new time
 * (its own old time does not count against it), the blocks move in one transaction (the key still forbids
 * overlaps), SEQUENCE is raised and an updated iTIP REQUEST (same UID) goes out; the timeline is told and
 * the calendar event updated after commit.
 */
export async function rescheduleMeeting(env: CommandEnv, deps: MailDeps, token: string, newStartIso: string) {
  const m0 = await meetingOfLink(env, token);
  if (m0.status === 'cancelled') throw new AppError('invalid_state_change', 409, 'This meeting was cancelled; book a new time from the booking page.');
  const start = Date.parse(newStartIso);
  if (!Number.isFinite(start)) throw invalidRequest('start must be an ISO date-time.', { field: 'start' });
  const page = await loadPage(env.db, m0.account_id, m0.meeting_type_id);
  const hostIds = readJson('meetings.host_user_ids', m0.host_user_ids, json.stringArray, [m0.host_user_id]);
  const end = start + (Number(m0.end_at) - Number(m0.start_at));
  const range = { start: start - ONE_DAY, end: start + 7 * ONE_DAY };
  // The same hosts at the new time: the page's slots computed as a group of them, the meeting itself ignored.
  const { slots } = await slotsOf(env, { ...page, kind: 'group', hostUserIds: hostIds }, range, { exceptMeetingId: m0.id, fresh: true });
  if (!slots.some((s) => s.start === start)) throw slotTaken(slots.filter((s) => s.start > start));
  const [host] = await hostUsers(env.db, m0.account_id, [m0.host_user_id]);
  const now = env.now();
  let address = '';
  try {
    await env.db.transaction().execute(async (trx) => {
      const m = await loadMeeting(trx, m0.id);
      if (m.status === 'cancelled') throw new AppError('invalid_state_change', 409, 'This meeting was cancelled; book a new time from the booking page.');
      const connection = await trx.selectFrom('connections').selectAll().where('id', '=', m.connection_id).executeTakeFirst();
      if (!connection || connection.disconnected_at !== null) throw new AppError('connection_disconnected', 409, "The host's mailbox is disconnected, so the new time cannot be sent. Write to the host directly.");
      address = connection.address;
      await trx.deleteFrom('meeting_blocks').where('meeting_id', '=', m.id).execute();
      if (!(await claimTime(trx, page, hostIds, start, end, m.id, m.id, env.dialect))) throw slotTaken(slots.filter((s) => s.start > start));
      const next = { ...m, start_at: start, end_at: end, sequence: m.sequence + 1, updated_at: now };
      await trx.updateTable('meetings').set({ start_at: start, end_at: end, sequence: next.sequence, updated_at: now }).where('id', '=', m.id).execute();
      if (m.contact_id) {
        await appendTimelineEvent(trx, { accountId: m.account_id, contactId: m.contact_id, kind: 'meeting', occurredAt: now, actorUserId: null, refType: 'meeting', refId: `${m.id}:rescheduled:${next.sequence}`, data: { event: 'rescheduled', meetingId: m.id, title: page.row.name, from: new Date(Number(m.start_at)).toISOString(), start: new Date(start).toISOString(), end: new Date(end).toISOString() } });
      }
      await queueInvite(trx, env, deps, { meeting: next, method: 'REQUEST', pageName: page.row.name, hostName: host?.name ?? '', connection, update: true });
      await stopReminders(trx, m);
      const reminderIds = await scheduleReminders(trx, env, deps, { meeting: next, reminders: page.reminders, pageName: page.row.name, hostName: host?.name ?? '', connection });
      await trx.updateTable('meetings').set({ reminder_outbox_ids: JSON.stringify(reminderIds) }).where('id', '=', m.id).execute();
      await recordEvent(trx, { accountId: m.account_id, type: 'meeting.rescheduled', subject: { type: 'meeting', id: m.id }, data: { meetingId: m.id, contactId: m.contact_id, from: new Date(Number(m.start_at)).toISOString(), start: new Date(start).toISOString(), end: new Date(end).toISOString() }, at: now });
      await recordAudit(trx, { accountId: m.account_id, actorUserId: null, action: 'meeting.rescheduled', targetType: 'meeting', targetId: m.id, data: { from: Number(m.start_at), to: start }, at: now });
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw slotTaken(slots.filter((s) => s.start > start));
    throw err;
  }
  env.onJobsQueued?.();
  const m = await loadMeeting(env.db, m0.id);
  await syncCalendarEvent(env, m, { pageName: page.row.name, hostName: host?.name ?? '', hostAddress: address });
  return meetingView(await loadMeeting(env.db, m0.id));
}
