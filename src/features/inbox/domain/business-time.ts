/**
 * Business-time arithmetic for service-level targets: "60 business minutes after 16:30 on a Friday" in
 * the inbox's working hours and time zone, skipping nights, days off and pause intervals (a snoozed
 * conversation, one waiting on the customer). Pure: the time-zone rules come from Intl, the clock is an
 * argument.
 *
 * Working hours use the users' format (./working-hours.ts): a time zone and, per weekday, local ranges
 * ("09:00"-"17:00", overnight ranges run into the next day). Each range is turned into UTC instants on its
 * own local date, so a DST change day simply has a shorter or longer night: 09:00-17:00 stays eight
 * business hours on the day the clocks change. No working hours (or unreadable ones) means around the clock.
 */
import { WEEKDAYS, type ParsedWorkingHours } from './working-hours.js';

export interface Interval {
  from: number;
  /** Infinity: still going (a pause that has not ended). */
  to: number;
}

const MINUTE = 60_000;
/** How far ahead working time is looked for before giving up (hours with no working day at all). */
const HORIZON_DAYS = 3 * 366;

const formats = new Map<string, Intl.DateTimeFormat>();
function formatOf(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', hourCycle: 'h23' });
    formats.set(timeZone, f);
  }
  return f;
}

/** The local calendar fields of an instant in a time zone. */
function localFields(at: number, timeZone: string): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
  const parts = formatOf(timeZone).formatToParts(new Date(at));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return { y: get('year'), mo: get('month') - 1, d: get('day'), h: get('hour') % 24, mi: get('minute'), s: get('second') };
}

/** Local time minus UTC at an instant, in ms (Paris in winter: +3,600,000). */
export function zoneOffset(at: number, timeZone: string): number {
  const f = localFields(at, timeZone);
  return Date.UTC(f.y, f.mo, f.d, f.h, f.mi, f.s) - Math.floor(at / 1000) * 1000;
}

/**
 * The instant of a local wall-clock time (`minute` after midnight of the local date y-mo-d; 1440 is the
 * next midnight). A time skipped by a DST change (02:30 on a spring-forward night) maps to the instant
 * the same distance after the change; a repeated one (autumn) to its first occurrence.
 */
export function localToInstant(y: number, mo: number, d: number, minute: number, timeZone: string): number {
  const wall = Date.UTC(y, mo, d, 0, minute);
  // The same few local dates and times come back for every conversation of an inbox: Intl is the cost (measured
  // 0.6-1.6 ms per due time uncached, 0.09-0.19 ms cached, Paris hours, 2026-12-06), so answers are kept (a bounded
  // cache of a pure function of its arguments).
  const key = `${timeZone}|${wall}`;
  const known = instants.get(key);
  if (known !== undefined) return known;
  const answer = computeInstant(wall, timeZone);
  if (instants.size >= 20_000) instants.clear();
  instants.set(key, answer);
  return answer;
}

const instants = new Map<string, number>();

function computeInstant(wall: number, timeZone: string): number {
  const first = wall - zoneOffset(wall, timeZone);
  const second = wall - zoneOffset(first, timeZone);
  const valid = [first, second].filter((u) => u + zoneOffset(u, timeZone) === wall);
  // In a gap neither candidate reads back as the wall time: the later one is the time after the change.
  return valid.length ? Math.min(...valid) : Math.max(first, second);
}

/**
 * Working intervals (UTC ms, in order, overlaps merged) from `from` on; open-ended for "always".
 * Stops after HORIZON_DAYS.
 */
export function* workingIntervals(hours: ParsedWorkingHours, from: number): Generator<Interval> {
  if (hours.kind !== 'hours') {
    yield { from, to: Infinity };
    return;
  }
  let any = false;
  for (const ranges of hours.days.values()) if (ranges.length) any = true;
  if (!any) return;
  // Start a day early: yesterday's overnight range may still be running.
  const start = localFields(from - 24 * 3600_000, hours.timezone);
  let pending: Interval | null = null;
  for (let i = 0; i < HORIZON_DAYS; i++) {
    const date = new Date(Date.UTC(start.y, start.mo, start.d + i));
    const y = date.getUTCFullYear();
    const mo = date.getUTCMonth();
    const d = date.getUTCDate();
    const ranges = [...(hours.days.get(WEEKDAYS[date.getUTCDay()]!) ?? [])].sort((a, b) => a[0] - b[0]);
    for (const [s, e] of ranges) {
      const a = localToInstant(y, mo, d, s, hours.timezone);
      const b = localToInstant(y, mo, d, e > s ? e : e + 24 * 60, hours.timezone);
      if (b <= from || b <= a) continue;
      const piece = { from: Math.max(a, from), to: b };
      if (pending && piece.from <= pending.to) pending.to = Math.max(pending.to, piece.to);
      else {
        if (pending) yield pending;
        pending = piece;
      }
    }
  }
  if (pending) yield pending;
}

/** The parts of `span` outside every pause (pauses sorted or not, overlapping or not). */
function withoutPauses(span: Interval, pauses: readonly Interval[]): Interval[] {
  let pieces: Interval[] = [span];
  for (const p of pauses) {
    const next: Interval[] = [];
    for (const s of pieces) {
      if (p.to <= s.from || p.from >= s.to) next.push(s);
      else {
        if (p.from > s.from) next.push({ from: s.from, to: p.from });
        if (p.to < s.to) next.push({ from: p.to, to: s.to });
      }
    }
    pieces = next;
  }
  return pieces.sort((a, b) => a.from - b.from);
}

/**
 * The instant `minutes` of business time after `start`: working time only, minus the pauses (each pause
 * moves the result by the business time it covered). Null when it never comes: a pause that has not ended
 * takes the rest of time, or the working hours have no working day at all.
 */
export function addBusinessMinutes(hours: ParsedWorkingHours, start: number, minutes: number, pauses: readonly Interval[] = []): number | null {
  let remaining = Math.max(0, minutes) * MINUTE;
  if (remaining === 0) return start;
  const endless = pauses.filter((p) => p.to === Infinity).reduce((m, p) => Math.min(m, p.from), Infinity);
  for (const span of workingIntervals(hours, start)) {
    if (span.from >= endless) return null;
    for (const piece of withoutPauses(span, pauses)) {
      if (piece.to - piece.from >= remaining) return piece.from + remaining;
      remaining -= piece.to - piece.from;
    }
  }
  return null;
}

/** Business minutes between two instants (working time in [a, b), minus the pauses); 0 when b <= a. */
export function businessMinutesBetween(hours: ParsedWorkingHours, a: number, b: number, pauses: readonly Interval[] = []): number {
  if (b <= a) return 0;
  let total = 0;
  for (const span of workingIntervals(hours, a)) {
    if (span.from >= b) break;
    for (const piece of withoutPauses({ from: span.from, to: Math.min(span.to, b) }, pauses)) total += piece.to - piece.from;
    if (span.to >= b) break;
  }
  return total / MINUTE;
}
