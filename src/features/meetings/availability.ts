/**
 * Gathers what the slot rules need for each host of a page, from three sources merged: Mailroom's own
 * bookings (every page of the host), the host's CalDAV calendar when one is connected, and invitations
 * the host sent or accepted by email (seen in their synced personal mail); and whether the host can host
 * at all (active, with a personal meetings connection). A host whose calendar cannot be
 * read is UNAVAILABLE (no slots) and the calendar row records why, so the host is told; never "free".
 */
import type { CommandEnv } from '../../platform/context.js';
import { CalendarUnreadable, readBusy, type CalDavAccount } from './caldav.js';
import { notifyUsers } from '../notifications/index.js';
import type { HostInput, Interval } from './domain/slots.js';
import { bookedIntervals, calendarRowOf, hostUsers, mailInvitationsOf, meetingsConnectionOf, pageBookings, type Page } from './queries.js';
import { busyFromICalendar } from './ical.js';
import type { MeetingCalendarsTable } from './tables.js';

export interface HostState {
  input: HostInput;
  /** Why the host has no slots, when they have none for a reason (shown to the host, not the visitor). */
  problem: 'no_meetings_connection' | 'user_not_active' | 'calendar_unreadable' | null;
}

export function calendarAccount(env: CommandEnv, row: MeetingCalendarsTable): CalDavAccount {
  return { serverUrl: row.server_url, username: row.username, password: env.secrets.open(row.credentials), calendarUrl: row.calendar_url };
}

/**
 * Busy times read from CalDAV, kept a minute per (host, calendar, credentials, range, zone): a public
 * booking page viewed by many visitors reads the host's calendar once a minute, not once a view, and a
 * calendar server that is down is not asked again by every view. Failures are kept too (the same error
 * is thrown). Booking always reads fresh (`fresh: true`), so a slot taken on the calendar a second ago is
 * refused at the moment it matters. Mailroom's own bookings never come from here (they are read from the
 * database on every view).
 */
const BUSY_TTL_MS = 60_000;
const BUSY_CACHE_MAX = 1_000;
const busyCache = new Map<string, { at: number; busy?: Interval[]; error?: unknown }>();

async function cachedBusy(key: string, fresh: boolean, read: () => Promise<Interval[]>): Promise<Interval[]> {
  const now = performance.now();
  const hit = fresh ? undefined : busyCache.get(key);
  if (hit && now - hit.at < BUSY_TTL_MS) {
    if (hit.busy) return hit.busy;
    throw hit.error;
  }
  busyCache.delete(key);
  if (busyCache.size >= BUSY_CACHE_MAX) busyCache.delete(busyCache.keys().next().value as string);
  try {
    const busy = await read();
    busyCache.set(key, { at: now, busy });
    return busy;
  } catch (error) {
    busyCache.set(key, { at: now, error });
    throw error;
  }
}

/** Each host's input for `pageSlots` over `range` (plus the page's bookings for limits and load). */
export async function gatherHosts(env: CommandEnv, page: Page, range: Interval, opts: { exceptMeetingId?: string; fresh?: boolean } = {}): Promise<{ hosts: HostState[]; loadByHost: Record<string, number> }> {
  const db = env.db;
  const accountId = page.row.account_id;
  const users = new Map((await hostUsers(db, accountId, page.hostUserIds)).map((u) => [u.id, u]));
  const booked = await bookedIntervals(db, page.hostUserIds, range, opts.exceptMeetingId);
  const own = await pageBookings(db, page.row.id, range);
  const loadByHost: Record<string, number> = {};
  for (const b of own) loadByHost[b.hostUserId] = (loadByHost[b.hostUserId] ?? 0) + 1;
  const before = (page.rules.bufferBeforeMin ?? 0) * 60_000;
  const after = (page.rules.bufferAfterMin ?? 0) * 60_000;
  const hosts = await Promise.all(
    page.hostUserIds.map(async (hostId): Promise<HostState> => {
      // A booking holds its own time and its buffers (so the next one keeps the gap after it, and before it).
      const held = (booked.get(hostId) ?? []).map((b) => ({ start: b.start - before, end: b.end + after }));
      const base: HostInput = { hostId, availability: page.availability, busy: held, bookedStarts: own.filter((b) => b.hostUserId === hostId).map((b) => b.start) };
      const user = users.get(hostId);
      if (!user || user.state !== 'active') return { input: { ...base, unavailable: true }, problem: 'user_not_active' };
      if (!(await meetingsConnectionOf(db, accountId, hostId))) return { input: { ...base, unavailable: true }, problem: 'no_meetings_connection' };
      // Invitations the host sent or accepted by email (each read on its own: one bad text spoils nothing).
      const wide = { start: range.start - 24 * 3_600_000, end: range.end + 24 * 3_600_000 };
      for (const ics of await mailInvitationsOf(db, hostId)) {
        try {
          base.busy = [...base.busy, ...busyFromICalendar([ics], wide, page.availability.timeZone)];
        } catch {
          // Stored from mail as it came; an unreadable one blocks nothing.
        }
      }
      const cal = await calendarRowOf(db, hostId);
      if (!cal) return { input: base, problem: null };
      const now = env.now();
      try {
        const wideRange = { start: range.start - 24 * 3_600_000, end: range.end + 24 * 3_600_000 };
        const key = [hostId, cal.server_url, cal.calendar_url ?? '', cal.username, cal.credentials, cal.updated_at, wideRange.start, wideRange.end, page.availability.timeZone].join('\u0000');
        const busy = await cachedBusy(key, opts.fresh === true, () => readBusy(calendarAccount(env, cal), wideRange, page.availability.timeZone));
        if (cal.last_error !== null) await db.updateTable('meeting_calendars').set({ last_error: null, last_checked_at: now }).where('user_id', '=', hostId).execute();
        return { input: { ...base, busy: [...base.busy, ...busy] }, problem: null };
      } catch (err) {
        const message = err instanceof CalendarUnreadable ? err.message : `The calendar could not be read: ${(err as Error).message}`;
        if (cal.last_error !== null) {
          await db.updateTable('meeting_calendars').set({ last_error: message.slice(0, 500), last_checked_at: now }).where('user_id', '=', hostId).execute();
        } else {
          // Readable until now: the host is told once (a notification, and its email digest when enabled),
          // whoever's page view noticed it first (the conditional update decides).
          await db.transaction().execute(async (trx) => {
            const r = await trx.updateTable('meeting_calendars').set({ last_error: message.slice(0, 500), last_checked_at: now }).where('user_id', '=', hostId).where('last_error', 'is', null).executeTakeFirst();
            if (Number(r.numUpdatedRows) !== 1) return;
            await notifyUsers(trx, {
              accountId,
              userIds: [hostId],
              kind: 'meeting_calendar_unreadable',
              message: `Your calendar at ${cal.server_url} could not be read (${message.slice(0, 200)}). Until it can, your booking pages offer no times: check it in Settings → Meetings.`,
              data: { serverUrl: cal.server_url },
              at: now,
            });
          });
        }
        return { input: { ...base, unavailable: true }, problem: 'calendar_unreadable' };
      }
    }),
  );
  return { hosts, loadByHost };
}
