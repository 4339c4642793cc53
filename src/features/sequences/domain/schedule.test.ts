import { describe, expect, it } from 'vitest';
import { nextAllowedSlot, resumeAfterReturn, stepDueAt, type Calendar, type Delay } from './schedule.js';
import { holidaysFromIcs } from '../holidays.js';

const cal = (zone: string, o: Partial<Calendar> = {}): Calendar => ({ zone, windowStart: 8 * 60, windowEnd: 18 * 60, weekdays: [1, 2, 3, 4, 5], holidays: new Set(), ...o });
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString().replace('.000', '');
const bd = (value: number): Delay => ({ unit: 'business_days', value });
const hours = (value: number): Delay => ({ unit: 'hours', value });

describe('stepDueAt: business days at the enrollment time of day, in the zone, across DST', () => {
  it.each([
    // [case, calendar, enrolledAt (local), previous due (local), delay, expected (UTC)]
    ['New York, over the March change (EST -> EDT): 09:30 stays 09:30', cal('America/New_York'), '2026-03-06T09:30:00-05:00', null, bd(1), '2026-03-09T13:30:00Z'],
    ['New York, over the November change (EDT -> EST)', cal('America/New_York'), '2026-10-30T09:30:00-04:00', null, bd(1), '2026-11-02T14:30:00Z'],
    ['Paris, over the March change (CET -> CEST)', cal('Europe/Paris'), '2026-03-27T09:30:00+01:00', null, bd(1), '2026-03-30T07:30:00Z'],
    ['Paris, over the October change (CEST -> CET)', cal('Europe/Paris'), '2026-10-23T09:30:00+02:00', null, bd(1), '2026-10-26T08:30:00Z'],
    ['Lord Howe, over its 30-minute change (+10:30 -> +11)', cal('Australia/Lord_Howe'), '2026-10-02T09:30:00+10:30', null, bd(1), '2026-10-04T22:30:00Z'],
    ['Lord Howe, back (+11 -> +10:30) in April', cal('Australia/Lord_Howe'), '2026-04-03T09:30:00+11:00', null, bd(1), '2026-04-05T23:00:00Z'],
    ['Kathmandu (+05:45), two business days', cal('Asia/Kathmandu'), '2026-03-02T09:30:00+05:45', null, bd(2), '2026-03-04T03:45:00Z'],
    ['a Friday step moves over the weekend to Monday', cal('Europe/Paris'), '2026-06-04T10:00:00+02:00', null, bd(1), '2026-06-05T08:00:00Z'],
    ['three business days from Thursday is Tuesday', cal('Europe/Paris'), '2026-06-04T10:00:00+02:00', null, bd(3), '2026-06-09T08:00:00Z'],
    ['a holiday is skipped', cal('Europe/Paris', { holidays: new Set(['2026-12-25']) }), '2026-12-24T10:00:00+01:00', null, bd(1), '2026-12-28T09:00:00Z'],
    ['delay 0: now when inside the window', cal('Europe/Paris'), '2026-06-04T10:00:00+02:00', null, bd(0), '2026-06-04T08:00:00Z'],
    ['delay 0 after the window: next working day at its start', cal('Europe/Paris'), '2026-06-05T19:00:00+02:00', null, bd(0), '2026-06-08T06:00:00Z'],
    ['enrolled before the window: the step waits for it', cal('America/New_York'), '2026-06-03T06:00:00-04:00', null, bd(1), '2026-06-04T12:00:00Z'],
    ['hours are elapsed time, then into the window (across the March change in Paris)', cal('Europe/Paris'), '2026-03-27T17:00:00+01:00', null, hours(2), '2026-03-30T06:00:00Z'],
    ['hours inside the window', cal('America/New_York'), '2026-06-03T09:00:00-04:00', null, hours(4), '2026-06-03T17:00:00Z'],
    ['from the previous step, not the enrollment', cal('Europe/Paris'), '2026-06-01T09:15:00+02:00', '2026-06-03T09:15:00+02:00', bd(2), '2026-06-05T07:15:00Z'],
    // Enrolled on DST transition days (every day a working day, window all day).
    ['enrolled the Saturday before the US change at 02:30: Sunday 02:30 does not exist, 03:30 EDT', cal('America/New_York', { weekdays: [1, 2, 3, 4, 5, 6, 7], windowStart: 0, windowEnd: 1439 }), '2026-03-07T02:30:00-05:00', null, bd(1), '2026-03-08T07:30:00Z'],
    ['enrolled on the US change day at 03:30 EDT: next day 03:30 EDT', cal('America/New_York', { weekdays: [1, 2, 3, 4, 5, 6, 7], windowStart: 0, windowEnd: 1439 }), '2026-03-08T03:30:00-04:00', null, bd(1), '2026-03-09T07:30:00Z'],
    ['enrolled on the EU autumn change day at 02:30 (first one, CEST)', cal('Europe/Paris', { weekdays: [1, 2, 3, 4, 5, 6, 7], windowStart: 0, windowEnd: 1439 }), '2026-10-25T02:30:00+02:00', null, bd(1), '2026-10-26T01:30:00Z'],
    ['enrolled on the EU spring change day at 10:00 CEST', cal('Europe/Paris', { weekdays: [1, 2, 3, 4, 5, 6, 7] }), '2026-03-29T10:00:00+02:00', null, bd(1), '2026-03-30T08:00:00Z'],
    ['a Sunday enrollment (US change day) waits for Monday 08:00 EDT', cal('America/New_York'), '2026-03-08T10:00:00-04:00', null, bd(0), '2026-03-09T12:00:00Z'],
  ] as const)('%s', (_name, calendar, enrolled, previous, delay, expected) => {
    const enrolledAt = at(enrolled);
    expect(iso(stepDueAt(calendar, { enrolledAt, previousDueAt: previous ? at(previous) : enrolledAt, delay }))).toBe(expected);
  });
});

describe('nextAllowedSlot and resume', () => {
  it.each([
    ['inside the window: unchanged', cal('Europe/Paris'), '2026-06-03T10:00:00+02:00', '2026-06-03T08:00:00Z'],
    ['Saturday: Monday at the window start', cal('Europe/Paris'), '2026-06-06T10:00:00+02:00', '2026-06-08T06:00:00Z'],
    ['at the window end: the next day', cal('Europe/Paris'), '2026-06-03T18:00:00+02:00', '2026-06-04T06:00:00Z'],
    ['a weekend-only sender (Sat, Sun)', cal('Asia/Kathmandu', { weekdays: [6, 7] }), '2026-06-03T10:00:00+05:45', '2026-06-06T02:15:00Z'],
  ] as const)('%s', (_n, c, t, expected) => {
    expect(iso(nextAllowedSlot(c, at(t)))).toBe(expected);
  });

  it.each([
    ['back Tuesday: resume Wednesday at the enrollment time', cal('Europe/Paris'), '2026-03-02T09:30:00+01:00', '2026-03-10', '2026-03-11T08:30:00Z'],
    ['back Friday: resume Monday', cal('America/New_York'), '2026-03-02T09:30:00-05:00', '2026-03-06', '2026-03-09T13:30:00Z'],
  ] as const)('%s', (_n, c, enrolled, ret, expected) => {
    expect(iso(resumeAfterReturn(c, { enrolledAt: at(enrolled), returnDate: ret }))).toBe(expected);
  });
});

describe('holidaysFromIcs', () => {
  it('reads all-day events, multi-day ones included', () => {
    const ics = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', 'BEGIN:VEVENT', 'UID:1', 'DTSTART;VALUE=DATE:20261225', 'DTEND;VALUE=DATE:20261227', 'SUMMARY:Christmas', 'END:VEVENT', 'BEGIN:VEVENT', 'UID:2', 'DTSTART;VALUE=DATE:20260501', 'SUMMARY:Labour day', 'END:VEVENT', 'END:VCALENDAR'].join('\r\n');
    expect(holidaysFromIcs(ics)).toEqual({ ok: true, dates: ['2026-05-01', '2026-12-25', '2026-12-26'] });
  });
  it('refuses what is not iCalendar', () => {
    expect(holidaysFromIcs('hello').ok).toBe(false);
  });
});
