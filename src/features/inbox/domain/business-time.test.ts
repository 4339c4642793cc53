import { describe, expect, it } from 'vitest';
import { addBusinessMinutes, businessMinutesBetween, localToInstant, type Interval } from './business-time.js';
import { parseWorkingHours } from './working-hours.js';

const t = (iso: string) => Date.parse(iso);
const week = (timezone: string, ranges: string[][], days = ['mon', 'tue', 'wed', 'thu', 'fri']) => parseWorkingHours({ timezone, days: Object.fromEntries(days.map((d) => [d, ranges])) });
const ny = week('America/New_York', [['09:00', '17:00']]);
const paris = week('Europe/Paris', [['09:00', '12:00'], ['13:00', '17:00']]);
const kolkata = week('Asia/Kolkata', [['10:00', '18:00']], ['mon', 'tue', 'wed', 'thu', 'fri', 'sat']);
const nyAllDay = week('America/New_York', [['00:00', '24:00']], ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']);
const nySundayNight = week('America/New_York', [['00:00', '06:00']], ['sun']);

describe('addBusinessMinutes', () => {
  // 2026-03-08 and 2026-11-01: New York's DST changes; 2026-10-25: Paris's.
  const cases: Array<[string, ReturnType<typeof parseWorkingHours>, string, number, Interval[], string | null]> = [
    ['NY: within the day', ny, '2026-03-02T14:00:00Z', 90, [], '2026-03-02T15:30:00Z'],
    ['NY: past the evening into the next morning', ny, '2026-03-02T21:30:00Z', 60, [], '2026-03-03T14:30:00Z'],
    ['NY: started at night counts from the morning', ny, '2026-03-03T03:00:00Z', 30, [], '2026-03-03T14:30:00Z'],
    ['NY: Friday afternoon over the DST weekend (EST -> EDT)', ny, '2026-03-06T21:00:00Z', 120, [], '2026-03-09T14:00:00Z'],
    ['NY: started on Saturday', ny, '2026-03-07T15:00:00Z', 60, [], '2026-03-09T14:00:00Z'],
    ['NY: a due exactly at the end of the day stays there', ny, '2026-03-02T21:00:00Z', 60, [], '2026-03-02T22:00:00Z'],
    ['NY: around the clock across spring-forward is 23 real hours a day', nyAllDay, '2026-03-07T17:00:00Z', 24 * 60, [], '2026-03-08T17:00:00Z'],
    ['NY: 00:00-06:00 on the spring-forward Sunday is 5 real hours', nySundayNight, '2026-03-08T05:00:00Z', 300, [], '2026-03-08T10:00:00Z'],
    ['NY: 00:00-06:00 on the spring-forward Sunday, a minute more waits a week', nySundayNight, '2026-03-08T05:00:00Z', 301, [], '2026-03-15T04:01:00Z'],
    ['NY: 00:00-06:00 on the fall-back Sunday is 7 real hours', nySundayNight, '2026-11-01T04:00:00Z', 420, [], '2026-11-01T11:00:00Z'],
    ['Paris: skips lunch', paris, '2026-10-20T09:30:00Z', 60, [], '2026-10-20T11:30:00Z'],
    ['Paris: Friday over the DST weekend (CEST -> CET)', paris, '2026-10-23T14:00:00Z', 120, [], '2026-10-26T09:00:00Z'],
    ['Kolkata: half-hour zone, Saturday evening to Monday', kolkata, '2026-03-07T12:15:00Z', 30, [], '2026-03-09T04:45:00Z'],
    ['Kolkata: a whole day of 8 hours ends at 18:00', kolkata, '2026-03-09T04:30:00Z', 8 * 60, [], '2026-03-09T12:30:00Z'],
    ['Kolkata: a minute more is the next morning', kolkata, '2026-03-09T04:30:00Z', 8 * 60 + 1, [], '2026-03-10T04:31:00Z'],
    ['NY: a pause moves the due by the business time it covered', ny, '2026-03-02T14:00:00Z', 120, [{ from: t('2026-03-02T15:00:00Z'), to: t('2026-03-02T15:30:00Z') }], '2026-03-02T16:30:00Z'],
    ['NY: a pause over the night moves it by its working part only', ny, '2026-03-02T20:00:00Z', 120, [{ from: t('2026-03-02T21:00:00Z'), to: t('2026-03-03T15:00:00Z') }], '2026-03-03T16:00:00Z'],
    ['NY: overlapping pauses count once', ny, '2026-03-02T14:00:00Z', 60, [{ from: t('2026-03-02T14:10:00Z'), to: t('2026-03-02T14:30:00Z') }, { from: t('2026-03-02T14:20:00Z'), to: t('2026-03-02T14:40:00Z') }], '2026-03-02T15:30:00Z'],
    ['NY: a pause still running: never due', ny, '2026-03-02T14:00:00Z', 60, [{ from: t('2026-03-02T14:30:00Z'), to: Infinity }], null],
    ['NY: a pause still running after the due: due as before', ny, '2026-03-02T14:00:00Z', 60, [{ from: t('2026-03-02T15:30:00Z'), to: Infinity }], '2026-03-02T15:00:00Z'],
    ['no working hours: around the clock', parseWorkingHours(null), '2026-03-07T23:30:00Z', 90, [], '2026-03-08T01:00:00Z'],
    ['working hours without a working day: never due', parseWorkingHours({ timezone: 'UTC', days: {} }), '2026-03-02T14:00:00Z', 60, [], null],
    ['zero minutes: due at once', ny, '2026-03-07T15:00:00Z', 0, [], '2026-03-07T15:00:00Z'],
  ];
  it.each(cases)('%s', (_name, hours, start, minutes, pauses, expected) => {
    const due = addBusinessMinutes(hours, t(start), minutes, pauses);
    expect(due === null ? null : new Date(due).toISOString()).toBe(expected === null ? null : new Date(expected).toISOString());
  });
});

describe('businessMinutesBetween', () => {
  const cases: Array<[string, ReturnType<typeof parseWorkingHours>, string, string, Interval[], number]> = [
    ['NY: a working day', ny, '2026-03-02T05:00:00Z', '2026-03-03T05:00:00Z', [], 480],
    ['NY: the DST weekend holds no business time', ny, '2026-03-06T22:00:00Z', '2026-03-09T13:00:00Z', [], 0],
    ['Paris: lunch is not counted', paris, '2026-10-20T09:00:00Z', '2026-10-20T12:00:00Z', [], 120],
    ['Kolkata: Saturday evening to Monday 11:00', kolkata, '2026-03-07T11:30:00Z', '2026-03-09T05:30:00Z', [], 120],
    ['NY: minus a pause', ny, '2026-03-02T14:00:00Z', '2026-03-02T16:00:00Z', [{ from: t('2026-03-02T15:00:00Z'), to: t('2026-03-02T15:45:00Z') }], 75],
    ['backwards: zero', ny, '2026-03-02T16:00:00Z', '2026-03-02T14:00:00Z', [], 0],
  ];
  it.each(cases)('%s', (_name, hours, a, b, pauses, expected) => {
    expect(businessMinutesBetween(hours, t(a), t(b), pauses)).toBe(expected);
  });
});

describe('localToInstant', () => {
  const cases: Array<[string, [number, number, number, number, string], string]> = [
    ['NY winter 09:00', [2026, 2, 2, 540, 'America/New_York'], '2026-03-02T14:00:00Z'],
    ['NY summer 09:00 (day after the change)', [2026, 2, 9, 540, 'America/New_York'], '2026-03-09T13:00:00Z'],
    ['NY 02:30 does not exist on spring-forward: the time after the change', [2026, 2, 8, 150, 'America/New_York'], '2026-03-08T07:30:00Z'],
    ['NY 01:30 happens twice on fall-back: the first', [2026, 10, 1, 90, 'America/New_York'], '2026-11-01T05:30:00Z'],
    ['NY 24:00 is the next midnight', [2026, 2, 7, 1440, 'America/New_York'], '2026-03-08T05:00:00Z'],
    ['Paris winter', [2026, 9, 26, 600, 'Europe/Paris'], '2026-10-26T09:00:00Z'],
    ['Kolkata', [2026, 2, 9, 600, 'Asia/Kolkata'], '2026-03-09T04:30:00Z'],
  ];
  it.each(cases)('%s', (_name, [y, mo, d, minute, tz], expected) => {
    expect(new Date(localToInstant(y, mo, d, minute, tz)).toISOString()).toBe(new Date(expected).toISOString());
  });
});
