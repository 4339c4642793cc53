/**
 * The CalDAV adapter against a real, private Radicale: busy times with recurring events expanded on our
 * side (Radicale ignores `expand`), overrides, all-day, transparent and cancelled events; a calendar
 * that cannot be read is an error (the host is unavailable), never "free"; our event is stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRadicale, startRadicale, type TestRadicale } from '../harness/radicale.js';
import { allowLocalMailServers } from '../support/local-hosts.js';
import { CalendarUnreadable, checkCalendar, deleteEvent, putEvent, readBusy } from '../../src/features/meetings/caldav.js';
import { calendarObject } from '../../src/features/meetings/ical.js';

const Z = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const vcal = (...lines: string[]) => `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//seed//EN\r\n${lines.join('\r\n')}\r\nEND:VCALENDAR\r\n`;
/** What calendar clients send with a TZID (Radicale refuses a TZID without its VTIMEZONE). */
const PARIS = [
  'BEGIN:VTIMEZONE', 'TZID:Europe/Paris',
  'BEGIN:DAYLIGHT', 'TZOFFSETFROM:+0100', 'TZOFFSETTO:+0200', 'TZNAME:CEST', 'DTSTART:19700329T020000', 'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU', 'END:DAYLIGHT',
  'BEGIN:STANDARD', 'TZOFFSETFROM:+0200', 'TZOFFSETTO:+0100', 'TZNAME:CET', 'DTSTART:19701025T030000', 'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU', 'END:STANDARD',
  'END:VTIMEZONE',
];

describe.skipIf(!hasRadicale())('CalDAV over a real Radicale', () => {
  allowLocalMailServers();
  let radicale: TestRadicale;
  let account: { serverUrl: string; username: string; password: string; calendarUrl: string | null };
  beforeAll(async () => {
    radicale = await startRadicale();
    await radicale.addUser('sam', 'pw-sam');
    await radicale.makeCalendar('sam', 'work');
    // Weekly standup 09:00 Paris, across the spring change, one week excepted, one moved.
    await radicale.putEvent('sam', 'work', 'standup.ics', vcal(
      ...PARIS,
      'BEGIN:VEVENT', 'UID:standup', 'DTSTAMP:20260101T000000Z', 'SUMMARY:Standup',
      'DTSTART;TZID=Europe/Paris:20260302T090000', 'DTEND;TZID=Europe/Paris:20260302T093000',
      'RRULE:FREQ=WEEKLY;BYDAY=MO', 'EXDATE;TZID=Europe/Paris:20260316T090000', 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:standup', 'DTSTAMP:20260101T000000Z', 'SUMMARY:Standup (moved)',
      'RECURRENCE-ID;TZID=Europe/Paris:20260323T090000', 'DTSTART;TZID=Europe/Paris:20260324T110000', 'DTEND;TZID=Europe/Paris:20260324T113000', 'END:VEVENT',
    ));
    await radicale.putEvent('sam', 'work', 'holiday.ics', vcal('BEGIN:VEVENT', 'UID:holiday', 'DTSTAMP:20260101T000000Z', 'DTSTART;VALUE=DATE:20260325', 'DTEND;VALUE=DATE:20260326', 'SUMMARY:Holiday', 'END:VEVENT'));
    await radicale.putEvent('sam', 'work', 'focus.ics', vcal('BEGIN:VEVENT', 'UID:focus', 'DTSTAMP:20260101T000000Z', 'DTSTART:20260326T120000Z', 'DTEND:20260326T130000Z', 'TRANSP:TRANSPARENT', 'END:VEVENT'));
    await radicale.putEvent('sam', 'work', 'off.ics', vcal('BEGIN:VEVENT', 'UID:off', 'DTSTAMP:20260101T000000Z', 'DTSTART:20260327T120000Z', 'DTEND:20260327T130000Z', 'STATUS:CANCELLED', 'END:VEVENT'));
    await radicale.putEvent('sam', 'work', 'lunch.ics', vcal('BEGIN:VEVENT', 'UID:lunch', 'DTSTAMP:20260101T000000Z', 'DTSTART:20260327T110000Z', 'DTEND:20260327T120000Z', 'END:VEVENT'));
    account = { serverUrl: radicale.url, username: 'sam', password: 'pw-sam', calendarUrl: null };
  });
  afterAll(async () => radicale?.stop());

  it('finds the calendar', async () => {
    const c = await checkCalendar(account);
    expect(c.calendarUrl).toMatch(/\/sam\/work\/$/);
  });

  it('reads busy times: every occurrence, in its zone, with exceptions; all-day blocks; transparent and cancelled do not', async () => {
    const busy = await readBusy(account, { start: Z('2026-03-09T00:00:00Z'), end: Z('2026-04-01T00:00:00Z') }, 'Europe/Paris');
    expect(busy.map((b) => `${iso(b.start)}/${iso(b.end)}`)).toEqual([
      '2026-03-09T08:00:00Z/2026-03-09T08:30:00Z',
      // 16th excepted; 23rd moved to the 24th 11:00
      '2026-03-24T10:00:00Z/2026-03-24T10:30:00Z',
      '2026-03-24T23:00:00Z/2026-03-25T23:00:00Z', // all day in Paris
      '2026-03-27T11:00:00Z/2026-03-27T12:00:00Z',
      '2026-03-30T07:00:00Z/2026-03-30T07:30:00Z', // summer time: still 09:00 in Paris
    ]);
  });

  it('a wrong password, an unknown calendar or a dead server: CalendarUnreadable, never an empty list', async () => {
    const range = { start: Z('2026-03-09T00:00:00Z'), end: Z('2026-04-01T00:00:00Z') };
    await expect(readBusy({ ...account, password: 'wrong' }, range, 'UTC')).rejects.toBeInstanceOf(CalendarUnreadable);
    await expect(readBusy({ ...account, calendarUrl: `${radicale.url}sam/nope/` }, range, 'UTC')).rejects.toBeInstanceOf(CalendarUnreadable);
    await expect(readBusy({ ...account, serverUrl: 'http://127.0.0.1:1/' }, range, 'UTC')).rejects.toBeInstanceOf(CalendarUnreadable);
  });

  it('stores our event (valid for Radicale), reads it back as busy, deletes it', async () => {
    const ics = calendarObject({ uid: 'mtg_test@mailroom', sequence: 0, start: Z('2026-04-02T14:00:00Z'), end: Z('2026-04-02T14:30:00Z'), stamp: Date.now(), summary: 'Intro, call', organizer: { name: 'Sam', email: 'sam@sales.test' }, attendee: { name: 'Vic', email: 'vic@example.test' } });
    const href = await putEvent(account, 'mtg_test.ics', ics);
    expect(await radicale.getEvent('sam', 'work', 'mtg_test.ics')).toContain('UID:mtg_test@mailroom');
    const busy = await readBusy(account, { start: Z('2026-04-02T00:00:00Z'), end: Z('2026-04-03T00:00:00Z') }, 'UTC');
    expect(busy).toEqual([{ start: Z('2026-04-02T14:00:00Z'), end: Z('2026-04-02T14:30:00Z') }]);
    await deleteEvent(account, href);
    expect(await radicale.getEvent('sam', 'work', 'mtg_test.ics')).toBeNull();
  });
});
