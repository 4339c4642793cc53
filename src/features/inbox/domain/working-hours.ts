/**
 * Working hours of a user, as stored in `users.working_hours` (JSON), and whether a moment falls inside
 * them in the user's own time zone. Pure: the clock is an argument; time-zone rules come from Intl.
 *
 *   {"timezone": "Europe/Paris", "days": {"mon": [["09:00", "17:00"]], "tue": [["09:00", "12:00"], ["13:00", "17:00"]]}}
 *
 * - No working hours at all (null) means "always working".
 * - A day that is missing or has an empty list is a day off.
 * - A range whose end is not after its start runs overnight: ["22:00", "06:00"] on Monday covers Monday
 *   22:00 to Tuesday 06:00. "24:00" is allowed as an end.
 * - An unknown time zone, or ranges that cannot be read, make the whole value unreadable: routing then
 *   treats the user as always working and says so in its decision (a typo must not silently stop routing).
 */

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface WorkingHours {
  timezone: string;
  days: Partial<Record<Weekday, Array<[string, string]>>>;
}

export type ParsedWorkingHours = { kind: 'always' } | { kind: 'hours'; timezone: string; days: Map<Weekday, Array<[number, number]>> } | { kind: 'unreadable'; problem: string };

const TIME = /^([01]?\d|2[0-4]):([0-5]\d)$/;

/** Minutes since midnight of "HH:MM" (00:00 to 24:00), or null. */
export function minutesOf(hhmm: string): number | null {
  const m = TIME.exec(typeof hhmm === 'string' ? hhmm.trim() : '');
  if (!m) return null;
  const v = Number(m[1]) * 60 + Number(m[2]);
  return v > 24 * 60 ? null : v;
}

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Reads the stored JSON (a string, an object or null). */
export function parseWorkingHours(value: unknown): ParsedWorkingHours {
  if (value === null || value === undefined || value === '') return { kind: 'always' };
  let v = value;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      return { kind: 'unreadable', problem: 'not JSON' };
    }
  }
  if (!v || typeof v !== 'object') return { kind: 'unreadable', problem: 'not an object' };
  const o = v as { timezone?: unknown; days?: unknown };
  const timezone = typeof o.timezone === 'string' && o.timezone.trim() ? o.timezone.trim() : 'UTC';
  if (!isValidTimeZone(timezone)) return { kind: 'unreadable', problem: `unknown time zone "${timezone}"` };
  if (!o.days || typeof o.days !== 'object') return { kind: 'unreadable', problem: 'no "days"' };
  const days = new Map<Weekday, Array<[number, number]>>();
  for (const [key, ranges] of Object.entries(o.days as Record<string, unknown>)) {
    const day = key.toLowerCase().slice(0, 3) as Weekday;
    if (!WEEKDAYS.includes(day)) return { kind: 'unreadable', problem: `unknown day "${key}"` };
    if (!Array.isArray(ranges)) return { kind: 'unreadable', problem: `"${key}" is not a list of ranges` };
    const list: Array<[number, number]> = [];
    for (const r of ranges) {
      if (!Array.isArray(r) || r.length !== 2) return { kind: 'unreadable', problem: `a range of "${key}" is not ["HH:MM", "HH:MM"]` };
      const a = minutesOf(String(r[0]));
      const b = minutesOf(String(r[1]));
      if (a === null || b === null || a === 24 * 60) return { kind: 'unreadable', problem: `a range of "${key}" has a time that is not HH:MM` };
      list.push([a, b]);
    }
    days.set(day, list);
  }
  return { kind: 'hours', timezone, days };
}

/** The weekday and minute of the day of `at` in `timeZone`. */
export function localTime(at: Date, timeZone: string): { day: Weekday; minute: number } {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  const day = get('weekday').toLowerCase().slice(0, 3) as Weekday;
  const minute = Number(get('hour')) * 60 + Number(get('minute'));
  return { day, minute };
}

/** Is `at` inside the working hours? Unreadable values count as working (see the module note). */
export function isWithinWorkingHours(hours: ParsedWorkingHours, at: Date): boolean {
  if (hours.kind !== 'hours') return true;
  const { day, minute } = localTime(at, hours.timezone);
  for (const [start, end] of hours.days.get(day) ?? []) {
    if (end > start ? minute >= start && minute < end : minute >= start) return true;
  }
  // Overnight ranges of the day before that run into today.
  const yesterday = WEEKDAYS[(WEEKDAYS.indexOf(day) + 6) % 7]!;
  for (const [start, end] of hours.days.get(yesterday) ?? []) {
    if (end <= start && minute < end) return true;
  }
  return false;
}
