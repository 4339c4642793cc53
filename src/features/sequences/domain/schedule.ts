/**
 * When a sequence step is due: a pure function of the sequence's calendar (time zone, send window,
 * weekdays, holidays), the enrollment's time of day and the previous step's due time. Business-day
 * delays keep the enrollment's wall-clock time of day in the time zone (DST-correct: 09:30 stays 09:30
 * across a change of offset); hour delays are elapsed time. A time outside the send window or on a
 * non-working day moves to the next allowed slot (the window's start of the next working day).
 */
import type { DateTime } from 'luxon';
import { luxon } from '../../../platform/luxon.js';

export interface Calendar {
  /** IANA zone: the contact's, else the owner's, else the sequence's. */
  zone: string;
  /** Minutes after local midnight: [start, end). */
  windowStart: number;
  windowEnd: number;
  /** ISO weekdays that are working days (1 = Monday ... 7 = Sunday). */
  weekdays: readonly number[];
  /** Non-working dates, `yyyy-mm-dd` (local). */
  holidays: ReadonlySet<string>;
}

export type Delay = { unit: 'business_days'; value: number } | { unit: 'hours'; value: number };

export const MAX_BUSINESS_DAYS = 90;
export const MAX_DELAY_HOURS = 90 * 24;

export function isValidZone(zone: string): boolean {
  return luxon().IANAZone.isValidZone(zone);
}

/** `HH:MM` → minutes after midnight, or null. */
export function parseClock(s: string): number | null {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(s);
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}
export const formatClock = (min: number) => `${String(Math.floor(min / 60)).padStart(2, '0')}:${String(min % 60).padStart(2, '0')}`;

function isWorkingDay(cal: Calendar, d: DateTime): boolean {
  return cal.weekdays.includes(d.weekday) && !cal.holidays.has(d.toISODate()!);
}

/** Local wall-clock time `minutes` on the date of `d` (a skipped DST hour moves forward, as clocks do). */
function atMinutes(d: DateTime, minutes: number): DateTime {
  return d.set({ hour: Math.floor(minutes / 60), minute: minutes % 60, second: 0, millisecond: 0 });
}

/** The first instant >= t that is on a working day inside the window. */
export function nextAllowedSlot(cal: Calendar, tMs: number): number {
  if (!cal.weekdays.length) throw new Error('A calendar needs at least one working weekday.');
  let d: DateTime = luxon().DateTime.fromMillis(tMs, { zone: cal.zone });
  for (let i = 0; i < 800; i++) {
    const minutes = d.hour * 60 + d.minute;
    if (isWorkingDay(cal, d)) {
      if (minutes < cal.windowStart) return atMinutes(d, cal.windowStart).toMillis();
      if (minutes < cal.windowEnd) return d.toMillis();
    }
    d = atMinutes(d.plus({ days: 1 }).startOf('day'), cal.windowStart);
    if (isWorkingDay(cal, d)) return d.toMillis();
  }
  throw new Error('No working day within two years: check the weekdays and holidays.');
}

/** `n` working days after the local date of `d` (0: the same date). */
function addBusinessDays(cal: Calendar, d: DateTime, n: number): DateTime {
  let out: DateTime = d;
  let left = n;
  let guard = 0;
  while (left > 0 && guard++ < 2000) {
    out = out.plus({ days: 1 });
    if (isWorkingDay(cal, out)) left--;
  }
  return out;
}

/**
 * The due time of a step: `delay` after the previous step was due (the enrollment itself for the first
 * step), business days at the enrollment's local time of day, then moved into the next allowed slot.
 */
export function stepDueAt(cal: Calendar, p: { enrolledAt: number; previousDueAt: number; delay: Delay }): number {
  if (p.delay.unit === 'hours') return nextAllowedSlot(cal, p.previousDueAt + p.delay.value * 3600_000);
  const enrolled = luxon().DateTime.fromMillis(p.enrolledAt, { zone: cal.zone });
  const timeOfDay = enrolled.hour * 60 + enrolled.minute;
  const prev = luxon().DateTime.fromMillis(p.previousDueAt, { zone: cal.zone });
  if (p.delay.value === 0) return nextAllowedSlot(cal, p.previousDueAt);
  const day = addBusinessDays(cal, prev, p.delay.value);
  return nextAllowedSlot(cal, atMinutes(day.startOf('day'), timeOfDay).toMillis());
}

/** Resume after an out-of-office: one working day after the stated return date, at the enrollment's time of day. */
export function resumeAfterReturn(cal: Calendar, p: { enrolledAt: number; returnDate: string }): number {
  const ret = luxon().DateTime.fromISO(p.returnDate, { zone: cal.zone });
  const enrolled = luxon().DateTime.fromMillis(p.enrolledAt, { zone: cal.zone });
  const day = addBusinessDays(cal, ret.startOf('day'), 1);
  return nextAllowedSlot(cal, atMinutes(day, enrolled.hour * 60 + enrolled.minute).toMillis());
}

/** The local date of an instant, `yyyy-mm-dd`. */
export function localDate(ms: number, zone: string): string {
  return luxon().DateTime.fromMillis(ms, { zone }).toISODate()!;
}

/** The owner's time zone, from their working hours (`users.working_hours`: JSON with `timezone`), when valid. */
export function zoneOfWorkingHours(json: string | null): string | null {
  if (!json) return null;
  try {
    const z = (JSON.parse(json) as { timezone?: unknown }).timezone;
    return typeof z === 'string' && isValidZone(z) ? z : null;
  } catch {
    return null;
  }
}
