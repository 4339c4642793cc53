import { describe, expect, it } from 'vitest';
import { bookingBlocks, checkRules, groupSlotsByDay, hostSlots, mergeIntervals, overlapsAny, pageSlots, pickHost, type HostInput, type SlotRules } from './slots.js';

const Z = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const WEEKDAYS = { '1': [{ start: '09:00', end: '17:00' }], '2': [{ start: '09:00', end: '17:00' }], '3': [{ start: '09:00', end: '17:00' }], '4': [{ start: '09:00', end: '17:00' }], '5': [{ start: '09:00', end: '17:00' }] };
const ALL_DAY = Object.fromEntries(['1', '2', '3', '4', '5', '6', '7'].map((d) => [d, [{ start: '00:00', end: '24:00' }]]));
const host = (timeZone: string, o: Partial<HostInput> = {}): HostInput => ({ hostId: 'h1', availability: { timeZone, weekly: WEEKDAYS }, busy: [], ...o });
const range = (start: string, end: string): SlotRules['window'] => ({ kind: 'range', start, end });

describe('9:00 local is 9:00 local on both sides of a DST change (never an hour off)', () => {
  it.each([
    // zone, day before the change, its first slot (UTC), day after, its first slot (UTC)
    ['America/New_York', '2026-03-06', '2026-03-06T14:00:00Z', '2026-03-09', '2026-03-09T13:00:00Z'],
    ['America/New_York', '2026-10-30', '2026-10-30T13:00:00Z', '2026-11-02', '2026-11-02T14:00:00Z'],
    ['Europe/London', '2026-03-27', '2026-03-27T09:00:00Z', '2026-03-30', '2026-03-30T08:00:00Z'],
    ['Europe/London', '2026-10-23', '2026-10-23T08:00:00Z', '2026-10-26', '2026-10-26T09:00:00Z'],
    ['Europe/Paris', '2026-03-27', '2026-03-27T08:00:00Z', '2026-03-30', '2026-03-30T07:00:00Z'],
    ['Europe/Paris', '2026-10-23', '2026-10-23T07:00:00Z', '2026-10-26', '2026-10-26T08:00:00Z'],
    // Brazil's last DST (started 2018-11-04 at midnight, ended 2019-02-17)
    ['America/Sao_Paulo', '2018-11-02', '2018-11-02T12:00:00Z', '2018-11-05', '2018-11-05T11:00:00Z'],
    ['America/Sao_Paulo', '2019-02-15', '2019-02-15T11:00:00Z', '2019-02-18', '2019-02-18T12:00:00Z'],
    // Lord Howe moves by half an hour (+10:30 <-> +11)
    ['Australia/Lord_Howe', '2026-10-02', '2026-10-01T22:30:00Z', '2026-10-05', '2026-10-04T22:00:00Z'],
    ['Australia/Lord_Howe', '2026-04-03', '2026-04-02T22:00:00Z', '2026-04-06', '2026-04-05T22:30:00Z'],
    // Kathmandu: +05:45, no DST
    ['Asia/Kathmandu', '2026-03-27', '2026-03-27T03:15:00Z', '2026-03-30', '2026-03-30T03:15:00Z'],
  ])('%s: %s -> %s, %s -> %s', (zone, d1, first1, d2, first2) => {
    const rules: SlotRules = { durationMin: 30, minNoticeMin: 0, window: range(d1, d2) };
    const slots = hostSlots(rules, host(zone), Z('2000-01-01T00:00:00Z'));
    const byDay = groupSlotsByDay(slots.map((s) => ({ start: s, end: s + 1_800_000, hostIds: ['h1'] })), zone);
    expect(byDay.map((d) => d.date)).toEqual([d1, d2]);
    expect(iso(byDay[0]!.slots[0]!.start)).toBe(first1);
    expect(iso(byDay[1]!.slots[0]!.start)).toBe(first2);
    // 09:00-17:00 every day: 16 half hours, labelled from 09:00 to 16:30 in the host's zone
    for (const d of byDay) {
      expect(d.slots).toHaveLength(16);
      expect(d.slots.map((s) => s.label).slice(0, 2)).toEqual(['09:00', '09:30']);
      expect(d.slots.at(-1)!.label).toBe('16:30');
    }
  });
});

describe('the night of a change holds exactly the slots that exist', () => {
  it.each([
    // zone, date, hours that night, duration, slots (UTC)
    ['America/New_York', '2026-03-08', '00:00-05:00', 60, ['05:00', '06:00', '07:00', '08:00']], // 02:00 does not exist: 4 real hours
    ['America/New_York', '2026-11-01', '00:00-04:00', 60, ['04:00', '05:00', '06:00', '07:00', '08:00']], // 01:00 twice: 5 real hours
    ['Europe/Paris', '2026-03-29', '01:00-04:00', 60, ['00:00', '01:00']],
    ['Australia/Lord_Howe', '2026-10-04', '01:00-04:00', 30, ['14:30', '15:00', '15:30', '16:00', '16:30']], // 02:00-02:30 skipped
    ['America/Sao_Paulo', '2018-11-04', '00:00-03:00', 60, ['03:00', '04:00']], // midnight did not exist
  ])('%s on %s, %s', (zone, date, hours, duration, expected) => {
    const [start, end] = (hours as string).split('-') as [string, string];
    const h = host(zone, { availability: { timeZone: zone, weekly: {}, overrides: [{ date, ranges: [{ start, end }] }] } });
    const slots = hostSlots({ durationMin: duration as number, minNoticeMin: 0, window: range(date, date) }, h, 0);
    expect(slots.map((s) => iso(s).slice(11, 16))).toEqual(expected);
  });
});

describe('minimum notice and buffers', () => {
  it.each([
    // name, now, rules, busy, first slots (UTC)
    ['default notice is 120 minutes', '2026-06-01T13:10:00Z', {}, [], ['2026-06-01T15:30:00Z']],
    ['notice across spring forward counts real time, not wall clock', '2026-03-08T06:30:00Z', { minNoticeMin: 120 }, [], ['2026-03-08T08:30:00Z']],
    ['no notice', '2026-06-01T13:10:00Z', { minNoticeMin: 0 }, [], ['2026-06-01T13:30:00Z']],
    ['busy removes overlapping slots', '2026-06-01T00:00:00Z', { minNoticeMin: 0 }, [['2026-06-01T13:00:00Z', '2026-06-01T14:10:00Z']], ['2026-06-01T14:30:00Z']],
    ['buffer before keeps a gap after busy', '2026-06-01T00:00:00Z', { minNoticeMin: 0, bufferBeforeMin: 30 }, [['2026-06-01T13:00:00Z', '2026-06-01T14:10:00Z']], ['2026-06-01T15:00:00Z']],
    ['buffer after keeps a gap before busy', '2026-06-01T00:00:00Z', { minNoticeMin: 0, bufferAfterMin: 15 }, [['2026-06-01T13:40:00Z', '2026-06-01T14:00:00Z']], ['2026-06-01T14:00:00Z']],
  ])('%s', (_name, now, extra, busy, first) => {
    const h = host('America/New_York', { availability: { timeZone: 'America/New_York', weekly: ALL_DAY }, busy: (busy as string[][]).map(([s, e]) => ({ start: Z(s!), end: Z(e!) })) });
    const rules: SlotRules = { durationMin: 30, window: { kind: 'rolling', days: 2 }, ...(extra as object) };
    const slots = hostSlots(rules, h, Z(now as string), { start: Z('2026-01-01T00:00:00Z'), end: Z('2026-06-01T17:00:00Z') });
    const wanted = slots.filter((s) => s >= Z('2026-06-01T13:00:00Z') || (now as string).startsWith('2026-03'));
    expect(wanted.slice(0, 1).map(iso)).toEqual(first);
  });

  it('buffers around an event in the repeated hour of fall back', () => {
    const zone = 'America/New_York';
    const h = (before: number, after: number) =>
      hostSlots(
        { durationMin: 60, minNoticeMin: 0, bufferBeforeMin: before, bufferAfterMin: after, window: range('2026-11-01', '2026-11-01') },
        host(zone, { availability: { timeZone: zone, weekly: {}, overrides: [{ date: '2026-11-01', ranges: [{ start: '00:00', end: '04:00' }] }] }, busy: [{ start: Z('2026-11-01T05:00:00Z'), end: Z('2026-11-01T06:00:00Z') }] }),
        0,
      ).map((s) => iso(s).slice(11, 16));
    expect(h(0, 0)).toEqual(['04:00', '06:00', '07:00', '08:00']);
    expect(h(30, 30)).toEqual(['07:00', '08:00']);
  });
});

describe('window, interval, overrides, per-day limit, unavailable', () => {
  const now = Z('2026-06-01T00:00:00Z'); // Sunday 20:00 in New York
  it.each([
    ['rolling 1 day: today only (Sunday: none)', { window: { kind: 'rolling', days: 1 } }, {}, 0],
    ['rolling 2 days: Monday', { window: { kind: 'rolling', days: 2 } }, {}, 16],
    ['interval 60 with 30-minute meetings', { window: { kind: 'rolling', days: 2 }, intervalMin: 60 }, {}, 8],
    ['interval 15', { window: { kind: 'rolling', days: 2 }, intervalMin: 15 }, {}, 31],
    ['range of a week', { window: range('2026-06-01', '2026-06-07') }, {}, 80],
    ['override: Monday off', { window: { kind: 'rolling', days: 2 } }, { overrides: [{ date: '2026-06-01', ranges: [] }] }, 0],
    ['override of a day outside the window', { window: { kind: 'rolling', days: 2 } }, { overrides: [{ date: '2026-06-02', ranges: [] }] }, 16],
    ['override replaces hours', { window: range('2026-06-01', '2026-06-01') }, { overrides: [{ date: '2026-06-01', ranges: [{ start: '10:00', end: '11:00' }] }] }, 2],
    ['max 2 per day, 2 booked on Monday', { window: range('2026-06-01', '2026-06-02'), maxPerDay: 2 }, { bookedStarts: [Z('2026-06-01T14:00:00Z'), Z('2026-06-01T20:30:00Z')] }, 16],
    ['max 3 per day, 2 booked on Monday', { window: range('2026-06-01', '2026-06-02'), maxPerDay: 3 }, { bookedStarts: [Z('2026-06-01T14:00:00Z'), Z('2026-06-01T20:30:00Z')] }, 32],
    ['calendar unreadable: no slots', { window: range('2026-06-01', '2026-06-07') }, { unavailable: true }, 0],
  ])('%s', (_name, rules, hostExtra, count) => {
    const e = hostExtra as { overrides?: never; bookedStarts?: number[]; unavailable?: boolean };
    const h = host('America/New_York', { availability: { timeZone: 'America/New_York', weekly: WEEKDAYS, ...(e.overrides ? { overrides: e.overrides } : {}) }, ...(e.bookedStarts ? { bookedStarts: e.bookedStarts } : {}), ...(e.unavailable ? { unavailable: true } : {}) });
    expect(hostSlots({ durationMin: 30, minNoticeMin: 0, ...(rules as object) } as SlotRules, h, now)).toHaveLength(count as number);
  });
});

describe('group and round robin', () => {
  const now = Z('2026-06-01T00:00:00Z');
  const rules: SlotRules = { durationMin: 60, minNoticeMin: 0, window: range('2026-06-01', '2026-06-01') };
  const a: HostInput = { hostId: 'a', availability: { timeZone: 'Europe/London', weekly: { '1': [{ start: '09:00', end: '12:00' }] } }, busy: [] }; // 08:00-11:00Z
  const b: HostInput = { hostId: 'b', availability: { timeZone: 'Europe/Paris', weekly: { '1': [{ start: '11:00', end: '14:00' }] } }, busy: [] }; // 09:00-12:00Z
  const hours = (slots: Array<{ start: number; hostIds: string[] }>) => slots.map((s) => `${iso(s.start).slice(11, 13)}:${s.hostIds.join('+')}`);
  it.each([
    ['group: both free', 'group', [a, b], undefined, {}, ['09:a+b', '10:a+b']],
    ['group: one unreadable calendar removes all', 'group', [a, { ...b, unavailable: true }], undefined, {}, []],
    ['group: busy host', 'group', [a, { ...b, busy: [{ start: Z('2026-06-01T09:30:00Z'), end: Z('2026-06-01T09:45:00Z') }] }], undefined, {}, ['10:a+b']],
    ['round robin: any free, least loaded', 'round_robin', [a, b], undefined, { a: 3, b: 1 }, ['08:a', '09:b', '10:b', '11:b']],
    ['round robin: the contact owner preferred', 'round_robin', [a, b], 'a', { a: 3, b: 1 }, ['08:a', '09:a', '10:a', '11:b']],
    ['round robin: unreadable host never offered', 'round_robin', [a, { ...b, unavailable: true }], 'b', {}, ['08:a', '09:a', '10:a']],
  ])('%s', (_n, kind, hosts, preferred, load, expected) => {
    expect(hours(pageSlots({ kind: kind as 'group', rules, hosts: hosts as HostInput[], now, preferredHostId: preferred as string | undefined, loadByHost: load }))).toEqual(expected);
  });
  it('pickHost ties go to the first listed', () => expect(pickHost(['x', 'y'], null, {})).toBe('x'));
});

describe('helpers', () => {
  it('merges and searches busy intervals', () => {
    const m = mergeIntervals([{ start: 5, end: 8 }, { start: 1, end: 3 }, { start: 2, end: 4 }, { start: 8, end: 9 }]);
    expect(m).toEqual([{ start: 1, end: 4 }, { start: 5, end: 9 }]);
    expect([overlapsAny(m, 4, 5), overlapsAny(m, 3, 5), overlapsAny(m, 9, 10), overlapsAny(m, 0, 1), overlapsAny(m, 0, 2)]).toEqual([false, true, false, false, true]);
  });
  it('blocks of 5 minutes', () => {
    expect(bookingBlocks(Z('2026-06-01T10:00:00Z'), Z('2026-06-01T10:15:00Z')).map(iso)).toEqual(['2026-06-01T10:00:00Z', '2026-06-01T10:05:00Z', '2026-06-01T10:10:00Z']);
  });
  it.each([
    [{ durationMin: 30, window: { kind: 'rolling', days: 30 } }, []],
    [{ durationMin: 32, window: { kind: 'rolling', days: 30 } }, ['durationMin']],
    [{ durationMin: 30, bufferBeforeMin: -5, window: { kind: 'rolling', days: 0 } }, ['bufferBeforeMin', 'window.days']],
    [{ durationMin: 30, window: { kind: 'range', start: '2026-02-01', end: '2026-01-01' } }, ['window']],
  ])('checkRules %j', (rules, fields) => {
    expect(checkRules(rules as SlotRules).map((p) => p.field)).toEqual(fields);
  });
  it('checkRules: availability', () => {
    expect(checkRules({ durationMin: 30, window: { kind: 'rolling', days: 1 } }, { timeZone: 'Mars/Base', weekly: { '1': [{ start: '10:00', end: '09:00' }] } }).map((p) => p.field)).toEqual(['timeZone', 'weekly.1']);
  });
});
