/**
 * Time-zone arithmetic on IANA zones, pure (the runtime's Intl time-zone data, no package): the wall clock
 * of an instant in a zone, and the instant of a wall-clock time in a zone ON THAT DATE (its own offset, so a
 * DST change never shifts a time by an hour). A wall time that does not exist (the hour skipped in spring)
 * moves forward by the gap (02:30 -> 03:30 in New York); a repeated one (autumn) is its first occurrence.
 */

export interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(zone, f);
  }
  return f;
}

export function isValidZone(zone: string): boolean {
  if (!zone) return false;
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** The wall clock of `ms` in `zone` (seconds dropped). */
export function wallOf(ms: number, zone: string): Wall & { second: number } {
  const p: Record<string, number> = {};
  for (const part of formatter(zone).formatToParts(new Date(ms))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return { year: p.year!, month: p.month!, day: p.day!, hour: p.hour! % 24, minute: p.minute!, second: p.second! };
}

/** UTC offset of `zone` at instant `ms`, in ms (east positive). */
export function offsetAt(ms: number, zone: string): number {
  const w = wallOf(ms, zone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - (Math.floor(ms / 1000) * 1000);
}

const sameWall = (a: Wall, b: Wall) => a.year === b.year && a.month === b.month && a.day === b.day && a.hour === b.hour && a.minute === b.minute;

/** The instant of a wall-clock time in `zone` (hour 24 = midnight of the next day). */
export function instantOf(w: Wall, zone: string): number {
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute);
  const want = wallOf(asUtc, 'UTC');
  const before = offsetAt(asUtc - 36 * 3_600_000, zone);
  const after = offsetAt(asUtc + 36 * 3_600_000, zone);
  const candidates = [...new Set([before, after, offsetAt(asUtc, zone)])].map((o) => asUtc - o).sort((a, b) => a - b);
  const exact = candidates.find((t) => sameWall(wallOf(t, zone), want));
  if (exact !== undefined) return exact;
  // Skipped by a change (spring forward): the same wall time read with the offset before the change.
  return asUtc - before;
}

/** "YYYY-MM-DD" of a wall date. */
export function isoDate(w: { year: number; month: number; day: number }): string {
  return `${String(w.year).padStart(4, '0')}-${String(w.month).padStart(2, '0')}-${String(w.day).padStart(2, '0')}`;
}

/** Parses "YYYY-MM-DD" (null when it is not a real date). */
export function parseDate(s: string): { year: number; month: number; day: number } | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day ? { year, month, day } : null;
}

/** A calendar date plus `days` (calendar arithmetic, no zone). */
export function addDays(d: { year: number; month: number; day: number }, days: number): { year: number; month: number; day: number } {
  const t = new Date(Date.UTC(d.year, d.month - 1, d.day + days));
  return { year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate() };
}

/** ISO weekday of a calendar date: 1 = Monday ... 7 = Sunday. */
export function weekdayOf(d: { year: number; month: number; day: number }): number {
  const w = new Date(Date.UTC(d.year, d.month - 1, d.day)).getUTCDay();
  return w === 0 ? 7 : w;
}

/** The instant local midnight of a date begins in `zone`. */
export function startOfDay(d: { year: number; month: number; day: number }, zone: string): number {
  return instantOf({ ...d, hour: 0, minute: 0 }, zone);
}

/** "HH:mm" of an instant in `zone`. */
export function hhmm(ms: number, zone: string): string {
  const w = wallOf(ms, zone);
  return `${String(w.hour).padStart(2, '0')}:${String(w.minute).padStart(2, '0')}`;
}
