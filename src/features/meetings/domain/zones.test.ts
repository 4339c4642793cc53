import { describe, expect, it } from 'vitest';
import { addDays, hhmm, instantOf, isValidZone, offsetAt, parseDate, weekdayOf } from './zones.js';

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

describe('wall clock to instant, on the wall date\'s own offset', () => {
  it.each([
    ['America/New_York', '2026-03-08 01:30', '2026-03-08T06:30:00Z'],
    ['America/New_York', '2026-03-08 02:30', '2026-03-08T07:30:00Z'], // skipped: 03:30 EDT
    ['America/New_York', '2026-03-08 03:00', '2026-03-08T07:00:00Z'],
    ['America/New_York', '2026-11-01 01:30', '2026-11-01T05:30:00Z'], // repeated: the first (EDT)
    ['America/New_York', '2026-11-01 02:00', '2026-11-01T07:00:00Z'],
    ['Europe/London', '2026-03-29 01:30', '2026-03-29T01:30:00Z'], // skipped: 02:30 BST
    ['Europe/Paris', '2026-10-25 02:30', '2026-10-25T00:30:00Z'],
    ['America/Sao_Paulo', '2018-11-04 00:00', '2018-11-04T03:00:00Z'], // midnight skipped: 01:00 -02
    ['Australia/Lord_Howe', '2026-10-04 02:15', '2026-10-03T15:45:00Z'], // skipped half hour: 02:45 +11
    ['Australia/Lord_Howe', '2026-04-05 01:45', '2026-04-04T14:45:00Z'], // repeated half hour: the first (+11)
    ['Asia/Kathmandu', '2026-06-01 09:00', '2026-06-01T03:15:00Z'],
    ['UTC', '2026-06-01 24:00', '2026-06-02T00:00:00Z'],
  ])('%s %s', (zone, wall, expected) => {
    const [d, t] = wall.split(' ') as [string, string];
    const [year, month, day] = d.split('-').map(Number) as [number, number, number];
    const [hour, minute] = t.split(':').map(Number) as [number, number];
    expect(iso(instantOf({ year, month, day, hour, minute }, zone))).toBe(expected);
  });

  it.each([
    ['Asia/Kathmandu', '2026-06-01T03:15:00Z', '09:00', 345],
    ['Australia/Lord_Howe', '2026-01-01T00:00:00Z', '11:00', 660],
    ['Australia/Lord_Howe', '2026-07-01T00:00:00Z', '10:30', 630],
  ])('%s at %s', (zone, at, label, offsetMin) => {
    expect(hhmm(Date.parse(at), zone)).toBe(label);
    expect(offsetAt(Date.parse(at), zone) / 60_000).toBe(offsetMin);
  });

  it('dates and zones', () => {
    expect([isValidZone('Europe/Paris'), isValidZone('Mars/Base'), isValidZone('')]).toEqual([true, false, false]);
    expect([parseDate('2026-02-29'), parseDate('2028-02-29')]).toEqual([null, { year: 2028, month: 2, day: 29 }]);
    expect(addDays({ year: 2026, month: 12, day: 31 }, 1)).toEqual({ year: 2027, month: 1, day: 1 });
    expect([weekdayOf({ year: 2026, month: 6, day: 1 }), weekdayOf({ year: 2026, month: 6, day: 7 })]).toEqual([1, 7]);
  });
});
