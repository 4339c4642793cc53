/**
 * iCalendar on our side (ical.js): the busy times in a calendar's objects, recurrences expanded HERE
 * (RRULE, RDATE, EXDATE, RECURRENCE-ID overrides; servers such as Radicale ignore a CalDAV `expand`), and
 * the invitations we send (iTIP REQUEST / CANCEL, RFC 5546; times in UTC, a stable UID, SEQUENCE).
 *
 * Times with a TZID are read as wall-clock times in that IANA zone (domain/zones.ts), so a weekly 09:00 Paris
 * meeting is 08:00Z in summer and 07:00Z in winter; a TZID that is not an IANA name uses the calendar's
 * own VTIMEZONE; floating times and all-day events are read in the host's zone. All-day events block;
 * TRANSP:TRANSPARENT and STATUS:CANCELLED do not.
 */
import ICAL from 'ical.js';
import type { Interval } from './domain/slots.js';
import { addDays, instantOf, isValidZone, startOfDay, wallOf } from './domain/zones.js';

type Time = InstanceType<typeof ICAL.Time>;
type Component = InstanceType<typeof ICAL.Component>;

const MAX_OCCURRENCES = 20_000;

const ianaOk = (tz: string | null | undefined): tz is string => typeof tz === 'string' && isValidZone(tz);

function instant(t: Time, tzid: string | null, hostZone: string): number {
  if (t.isDate) return startOfDay({ year: t.year, month: t.month, day: t.day }, hostZone);
  const zoneId = t.zone?.tzid;
  if (zoneId === 'UTC' || zoneId === 'Z') return t.toJSDate().getTime();
  const wall = { year: t.year, month: t.month, day: t.day, hour: t.hour, minute: t.minute };
  if (ianaOk(tzid)) return instantOf(wall, tzid) + t.second * 1000;
  if (zoneId && zoneId !== 'floating') return t.toUnixTime() * 1000;
  return instantOf(wall, hostZone) + t.second * 1000;
}

const tzidOf = (c: Component, prop: 'dtstart' | 'dtend'): string | null => {
  const p = c.getFirstProperty(prop) ?? (prop === 'dtend' ? c.getFirstProperty('dtstart') : null);
  const v = p?.getParameter('tzid');
  return typeof v === 'string' ? v : null;
};

const blocks = (c: Component) => {
  const transp = String(c.getFirstPropertyValue('transp') ?? '').toUpperCase();
  const status = String(c.getFirstPropertyValue('status') ?? '').toUpperCase();
  return transp !== 'TRANSPARENT' && status !== 'CANCELLED';
};

/**
 * The busy intervals of one or more iCalendar objects that overlap `range`. Throws on text that is not
 * iCalendar (the caller treats an unreadable calendar as unavailable, never as free).
 */
export function busyFromICalendar(texts: readonly string[], range: Interval, hostZone: string): Interval[] {
  const out: Interval[] = [];
  for (const text of texts) {
    const root = new ICAL.Component(ICAL.parse(text));
    const vcals = root.name === 'vcalendar' ? [root] : root.getAllSubcomponents('vcalendar');
    for (const cal of vcals) {
      for (const tz of cal.getAllSubcomponents('vtimezone')) {
        const id = tz.getFirstPropertyValue('tzid');
        if (typeof id === 'string' && !ianaOk(id) && !ICAL.TimezoneService.has(id)) ICAL.TimezoneService.register(tz);
      }
      const vevents = cal.getAllSubcomponents('vevent');
      const masters = new Map<string, Component>();
      const overrides: Component[] = [];
      for (const v of vevents) {
        if (v.hasProperty('recurrence-id')) overrides.push(v);
        else masters.set(String(v.getFirstPropertyValue('uid') ?? Math.random()), v);
      }
      for (const [uid, master] of masters) {
        const event = new ICAL.Event(master);
        const own = overrides.filter((o) => String(o.getFirstPropertyValue('uid')) === uid);
        for (const o of own) event.relateException(o);
        if (!event.isRecurring()) {
          if (!blocks(master)) continue;
          push(out, event.startDate, event.endDate, master, master, range, hostZone);
          continue;
        }
        const it = event.iterator();
        let n = 0;
        for (let next = it.next(); next && n < MAX_OCCURRENCES; next = it.next(), n++) {
          const d = event.getOccurrenceDetails(next);
          const item = d.item.component;
          const start = instant(d.startDate, tzidOf(item, 'dtstart'), hostZone);
          if (start >= range.end) break;
          if (!blocks(item)) continue;
          push(out, d.startDate, d.endDate, item, item, range, hostZone);
        }
        // Overrides moved from outside the expanded range into it are seen by the iterator; orphan ones
        // (an override without its master on this server) are plain events.
      }
      for (const o of overrides) {
        if (masters.has(String(o.getFirstPropertyValue('uid')))) continue;
        if (!blocks(o)) continue;
        const e = new ICAL.Event(o);
        push(out, e.startDate, e.endDate, o, o, range, hostZone);
      }
    }
  }
  return out.sort((a, b) => a.start - b.start);
}

function push(out: Interval[], s: Time, e: Time | null, startComp: Component, endComp: Component, range: Interval, hostZone: string) {
  const start = instant(s, tzidOf(startComp, 'dtstart'), hostZone);
  let end = e ? instant(e, tzidOf(endComp, 'dtend'), hostZone) : start;
  if (s.isDate && end <= start) {
    const w = wallOf(start, hostZone);
    end = startOfDay(addDays({ year: w.year, month: w.month, day: w.day }, 1), hostZone);
  }
  if (end > range.start && start < range.end && end > start) out.push({ start, end });
}

export interface InviteInput {
  method: 'REQUEST' | 'CANCEL';
  uid: string;
  sequence: number;
  start: number;
  end: number;
  /** When this version was made (DTSTAMP). */
  stamp: number;
  summary: string;
  description?: string;
  location?: string;
  organizer: { name: string; email: string };
  attendee: { name: string; email: string };
}

const icsTime = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

function escapeText(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/;/g, '\\;').replace(/,/g, '\\,').replace(/\r?\n/g, '\\n');
}

const quoteParam = (s: string) => `"${s.replace(/["\r\n]/g, '')}"`;

/** Folds a content line at 75 octets (RFC 5545 3.1), never inside a UTF-8 sequence. */
function fold(line: string): string {
  const bytes = Buffer.from(line, 'utf8');
  if (bytes.length <= 75) return line;
  const parts: string[] = [];
  let cur = '';
  let len = 0;
  for (const ch of line) {
    const l = Buffer.byteLength(ch);
    if (len + l > (parts.length ? 74 : 75)) {
      parts.push(cur);
      cur = '';
      len = 0;
    }
    cur += ch;
    len += l;
  }
  parts.push(cur);
  return parts.join('\r\n ');
}

/** An iTIP message (REQUEST to invite or update, CANCEL to cancel), one VEVENT, times in UTC. */
export function buildInvite(i: InviteInput): string {
  const cancel = i.method === 'CANCEL';
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Mailroom//Meetings//EN',
    'CALSCALE:GREGORIAN',
    `METHOD:${i.method}`,
    'BEGIN:VEVENT',
    `UID:${i.uid}`,
    `SEQUENCE:${i.sequence}`,
    `DTSTAMP:${icsTime(i.stamp)}`,
    `DTSTART:${icsTime(i.start)}`,
    `DTEND:${icsTime(i.end)}`,
    `SUMMARY:${escapeText(i.summary)}`,
    ...(i.description ? [`DESCRIPTION:${escapeText(i.description)}`] : []),
    ...(i.location ? [`LOCATION:${escapeText(i.location)}`] : []),
    `ORGANIZER;CN=${quoteParam(i.organizer.name)}:mailto:${i.organizer.email}`,
    `ATTENDEE;CN=${quoteParam(i.attendee.name)};ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:${i.attendee.email}`,
    `STATUS:${cancel ? 'CANCELLED' : 'CONFIRMED'}`,
    'TRANSP:OPAQUE',
    'END:VEVENT',
    'END:VCALENDAR',
  ];
  return `${lines.map(fold).join('\r\n')}\r\n`;
}

/** The same event as a calendar object to store on the host's CalDAV calendar (no METHOD). */
export function calendarObject(i: Omit<InviteInput, 'method'>): string {
  return buildInvite({ ...i, method: 'REQUEST' }).replace('METHOD:REQUEST\r\n', '');
}

export type PartStat = 'ACCEPTED' | 'DECLINED' | 'TENTATIVE';

export interface InvitationReply {
  uid: string;
  sequence: number;
  /** Attendees who answered, email lower-cased. */
  answers: Array<{ email: string; partstat: PartStat }>;
}

/** An iTIP REPLY (RFC 5546 3.2.3): the event's UID and each attendee's PARTSTAT; null for anything else. */
export function readReply(text: string): InvitationReply | null {
  let root: Component;
  try {
    root = new ICAL.Component(ICAL.parse(text));
  } catch {
    return null;
  }
  if (String(root.getFirstPropertyValue('method') ?? '').toUpperCase() !== 'REPLY') return null;
  const v = root.getFirstSubcomponent('vevent');
  const uid = v?.getFirstPropertyValue('uid');
  if (!v || typeof uid !== 'string') return null;
  const answers: InvitationReply['answers'] = [];
  for (const a of v.getAllProperties('attendee')) {
    const partstat = String(a.getParameter('partstat') ?? '').toUpperCase();
    const email = String(a.getFirstValue() ?? '').replace(/^mailto:/i, '').trim().toLowerCase();
    if (email && (partstat === 'ACCEPTED' || partstat === 'DECLINED' || partstat === 'TENTATIVE')) answers.push({ email, partstat });
  }
  return { uid, sequence: Number(v.getFirstPropertyValue('sequence') ?? 0) || 0, answers };
}

/** The iTIP method and the event's UID of an iCalendar text (null when it is not iCalendar with one event UID). */
export function itipSummary(text: string): { method: string; uid: string } | null {
  try {
    const root = new ICAL.Component(ICAL.parse(text));
    const uid = root.getFirstSubcomponent('vevent')?.getFirstPropertyValue('uid');
    if (typeof uid !== 'string') return null;
    return { method: String(root.getFirstPropertyValue('method') ?? '').toUpperCase(), uid };
  } catch {
    return null;
  }
}
