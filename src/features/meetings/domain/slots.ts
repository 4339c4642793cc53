/**
 * Slot computation: a pure function of (the page's rules, each host's weekly hours and busy times, now).
 *
 * DST-correct by construction: a host's hours are wall-clock times in the host's IANA time zone, turned
 * into instants day by day (zones.ts, with that day's offset), never "09:00 UTC+offset-of-today" carried
 * over to other days. Slots are instants (epoch ms); the visitor's zone only changes how they are shown
 * (`groupSlotsByDay`). Stepping inside one interval is in absolute time, so a night that loses or gains
 * an hour yields exactly the slots that exist that night.
 */
import { addDays, hhmm, instantOf, isoDate, isValidZone, parseDate, startOfDay, wallOf, weekdayOf } from './zones.js';

/** A wall-clock range in a day, "HH:mm" (end may be "24:00"). */
export interface TimeRange {
  start: string;
  end: string;
}

/** Weekly hours: ISO weekday (1 = Monday ... 7 = Sunday) -> ranges. A missing day is a day off. */
export type WeeklyHours = Partial<Record<'1' | '2' | '3' | '4' | '5' | '6' | '7', TimeRange[]>>;

/** A date whose hours replace the weekly ones (empty ranges: unavailable that day). */
export interface DateOverride {
  date: string;
  ranges: TimeRange[];
}

export interface HostAvailability {
  timeZone: string;
  weekly: WeeklyHours;
  overrides?: DateOverride[];
}

export type BookingWindow = { kind: 'rolling'; days: number } | { kind: 'range'; start: string; end: string };

export interface SlotRules {
  durationMin: number;
  /** Step between slot starts; default the duration. */
  intervalMin?: number;
  /** Default 120. */
  minNoticeMin?: number;
  bufferBeforeMin?: number;
  bufferAfterMin?: number;
  window: BookingWindow;
  /** Bookings per host per day (host's local day); null/undefined: no limit. */
  maxPerDay?: number | null;
}

/** Half-open [start, end), epoch ms. */
export interface Interval {
  start: number;
  end: number;
}

export interface HostInput {
  hostId: string;
  availability: HostAvailability;
  /** Calendar events, invitations and Mailroom bookings: every time the host is taken. */
  busy: readonly Interval[];
  /** Starts of this page's bookings of the host (for the per-day limit). */
  bookedStarts?: readonly number[];
  /** The host's calendar could not be read: no slots at all (never "always free"). */
  unavailable?: boolean;
}

export const DEFAULT_MIN_NOTICE_MIN = 120;
const MINUTE = 60_000;
/** Bookings are stored in blocks of this size (the double-booking constraint): starts and durations are multiples. */
export const BLOCK_MIN = 5;

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/;

export function parseHhmm(s: string): number {
  if (!HHMM.test(s)) throw new Error(`Invalid time "${s}" (HH:mm)`);
  const [h, m] = s.split(':').map(Number) as [number, number];
  return h * 60 + m;
}

/** Problems with a page's rules, or [] (each names the field). */
export function checkRules(rules: SlotRules, availability?: HostAvailability): Array<{ field: string; reason: string }> {
  const out: Array<{ field: string; reason: string }> = [];
  const mult = (v: number | undefined, field: string, min: number, max: number) => {
    if (v === undefined) return;
    if (!Number.isInteger(v) || v < min || v > max) out.push({ field, reason: `must be a whole number from ${min} to ${max}` });
    else if (v % BLOCK_MIN !== 0) out.push({ field, reason: `must be a multiple of ${BLOCK_MIN} minutes` });
  };
  mult(rules.durationMin, 'durationMin', 5, 24 * 60);
  mult(rules.intervalMin, 'intervalMin', 5, 24 * 60);
  mult(rules.bufferBeforeMin, 'bufferBeforeMin', 0, 24 * 60);
  mult(rules.bufferAfterMin, 'bufferAfterMin', 0, 24 * 60);
  if (rules.minNoticeMin !== undefined && (!Number.isInteger(rules.minNoticeMin) || rules.minNoticeMin < 0 || rules.minNoticeMin > 365 * 24 * 60)) out.push({ field: 'minNoticeMin', reason: 'must be a whole number of minutes, 0 or more' });
  if (rules.maxPerDay != null && (!Number.isInteger(rules.maxPerDay) || rules.maxPerDay < 1)) out.push({ field: 'maxPerDay', reason: 'must be 1 or more' });
  if (rules.window.kind === 'rolling') {
    if (!Number.isInteger(rules.window.days) || rules.window.days < 1 || rules.window.days > 730) out.push({ field: 'window.days', reason: 'must be from 1 to 730' });
  } else {
    const a = parseDate(rules.window.start);
    const b = parseDate(rules.window.end);
    if (!a || !b || rules.window.end < rules.window.start) out.push({ field: 'window', reason: 'needs a start and an end date (YYYY-MM-DD), the end not before the start' });
  }
  if (availability) {
    if (!isValidZone(availability.timeZone)) out.push({ field: 'timeZone', reason: 'is not an IANA time zone' });
    const ranges = (field: string, rs: TimeRange[]) => {
      for (const r of rs) {
        try {
          if (parseHhmm(r.end) <= parseHhmm(r.start)) out.push({ field, reason: `${r.start}-${r.end} ends before it starts` });
        } catch {
          out.push({ field, reason: `${r.start}-${r.end} is not HH:mm-HH:mm` });
        }
      }
    };
    for (const [day, rs] of Object.entries(availability.weekly)) {
      if (!/^[1-7]$/.test(day)) out.push({ field: `weekly.${day}`, reason: 'weekdays are 1 (Monday) to 7 (Sunday)' });
      ranges(`weekly.${day}`, rs ?? []);
    }
    for (const o of availability.overrides ?? []) {
      if (!parseDate(o.date)) out.push({ field: 'overrides', reason: `${o.date} is not a date` });
      ranges(`overrides.${o.date}`, o.ranges);
    }
  }
  return out;
}

/** Sorted, merged copy of intervals (for binary search). */
export function mergeIntervals(list: readonly Interval[]): Interval[] {
  const sorted = list.filter((i) => i.end > i.start).sort((a, b) => a.start - b.start);
  const out: Interval[] = [];
  for (const i of sorted) {
    const last = out[out.length - 1];
    if (last && i.start <= last.end) last.end = Math.max(last.end, i.end);
    else out.push({ start: i.start, end: i.end });
  }
  return out;
}

/** Does [start, end) overlap any of the merged, sorted intervals? O(log n). */
export function overlapsAny(merged: readonly Interval[], start: number, end: number): boolean {
  let lo = 0;
  let hi = merged.length;
  // first interval whose end > start
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (merged[mid]!.end > start) hi = mid;
    else lo = mid + 1;
  }
  const i = merged[lo];
  return i !== undefined && i.start < end;
}

type Day = { year: number; month: number; day: number };

/** The instant of a wall-clock minute-of-day on a local date in `zone` (a skipped time moves forward). */
function at(date: Day, minuteOfDay: number, zone: string): number {
  if (minuteOfDay === 24 * 60) return startOfDay(addDays(date, 1), zone);
  return instantOf({ ...date, hour: Math.floor(minuteOfDay / 60), minute: minuteOfDay % 60 }, zone);
}

const dayOf = (ms: number, zone: string): Day => {
  const w = wallOf(ms, zone);
  return { year: w.year, month: w.month, day: w.day };
};

/** The [start, end) instants of the booking window, in the host's zone. */
export function windowBounds(window: BookingWindow, now: number, zone: string): Interval {
  if (window.kind === 'rolling') return { start: now, end: startOfDay(addDays(dayOf(now, zone), window.days), zone) };
  const a = parseDate(window.start);
  const b = parseDate(window.end);
  if (!a || !b) return { start: 0, end: 0 };
  return { start: startOfDay(a, zone), end: startOfDay(addDays(b, 1), zone) };
}

/** Instants of wall-clock times already computed (hosts of one page share a zone and hours). */
export type InstantCache = Map<string, number>;

function cachedAt(cache: InstantCache | undefined, date: Day, iso: string, minuteOfDay: number, zone: string): number {
  if (!cache) return at(date, minuteOfDay, zone);
  const key = `${zone}|${iso}|${minuteOfDay}`;
  let v = cache.get(key);
  if (v === undefined) {
    v = at(date, minuteOfDay, zone);
    cache.set(key, v);
  }
  return v;
}

/** One host's free slot starts, ascending. */
export function hostSlots(rules: SlotRules, host: HostInput, now: number, limit?: Interval, cache?: InstantCache): number[] {
  if (host.unavailable) return [];
  const zone = host.availability.timeZone;
  const duration = rules.durationMin * MINUTE;
  const step = (rules.intervalMin ?? rules.durationMin) * MINUTE;
  const before = (rules.bufferBeforeMin ?? 0) * MINUTE;
  const after = (rules.bufferAfterMin ?? 0) * MINUTE;
  const earliest = now + (rules.minNoticeMin ?? DEFAULT_MIN_NOTICE_MIN) * MINUTE;
  const w = windowBounds(rules.window, now, zone);
  const from = Math.max(w.start, earliest, limit?.start ?? -Infinity);
  const to = Math.min(w.end, limit?.end ?? Infinity);
  if (from >= to) return [];
  const busy = mergeIntervals(host.busy);
  const overrides = new Map((host.availability.overrides ?? []).map((o) => [o.date, o.ranges]));
  const perDay = new Map<string, number>();
  if (rules.maxPerDay != null) {
    for (const s of host.bookedStarts ?? []) {
      const d = isoDate(dayOf(s, zone));
      perDay.set(d, (perDay.get(d) ?? 0) + 1);
    }
  }
  const out: number[] = [];
  // Local days that may hold a slot: one before `from` (a range may run past midnight in instants) to `to`.
  let day = addDays(dayOf(from, zone), -1);
  const lastDay = isoDate(dayOf(to, zone));
  for (let iso = isoDate(day); iso <= lastDay; day = addDays(day, 1), iso = isoDate(day)) {
    if (rules.maxPerDay == null || (perDay.get(iso) ?? 0) < rules.maxPerDay) {
      const ranges = overrides.get(iso) ?? host.availability.weekly[String(weekdayOf(day)) as '1'] ?? [];
      for (const r of ranges) {
        const rs = cachedAt(cache, day, iso, parseHhmm(r.start), zone);
        const re = cachedAt(cache, day, iso, parseHhmm(r.end), zone);
        for (let s = rs; s + duration <= re; s += step) {
          if (s < from || s + duration > to) continue;
          if (overlapsAny(busy, s - before, s + duration + after)) continue;
          out.push(s);
        }
      }
    }
  }
  return [...new Set(out)].sort((a, b) => a - b);
}

export type PageKind = 'single' | 'group' | 'round_robin';

export interface Slot {
  start: number;
  end: number;
  /** Who would host it: every host (group), the one chosen (round robin), the one host (single). */
  hostIds: string[];
}

export interface PageSlotsInput {
  kind: PageKind;
  rules: SlotRules;
  hosts: readonly HostInput[];
  now: number;
  /** Round robin: the contact owner, chosen when free. */
  preferredHostId?: string | null;
  /** Round robin: bookings each host already has (the least loaded is chosen). */
  loadByHost?: Readonly<Record<string, number>>;
  /** Only slots inside this range (e.g. the days the visitor is looking at). */
  limit?: Interval;
}

/**
 * The page's slots. single: the host's. group: starts at which every host is free (a host that cannot be
 * read removes every slot). round_robin: starts at which any host is free, with the host who gets it
 * (the preferred one if free, else the least loaded, ties by host order).
 */
export function pageSlots(p: PageSlotsInput): Slot[] {
  const duration = p.rules.durationMin * MINUTE;
  if (!p.hosts.length) return [];
  const cache: InstantCache = new Map();
  const per = p.hosts.map((h) => ({ id: h.hostId, starts: hostSlots(p.rules, h, p.now, p.limit, cache) }));
  if (p.kind === 'single') return per[0]!.starts.map((s) => ({ start: s, end: s + duration, hostIds: [per[0]!.id] }));
  if (p.kind === 'group') {
    const [first, ...rest] = per;
    const sets = rest.map((r) => new Set(r.starts));
    return first!.starts.filter((s) => sets.every((set) => set.has(s))).map((s) => ({ start: s, end: s + duration, hostIds: per.map((h) => h.id) }));
  }
  const free = new Map<number, string[]>();
  for (const h of per) for (const s of h.starts) free.set(s, [...(free.get(s) ?? []), h.id]);
  return [...free.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([s, ids]) => ({ start: s, end: s + duration, hostIds: [pickHost(ids, p.preferredHostId ?? null, p.loadByHost ?? {})] }));
}

/** Round robin: the preferred host when free, else the least loaded (ties: the first listed). */
export function pickHost(free: readonly string[], preferred: string | null, load: Readonly<Record<string, number>>): string {
  if (preferred && free.includes(preferred)) return preferred;
  let best = free[0]!;
  for (const id of free) if ((load[id] ?? 0) < (load[best] ?? 0)) best = id;
  return best;
}

/** Slots grouped by the visitor's local date (YYYY-MM-DD), each with its local "HH:mm" label. */
export function groupSlotsByDay(slots: readonly Slot[], visitorZone: string): Array<{ date: string; slots: Array<Slot & { label: string }> }> {
  const zone = isValidZone(visitorZone) ? visitorZone : 'UTC';
  const days = new Map<string, Array<Slot & { label: string }>>();
  for (const s of slots) {
    const d = isoDate(dayOf(s.start, zone));
    days.set(d, [...(days.get(d) ?? []), { ...s, label: hhmm(s.start, zone) }]);
  }
  return [...days.entries()].map(([date, list]) => ({ date, slots: list }));
}

/** The 5-minute blocks a booking occupies (the unique constraint that makes double booking impossible). */
export function bookingBlocks(start: number, end: number): number[] {
  const size = BLOCK_MIN * MINUTE;
  const out: number[] = [];
  for (let b = Math.floor(start / size) * size; b < end; b += size) out.push(b);
  return out;
}
