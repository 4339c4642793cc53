import { describe, expect, it } from 'vitest';
import ICAL from 'ical.js';
import { buildInvite, busyFromICalendar, calendarObject, readReply } from './ical.js';

const Z = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const cal = (...events: string[]) => `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n${events.join('')}END:VCALENDAR\r\n`;
const ev = (...lines: string[]) => `BEGIN:VEVENT\r\nDTSTAMP:20260101T000000Z\r\n${lines.join('\r\n')}\r\nEND:VEVENT\r\n`;
const MARCH = { start: Z('2026-03-20T00:00:00Z'), end: Z('2026-04-05T00:00:00Z') };

describe('busy times from calendar objects, recurrences expanded on our side', () => {
  it.each([
    ['a plain UTC event', [ev('UID:1', 'DTSTART:20260323T100000Z', 'DTEND:20260323T110000Z')], ['2026-03-23T10:00:00Z/2026-03-23T11:00:00Z']],
    ['outside the range', [ev('UID:1', 'DTSTART:20260423T100000Z', 'DTEND:20260423T110000Z')], []],
    ['transparent does not block', [ev('UID:1', 'DTSTART:20260323T100000Z', 'DTEND:20260323T110000Z', 'TRANSP:TRANSPARENT')], []],
    ['cancelled does not block', [ev('UID:1', 'DTSTART:20260323T100000Z', 'DTEND:20260323T110000Z', 'STATUS:CANCELLED')], []],
    ['all-day blocks the whole day in the host zone', [ev('UID:1', 'DTSTART;VALUE=DATE:20260324', 'DTEND;VALUE=DATE:20260325')], ['2026-03-24T04:00:00Z/2026-03-25T04:00:00Z']],
    ['duration instead of end', [ev('UID:1', 'DTSTART:20260323T100000Z', 'DURATION:PT45M')], ['2026-03-23T10:00:00Z/2026-03-23T10:45:00Z']],
    [
      'weekly in Paris across the spring change: 09:00 local every time',
      [ev('UID:w', 'DTSTART;TZID=Europe/Paris:20260323T090000', 'DTEND;TZID=Europe/Paris:20260323T093000', 'RRULE:FREQ=WEEKLY;COUNT=3')],
      ['2026-03-23T08:00:00Z/2026-03-23T08:30:00Z', '2026-03-30T07:00:00Z/2026-03-30T07:30:00Z'],
    ],
    [
      'daily with an EXDATE, a moved occurrence and a cancelled one',
      [
        ev('UID:d', 'DTSTART;TZID=America/New_York:20260330T090000', 'DTEND;TZID=America/New_York:20260330T100000', 'RRULE:FREQ=DAILY;COUNT=5', 'EXDATE;TZID=America/New_York:20260331T090000'),
        ev('UID:d', 'RECURRENCE-ID;TZID=America/New_York:20260401T090000', 'DTSTART;TZID=America/New_York:20260401T150000', 'DTEND;TZID=America/New_York:20260401T160000'),
        ev('UID:d', 'RECURRENCE-ID;TZID=America/New_York:20260402T090000', 'DTSTART;TZID=America/New_York:20260402T090000', 'DTEND;TZID=America/New_York:20260402T100000', 'STATUS:CANCELLED'),
      ],
      ['2026-03-30T13:00:00Z/2026-03-30T14:00:00Z', '2026-04-01T19:00:00Z/2026-04-01T20:00:00Z', '2026-04-03T13:00:00Z/2026-04-03T14:00:00Z'],
    ],
    [
      'a recurrence that started long before the range',
      [ev('UID:old', 'DTSTART:20200101T120000Z', 'DTEND:20200101T121500Z', 'RRULE:FREQ=MONTHLY;BYMONTHDAY=1')],
      ['2026-04-01T12:00:00Z/2026-04-01T12:15:00Z'],
    ],
    ['an unbounded daily rule stops at the range end', [ev('UID:u', 'DTSTART:20260403T230000Z', 'DTEND:20260404T000000Z', 'RRULE:FREQ=DAILY')], ['2026-04-03T23:00:00Z/2026-04-04T00:00:00Z', '2026-04-04T23:00:00Z/2026-04-05T00:00:00Z']],
    [
      'a non-IANA TZID uses its VTIMEZONE',
      [
        'BEGIN:VTIMEZONE\r\nTZID:Custom Plus Two\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0200\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n',
        ev('UID:c', 'DTSTART;TZID=Custom Plus Two:20260323T100000', 'DTEND;TZID=Custom Plus Two:20260323T110000'),
      ],
      ['2026-03-23T08:00:00Z/2026-03-23T09:00:00Z'],
    ],
  ])('%s', (_n, events, expected) => {
    expect(busyFromICalendar([cal(...(events as string[]))], MARCH, 'America/New_York').map((i) => `${iso(i.start)}/${iso(i.end)}`)).toEqual(expected);
  });

  it('throws on text that is not iCalendar (the caller marks the host unavailable)', () => {
    expect(() => busyFromICalendar(['<html>login</html>'], MARCH, 'UTC')).toThrow();
  });
});

describe('invitations', () => {
  const base = {
    uid: 'mtg_1@mailroom',
    sequence: 0,
    start: Z('2026-06-02T14:00:00Z'),
    end: Z('2026-06-02T14:30:00Z'),
    stamp: Z('2026-06-01T10:00:00Z'),
    summary: 'Intro call; with Sam, and "friends"',
    description: 'Line one\nLine two with a long text that certainly needs folding because it goes on and on and on and on — même en UTF-8 ✓',
    organizer: { name: 'Sam Seller', email: 'sam@sales.test' },
    attendee: { name: 'Vic Visitor', email: 'vic@example.test' },
  };
  it.each([
    ['REQUEST', 0, 'CONFIRMED'],
    ['CANCEL', 2, 'CANCELLED'],
  ] as const)('%s round-trips through ical.js', (method, sequence, status) => {
    const text = buildInvite({ ...base, method, sequence });
    for (const line of text.split('\r\n')) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(75);
    const c = new ICAL.Component(ICAL.parse(text));
    expect(c.getFirstPropertyValue('method')).toBe(method);
    const v = c.getFirstSubcomponent('vevent')!;
    const e = new ICAL.Event(v);
    expect(e.uid).toBe(base.uid);
    expect(e.sequence).toBe(sequence);
    expect(e.summary).toBe(base.summary);
    expect(e.description).toBe(base.description);
    expect(e.startDate.toJSDate().getTime()).toBe(base.start);
    expect(e.endDate.toJSDate().getTime()).toBe(base.end);
    expect(v.getFirstPropertyValue('status')).toBe(status);
    expect(String(v.getFirstPropertyValue('organizer'))).toBe('mailto:sam@sales.test');
    expect(v.getFirstProperty('attendee')!.getParameter('cn')).toBe('Vic Visitor');
  });
  it('the calendar object has no METHOD and blocks', () => {
    const text = calendarObject({ ...base });
    expect(text).not.toContain('METHOD');
    expect(busyFromICalendar([text], { start: 0, end: Z('2027-01-01T00:00:00Z') }, 'UTC')).toEqual([{ start: base.start, end: base.end }]);
  });
});

describe('iTIP replies', () => {
  const reply = (method: string, partstat: string, extra = '') =>
    `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nMETHOD:${method}\r\nBEGIN:VEVENT\r\nUID:mtg_1@mailroom\r\nSEQUENCE:2\r\nDTSTAMP:20260601T100000Z\r\nDTSTART:20260602T140000Z\r\nORGANIZER:mailto:sam@sales.test\r\nATTENDEE;PARTSTAT=${partstat};CN=Vic:mailto:Vic@Example.test\r\n${extra}END:VEVENT\r\nEND:VCALENDAR\r\n`;
  it.each([
    ['accepted', reply('REPLY', 'ACCEPTED'), { uid: 'mtg_1@mailroom', sequence: 2, answers: [{ email: 'vic@example.test', partstat: 'ACCEPTED' }] }],
    ['declined', reply('REPLY', 'DECLINED'), { uid: 'mtg_1@mailroom', sequence: 2, answers: [{ email: 'vic@example.test', partstat: 'DECLINED' }] }],
    ['tentative', reply('REPLY', 'tentative'), { uid: 'mtg_1@mailroom', sequence: 2, answers: [{ email: 'vic@example.test', partstat: 'TENTATIVE' }] }],
    ['needs-action is no answer', reply('REPLY', 'NEEDS-ACTION'), { uid: 'mtg_1@mailroom', sequence: 2, answers: [] }],
    ['a REQUEST is not a reply', reply('REQUEST', 'ACCEPTED'), null],
    ['not iCalendar', 'hello', null],
  ])('%s', (_n, text, expected) => expect(readReply(text)).toEqual(expected));
});
