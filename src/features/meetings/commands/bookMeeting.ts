import { luxon } from '../../../platform/luxon.js';
import type { CommandEnv, Executor } from '../../../platform/context.js';
import { AppError, invalidRequest } from '../../../platform/errors.js';
import { recordAudit } from '../../../platform/audit.js';
import { recordEvent } from '../../../platform/events.js';
import { isUniqueViolation } from '../../../platform/database/database.js';
import { newId } from '../../../platform/database/ids.js';
import { addressKey } from '../../connections/index.js';
import { appendTimelineEvent } from '../../crm/index.js';
import { bookingBlocks, overlapsAny, mergeIntervals, type Slot } from '../domain/slots.js';
import { signMeetingLink } from '../links.js';
import { bookedIntervals, findOrCreateContact, hostUsers, loadMeeting, meetingsConnectionOf, pageBySlug, type Page } from '../queries.js';
import { linkSecret, queueInvite, scheduleReminders, syncCalendarEvent, type MailDeps } from '../invites.js';
import { meetingView } from '../views.js';
import { ONE_DAY, slotsOf, validZone } from './getBookingPage.js';
import type { MeetingsTable } from '../tables.js';

/** Other features' reaction to a booking, inside the booking transaction (sequences stop, ...). */
export type MeetingBookedHook = (trx: Executor, p: { accountId: string; contactId: string; meetingId: string }, env: CommandEnv) => Promise<void>;

declare module '../../../platform/reactions.js' {
  interface Reactions {
    /** Run when a meeting is booked, inside the booking transaction. */
    meetingBooked: readonly MeetingBookedHook[];
  }
}

export interface BookMeetingInput {
  /** ISO instant of one of the page's slots. */
  start: string;
  name: string;
  email: string;
  /** The visitor's IANA zone (the invitation reads in it). */
  timeZone?: string;
  /** Answers to the page's questions, by question id. */
  answers?: Record<string, string>;
}

/** "This time was just taken", with the next free slots to offer instead. */
export function slotTaken(next: readonly Slot[]): AppError {
  return new AppError(
    'slot_taken',
    409,
    'This time was just taken (or is no longer free). Choose another time.',
    { field: 'start', nextSlots: next.slice(0, 5).map((s) => new Date(s.start).toISOString()) },
    { resolution: 'Pick one of the next free times, or reload the page.' },
  );
}

/**
 * Re-checks, inside the transaction, that none of `hostIds` holds a booking overlapping [start, end) with
 * the page's buffers, nor the page's per-day limit; the blocks' primary key is the last word.
 */
export async function claimTime(trx: Executor, page: Page, hostIds: readonly string[], start: number, end: number, meetingId: string, exceptMeetingId?: string, dialect: 'sqlite' | 'postgres' = 'sqlite'): Promise<boolean> {
  // PostgreSQL: bookings of one host queue behind each other (row locks on the hosts, in id order), so the
  // buffer and per-day checks below see every committed booking. SQLite write transactions already do.
  if (dialect === 'postgres') await trx.selectFrom('users').select('id').where('id', 'in', [...hostIds].sort()).orderBy('id').forUpdate().execute();
  const before = page.rules.bufferBeforeMin! * 60_000;
  const after = page.rules.bufferAfterMin! * 60_000;
  const booked = await bookedIntervals(trx, hostIds, { start: start - ONE_DAY, end: end + ONE_DAY }, exceptMeetingId);
  // Existing bookings hold their buffers too (the same rule as the slots'): the gap is one's after plus the other's before.
  for (const h of hostIds) if (overlapsAny(mergeIntervals((booked.get(h) ?? []).map((b) => ({ start: b.start - before, end: b.end + after }))), start - before, end + after)) return false;
  if (page.rules.maxPerDay != null) {
    const zone = page.availability.timeZone;
    const day = luxon().DateTime.fromMillis(start, { zone }).startOf('day');
    for (const h of hostIds) {
      let q = trx
        .selectFrom('meetings')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('meeting_type_id', '=', page.row.id)
        .where('host_user_id', '=', h)
        .where('status', '=', 'booked')
        .where('start_at', '>=', day.toMillis())
        .where('start_at', '<', day.plus({ days: 1 }).toMillis());
      if (exceptMeetingId) q = q.where('id', '!=', exceptMeetingId);
      const n = Number((await q.executeTakeFirst())?.n ?? 0);
      if (n >= page.rules.maxPerDay) return false;
    }
  }
  const rows = hostIds.flatMap((h) => bookingBlocks(start, end).map((b) => ({ host_user_id: h, block_start: b, meeting_id: meetingId })));
  await trx.insertInto('meeting_blocks').values(rows).execute();
  return true;
}

/**
 * Books a slot of a public page (no sign-in). The slot must be free now: availability is recomputed
 * (bookings and calendars), then the transaction re-checks Mailroom's bookings and claims the time's
 * 5-minute blocks, whose primary key makes a double booking impossible (two tabs, two processes: one
 * wins, the other gets slot_taken with the next free times). In the same transaction: the contact is
 * found or created, the meeting logged on its timeline, the invitation (iTIP REQUEST) queued from the
 * host's meetings mailbox, and the `meetingBooked` reactions run. After commit the event is written to
 * the host's CalDAV calendar when one is connected.
 */
export async function bookMeeting(env: CommandEnv, deps: MailDeps, slug: string, input: BookMeetingInput) {
  const page = await pageBySlug(env.db, slug);
  const start = Date.parse(input.start);
  if (!Number.isFinite(start)) throw invalidRequest('start must be an ISO date-time.', { field: 'start' });
  const name = input.name.replace(/\s+/g, ' ').trim();
  if (!name) throw invalidRequest('Enter your name.', { field: 'name' });
  const email = addressKey(input.email);
  if (!email.ok) throw invalidRequest(`${input.email}: ${email.message}`, { field: 'email' });
  const zone = validZone(input.timeZone);
  const answers: Record<string, string> = {};
  for (const q of page.questions) {
    const a = (input.answers?.[q.id] ?? '').trim().slice(0, 2000);
    if (q.required && !a) throw invalidRequest(`Answer "${q.label}".`, { field: `answers.${q.id}` });
    if (a) answers[q.id] = a;
  }
  const end = start + page.rules.durationMin * 60_000;
  const range = { start: start - ONE_DAY, end: start + 7 * ONE_DAY };
  const { slots } = await slotsOf(env, page, range, { visitorEmail: email.display, fresh: true });
  const slot = slots.find((s) => s.start === start);
  if (!slot) throw slotTaken(slots.filter((s) => s.start > start));
  const organizerId = slot.hostIds[0]!;
  const users = await hostUsers(env.db, page.row.account_id, slot.hostIds);
  const hostName = users.find((u) => u.id === organizerId)?.name ?? '';
  const id = newId('mtg');
  const now = env.now();
  let meeting: MeetingsTable;
  let connectionAddress = '';
  try {
    meeting = await env.db.transaction().execute(async (trx) => {
      const connection = await meetingsConnectionOf(trx, page.row.account_id, organizerId);
      if (!connection) throw slotTaken([]);
      connectionAddress = connection.address;
      if (!(await claimTime(trx, page, slot.hostIds, start, end, id, undefined, env.dialect))) throw slotTaken(slots.filter((s) => s.start > start));
      const contact = await findOrCreateContact(trx, { accountId: page.row.account_id, ownerId: organizerId, email: email.display, name, now });
      const row: MeetingsTable = {
        id,
        account_id: page.row.account_id,
        meeting_type_id: page.row.id,
        host_user_id: organizerId,
        host_user_ids: JSON.stringify(slot.hostIds),
        connection_id: connection.id,
        contact_id: contact.contactId,
        start_at: start,
        end_at: end,
        status: 'booked',
        uid: `${id}@${env.settings.inboundDomain}`,
        sequence: 0,
        visitor_name: name.slice(0, 200),
        visitor_email: email.display,
        visitor_zone: zone,
        answers: JSON.stringify(answers),
        visitor_response: null,
        reminder_outbox_ids: '[]',
        caldav_href: null,
        caldav_error: null,
        created_at: now,
        updated_at: now,
        cancelled_at: null,
      };
      await trx.insertInto('meetings').values(row).execute();
      await appendTimelineEvent(trx, {
        accountId: page.row.account_id,
        contactId: contact.contactId,
        kind: 'meeting',
        occurredAt: start,
        actorUserId: organizerId,
        refType: 'meeting',
        refId: `${id}:booked`,
        data: { event: 'booked', meetingId: id, title: page.row.name, start: new Date(start).toISOString(), end: new Date(end).toISOString(), hostUserIds: slot.hostIds },
      });
      await queueInvite(trx, env, deps, { meeting: row, method: 'REQUEST', pageName: page.row.name, hostName, connection });
      const reminderIds = await scheduleReminders(trx, env, deps, { meeting: row, reminders: page.reminders, pageName: page.row.name, hostName, connection });
      if (reminderIds.length) await trx.updateTable('meetings').set({ reminder_outbox_ids: JSON.stringify(reminderIds) }).where('id', '=', id).execute();
      for (const hook of env.reactions.meetingBooked) await hook(trx, { accountId: page.row.account_id, contactId: contact.contactId, meetingId: id }, env);
      await recordEvent(trx, { accountId: page.row.account_id, type: 'meeting.booked', subject: { type: 'meeting', id }, data: { meetingId: id, meetingTypeId: page.row.id, contactId: contact.contactId, hostUserIds: slot.hostIds, start: new Date(start).toISOString(), end: new Date(end).toISOString() }, at: now });
      await recordAudit(trx, { accountId: page.row.account_id, actorUserId: null, action: 'meeting.booked', targetType: 'meeting', targetId: id, data: { meetingTypeId: page.row.id, hostUserIds: slot.hostIds, contactCreated: contact.created }, at: now });
      return row;
    });
  } catch (err) {
    if (isUniqueViolation(err)) {
      const again = await slotsOf(env, page, range, { visitorEmail: email.display, fresh: true });
      throw slotTaken(again.slots.filter((s) => s.start > start));
    }
    throw err;
  }
  env.onJobsQueued?.();
  await syncCalendarEvent(env, meeting, { pageName: page.row.name, hostName, hostAddress: connectionAddress });
  return { meeting: meetingView(await loadMeeting(env.db, id)), manageToken: signMeetingLink(id, linkSecret(env)) };
}
