import { describe, expect, it } from 'vitest';
import { checkSlaSettings, slaOfInboxSettings, slaState, slaHours, type SlaFact, type SlaSettings } from './sla.js';

const t = (iso: string) => Date.parse(iso);
const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString().replace('.000Z', 'Z'));
// New York, Monday to Friday 09:00-17:00; Monday 2026-03-02 09:00 EST is 14:00Z.
const settings: SlaSettings = {
  firstResponseMinutes: 60,
  resolutionMinutes: 480,
  soonMinutes: 60,
  workingHours: { timezone: 'America/New_York', days: { mon: [['09:00', '17:00']], tue: [['09:00', '17:00']], wed: [['09:00', '17:00']], thu: [['09:00', '17:00']], fri: [['09:00', '17:00']] } },
};
const customer = (at: string): SlaFact => ({ kind: 'customer', at: t(at) });
const reply = (at: string): SlaFact => ({ kind: 'reply', at: t(at) });
const status = (at: string, to: string, extra: { snoozedUntil?: string; reason?: string } = {}): SlaFact => ({ kind: 'status', at: t(at), to, ...(extra.snoozedUntil ? { snoozedUntil: t(extra.snoozedUntil) } : {}), ...(extra.reason ? { reason: extra.reason } : {}) });

interface Expect {
  fr: [due: string | null, met: string | null, breached: boolean] | null;
  res: [due: string | null, met: string | null, breached: boolean] | null;
  paused: string | null;
  next: string | null;
}

describe('slaState', () => {
  const cases: Array<[string, SlaFact[], string, Expect]> = [
    ['a customer opens it: both due, nothing met', [customer('2026-03-02T14:00:00Z')], '2026-03-02T14:30:00Z', { fr: ['2026-03-02T15:00:00Z', null, false], res: ['2026-03-02T22:00:00Z', null, false], paused: null, next: '2026-03-02T15:00:00Z' }],
    ['no answer after the due: first response breached', [customer('2026-03-02T14:00:00Z')], '2026-03-02T15:05:00Z', { fr: ['2026-03-02T15:00:00Z', null, true], res: ['2026-03-02T22:00:00Z', null, false], paused: null, next: '2026-03-02T15:00:00Z' }],
    ['opened Friday evening: due Monday (DST weekend)', [customer('2026-03-06T23:00:00Z')], '2026-03-07T12:00:00Z', { fr: ['2026-03-09T14:00:00Z', null, false], res: ['2026-03-09T21:00:00Z', null, false], paused: null, next: '2026-03-09T14:00:00Z' }],
    ['our reply meets first response; waiting on the customer pauses resolution', [customer('2026-03-02T14:00:00Z'), reply('2026-03-02T14:40:00Z')], '2026-03-02T18:00:00Z', { fr: ['2026-03-02T15:00:00Z', '2026-03-02T14:40:00Z', false], res: [null, null, false], paused: 'waiting_on_customer', next: null }],
    ['a late reply is met but breached', [customer('2026-03-02T14:00:00Z'), reply('2026-03-02T15:20:00Z')], '2026-03-02T16:00:00Z', { fr: ['2026-03-02T15:00:00Z', '2026-03-02T15:20:00Z', true], res: [null, null, false], paused: 'waiting_on_customer', next: null }],
    ['the customer answers: resolution moves by the business time waited', [customer('2026-03-02T14:00:00Z'), reply('2026-03-02T14:40:00Z'), customer('2026-03-02T16:40:00Z')], '2026-03-02T17:00:00Z', { fr: ['2026-03-02T15:00:00Z', '2026-03-02T14:40:00Z', false], res: ['2026-03-03T16:00:00Z', null, false], paused: null, next: '2026-03-03T16:00:00Z' }],
    ['waiting over the night counts only the working part', [customer('2026-03-02T14:00:00Z'), reply('2026-03-02T21:00:00Z'), customer('2026-03-03T15:00:00Z')], '2026-03-03T15:00:00Z', { fr: ['2026-03-02T15:00:00Z', '2026-03-02T21:00:00Z', true], res: ['2026-03-03T16:00:00Z', null, false], paused: null, next: '2026-03-03T16:00:00Z' }],
    ['snoozed 40 minutes before any reply: first response moves 40 minutes', [customer('2026-03-02T14:00:00Z'), status('2026-03-02T14:10:00Z', 'snoozed', { snoozedUntil: '2026-03-02T14:50:00Z' }), status('2026-03-02T14:50:00Z', 'open', { reason: 'snooze_ended' })], '2026-03-02T15:30:00Z', { fr: ['2026-03-02T15:40:00Z', null, false], res: ['2026-03-03T14:40:00Z', null, false], paused: null, next: '2026-03-02T15:40:00Z' }],
    ['a snooze woken late by a reader ends at its time', [customer('2026-03-02T14:00:00Z'), status('2026-03-02T14:10:00Z', 'snoozed', { snoozedUntil: '2026-03-02T14:50:00Z' }), status('2026-03-02T16:00:00Z', 'open', { reason: 'snooze_ended' })], '2026-03-02T16:00:00Z', { fr: ['2026-03-02T15:40:00Z', null, true], res: ['2026-03-03T14:40:00Z', null, false], paused: null, next: '2026-03-02T15:40:00Z' }],
    ['a snooze that ran out with nobody reading ends at its time', [customer('2026-03-02T14:00:00Z'), status('2026-03-02T14:10:00Z', 'snoozed', { snoozedUntil: '2026-03-02T14:50:00Z' })], '2026-03-02T15:00:00Z', { fr: ['2026-03-02T15:40:00Z', null, false], res: ['2026-03-03T14:40:00Z', null, false], paused: null, next: '2026-03-02T15:40:00Z' }],
    ['still snoozed: paused, no due', [customer('2026-03-02T14:00:00Z'), status('2026-03-02T14:10:00Z', 'snoozed', { snoozedUntil: '2026-03-03T14:00:00Z' })], '2026-03-02T20:00:00Z', { fr: [null, null, false], res: [null, null, false], paused: 'snoozed', next: null }],
    ['snoozed after a breach stays breached', [customer('2026-03-02T14:00:00Z'), status('2026-03-02T15:30:00Z', 'snoozed', { snoozedUntil: '2026-03-03T14:00:00Z' })], '2026-03-02T20:00:00Z', { fr: ['2026-03-02T15:00:00Z', null, true], res: [null, null, false], paused: 'snoozed', next: '2026-03-02T15:00:00Z' }],
    ['closing meets resolution and stops the clocks', [customer('2026-03-02T14:00:00Z'), reply('2026-03-02T14:30:00Z'), status('2026-03-02T15:00:00Z', 'closed')], '2026-03-05T15:00:00Z', { fr: ['2026-03-02T15:00:00Z', '2026-03-02T14:30:00Z', false], res: ['2026-03-03T14:30:00Z', '2026-03-02T15:00:00Z', false], paused: null, next: null }],
    ['closed without a reply: first response not met, not due any more', [customer('2026-03-02T14:00:00Z'), status('2026-03-02T14:30:00Z', 'closed')], '2026-03-05T15:00:00Z', { fr: ['2026-03-02T15:00:00Z', null, false], res: ['2026-03-02T22:00:00Z', '2026-03-02T14:30:00Z', false], paused: null, next: null }],
    ['the customer writes after closing: a new cycle', [customer('2026-03-02T14:00:00Z'), reply('2026-03-02T14:30:00Z'), status('2026-03-02T15:00:00Z', 'closed'), customer('2026-03-03T14:00:00Z'), status('2026-03-03T14:01:00Z', 'open', { reason: 'customer_replied' })], '2026-03-03T14:30:00Z', { fr: ['2026-03-03T15:00:00Z', null, false], res: ['2026-03-03T22:00:00Z', null, false], paused: null, next: '2026-03-03T15:00:00Z' }],
    ['reopened by the customer, its message dated before the close: the reopening starts the cycle', [customer('2026-03-02T14:00:00Z'), status('2026-03-02T15:00:00Z', 'closed'), customer('2026-03-02T14:50:00Z'), status('2026-03-02T16:00:00Z', 'open', { reason: 'customer_replied' })], '2026-03-02T16:00:00Z', { fr: ['2026-03-02T17:00:00Z', null, false], res: ['2026-03-03T16:00:00Z', null, false], paused: null, next: '2026-03-02T17:00:00Z' }],
    ['an agent reopens it: resolution only', [customer('2026-03-02T14:00:00Z'), status('2026-03-02T15:00:00Z', 'closed'), status('2026-03-02T16:00:00Z', 'open')], '2026-03-02T16:00:00Z', { fr: null, res: ['2026-03-03T16:00:00Z', null, false], paused: null, next: '2026-03-03T16:00:00Z' }],
    ['spam stops the clocks without meeting them', [customer('2026-03-02T14:00:00Z'), status('2026-03-02T14:10:00Z', 'spam')], '2026-03-02T20:00:00Z', { fr: ['2026-03-02T15:00:00Z', null, false], res: ['2026-03-02T22:00:00Z', null, false], paused: null, next: null }],
    ['we wrote first (outreach): nothing is due until the customer writes', [reply('2026-03-02T14:00:00Z')], '2026-03-02T20:00:00Z', { fr: null, res: null, paused: null, next: null }],
    ['facts in any order', [reply('2026-03-02T14:40:00Z'), customer('2026-03-02T16:40:00Z'), customer('2026-03-02T14:00:00Z')], '2026-03-02T17:00:00Z', { fr: ['2026-03-02T15:00:00Z', '2026-03-02T14:40:00Z', false], res: ['2026-03-03T16:00:00Z', null, false], paused: null, next: '2026-03-03T16:00:00Z' }],
  ];
  it.each(cases)('%s', (_name, facts, now, e) => {
    const s = slaState(slaHours(settings), settings, facts, t(now));
    const shape = (x: { dueAt: number | null; metAt: number | null; breached: boolean } | null) => (x ? [iso(x.dueAt), iso(x.metAt), x.breached] : null);
    expect({ fr: shape(s.firstResponse), res: shape(s.resolution), paused: s.paused, next: iso(s.nextDueAt) }).toEqual(e);
  });

  it('only the targets that are set', () => {
    const only = { ...settings, firstResponseMinutes: null };
    const s = slaState(slaHours(only), only, [customer('2026-03-02T14:00:00Z')], t('2026-03-02T14:00:00Z'));
    expect(s.firstResponse).toBeNull();
    expect(iso(s.nextDueAt)).toBe('2026-03-02T22:00:00Z');
  });
});

describe('checkSlaSettings', () => {
  const cases: Array<[string, Parameters<typeof checkSlaSettings>[0], string | null | 'none']> = [
    ['both targets', { firstResponseMinutes: 60, resolutionMinutes: 480 }, null],
    ['no target at all: no SLA', { firstResponseMinutes: null, resolutionMinutes: null }, 'none'],
    ['zero minutes', { firstResponseMinutes: 0 }, 'firstResponseMinutes'],
    ['fractions', { resolutionMinutes: 1.5 }, 'resolutionMinutes'],
    ['soon threshold out of range', { firstResponseMinutes: 60, soonMinutes: 0 }, 'soonMinutes'],
    ['unknown time zone', { firstResponseMinutes: 60, workingHours: { timezone: 'Mars/Olympus', days: { mon: [['09:00', '17:00']] } } }, 'workingHours'],
    ['bad time', { firstResponseMinutes: 60, workingHours: { timezone: 'UTC', days: { mon: [['9am', '17:00']] } } }, 'workingHours'],
  ];
  it.each(cases)('%s', (_name, input, field) => {
    const r = checkSlaSettings(input);
    if (field === null) expect(r).toMatchObject({ ok: true, settings: { soonMinutes: 60 } });
    else if (field === 'none') expect(r).toEqual({ ok: true, settings: null });
    else expect(r).toMatchObject({ ok: false, field });
  });

  it('reads the stored inbox settings', () => {
    expect(slaOfInboxSettings('{}')).toBeNull();
    expect(slaOfInboxSettings('not json')).toBeNull();
    expect(slaOfInboxSettings(JSON.stringify({ sla: { firstResponseMinutes: 30, resolutionMinutes: null, soonMinutes: 15, workingHours: null } }))).toEqual({ firstResponseMinutes: 30, resolutionMinutes: null, soonMinutes: 15, workingHours: null });
  });
});
