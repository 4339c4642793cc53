import { describe, expect, it } from 'vitest';
import { looksOutOfOffice, parseReturnDate } from './out-of-office.js';
import { classifyReply, type ReplyFacts } from './replies.js';
import { nextEnrollmentState, checkSteps, followUpSubject } from './definition.js';
import { pickVariant } from './variants.js';

describe('parseReturnDate', () => {
  it.each([
    // [language, subject, text, received on, return date]
    ['en, until (last day away)', 'Out of Office', 'I am out of the office until Friday, March 13. I will respond when I return.', '2026-03-09', '2026-03-14'],
    ['en, back on ISO date', 'Automatic reply: Intro', "Thanks for your email. I'll be back on 2026-03-16.", '2026-03-09', '2026-03-16'],
    ['en, US numeric', 'Automatic reply', 'I will return on 3/16 and reply then.', '2026-03-09', '2026-03-16'],
    ['en, day month', 'Away', 'I am on annual leave, returning 16th March 2026.', '2026-03-09', '2026-03-16'],
    ['de, bis zum (dotted)', 'Abwesenheitsnotiz', 'Ich bin bis zum 13.03.2026 nicht im Büro.', '2026-03-09', '2026-03-14'],
    ['de, ab dem ... wieder', 'Automatische Antwort', 'Ab dem 16. März bin ich wieder erreichbar.', '2026-03-09', '2026-03-16'],
    ['fr, jusqu’au', 'Réponse automatique', "Je suis absent jusqu'au 13 mars inclus.", '2026-03-09', '2026-03-14'],
    ['fr, du ... au', 'Absent', 'Je suis en congés du 2 au 13 mars.', '2026-03-09', '2026-03-14'],
    ['fr, de retour le', 'Absence', 'Je serai de retour le 16 mars.', '2026-03-09', '2026-03-16'],
    ['es, hasta el', 'Respuesta automática', 'Estoy fuera de la oficina hasta el 13 de marzo.', '2026-03-09', '2026-03-14'],
    ['it, fino al', 'Risposta automatica', 'Sono fuori ufficio fino al 13 marzo.', '2026-03-09', '2026-03-14'],
    ['pt, até', 'Resposta automática', 'Estou de férias até 13 de março.', '2026-03-09', '2026-03-14'],
    ['nl, tot en met', 'Automatisch antwoord', 'Ik ben afwezig tot en met 13 maart.', '2026-03-09', '2026-03-14'],
    ['nl, vanaf ... weer', 'Afwezig', 'Ik ben vanaf 16 maart weer op kantoor.', '2026-03-09', '2026-03-16'],
    ['a date without a year is the next one (over new year)', 'Out of office', 'Back on January 5.', '2026-12-20', '2027-01-05'],
    ['no date stated', 'Out of office', 'I am out of the office with limited access to email.', '2026-03-09', null],
    ['a date in the past is not a return date', 'Out of office', 'I was back on 2 March.', '2026-03-09', null],
  ] as const)('%s', (_n, subject, text, received, expected) => {
    expect(parseReturnDate(subject, text, received)).toBe(expected);
  });
});

describe('looksOutOfOffice', () => {
  it.each([
    ['Automatic reply: Intro', '', true],
    ['Re: Intro', 'I am currently out of the office.', true],
    ['AW: Intro', 'Ich bin derzeit nicht im Büro.', true],
    ['RE: Intro', 'Je suis actuellement absent.', true],
    ['Re: Intro', 'Estoy de vacaciones.', true],
    ['Re: Intro', 'Sono in ferie.', true],
    ['Re: Intro', 'Estou de férias.', true],
    ['Re: Intro', 'Ik ben momenteel met vakantie.', true],
    ['Re: Intro', 'Sounds good, let us talk on Tuesday.', false],
  ] as const)('%s / %s', (subject, text, expected) => {
    expect(looksOutOfOffice(subject, text)).toBe(expected);
  });
});

describe('classifyReply: what ingest flagged, and the words', () => {
  const f = (o: Partial<ReplyFacts>): ReplyFacts => ({ kind: 'normal', reasons: [], subject: 'Re: Intro', text: 'Sounds good.', ...o });
  it.each([
    ['a person answers', f({}), 'reply'],
    ['a person mentions having been out of office', f({ text: 'I was out of office last week, but yes, let us talk.' }), 'reply'],
    ['RFC 3834 auto-reply', f({ kind: 'auto_reply', reasons: ['auto_submitted:auto-replied'] }), 'out_of_office'],
    ['Outlook auto-reply without Auto-Submitted (subject and words)', f({ subject: 'Automatic reply: Intro', text: 'I am out of the office until Monday.' }), 'out_of_office'],
    ['German auto-reply without headers', f({ subject: 'Abwesenheitsnotiz: Intro', text: 'Ich bin im Urlaub.' }), 'out_of_office'],
    ['read receipt', f({ kind: 'auto_reply', reasons: ['read_receipt'] }), 'ignore'],
    ['hard bounce', f({ kind: 'bounce', bounce: { permanent: true, type: 'failure' } }), 'bounce'],
    ['delay report', f({ kind: 'bounce', bounce: { permanent: false, type: 'delay' } }), 'ignore'],
    ['mailing list', f({ kind: 'list' }), 'ignore'],
    ['our own loop', f({ kind: 'loop' }), 'ignore'],
  ] as const)('%s', (_n, facts, expected) => {
    expect(classifyReply(facts)).toBe(expected);
  });
});

describe('enrollment states', () => {
  it.each([
    ['active', { type: 'stop', reason: 'replied' }, 'unenrolled'],
    ['active', { type: 'pause', reason: 'out_of_office' }, 'paused'],
    ['paused', { type: 'pause', reason: 'out_of_office' }, 'paused'],
    ['paused', { type: 'resume' }, 'active'],
    ['paused', { type: 'stop', reason: 'replied' }, 'unenrolled'],
    ['active', { type: 'resume' }, null],
    ['active', { type: 'complete' }, 'finished'],
    ['finished', { type: 'stop', reason: 'replied' }, null],
    ['unenrolled', { type: 'resume' }, null],
  ] as const)('%s + %o -> %s', (state, event, expected) => {
    expect(nextEnrollmentState(state, event)).toBe(expected);
  });
});

describe('steps', () => {
  let n = 0;
  const id = () => `s${++n}`;
  it.each([
    [[], 'steps'],
    [[{ type: 'email', html: 'Hi' }], 'steps.0.variants.0.subject'],
    [[{ type: 'email', subject: 'Hi', html: '' }], 'steps.0.variants.0.html'],
    [[{ type: 'email', subject: 'Hi', html: 'x' }, { type: 'call', delay: { value: 91 } }], 'steps.1.delay.value'],
    [[{ type: 'email', subject: 'Hi', html: 'x' }, { type: 'sms' }], 'steps.1.type'],
    [[{ type: 'email', subject: 'Hi', html: 'x', delay: { unit: 'weeks', value: 1 } }], 'steps.0.delay.unit'],
  ] as const)('refuses %o at %s', (steps, field) => {
    const r = checkSteps(steps as never, id);
    expect(r.ok ? null : r.field).toBe(field);
  });
  it('accepts a follow-up without a subject, and defaults delays', () => {
    const r = checkSteps([{ type: 'email', subject: 'Hi', html: 'x' }, { type: 'email', html: 'again' }, { type: 'call', note: 'Call them' }], id);
    expect(r.ok && r.value.map((s) => [s.type, s.delay.unit, s.delay.value])).toEqual([
      ['email', 'business_days', 0],
      ['email', 'business_days', 1],
      ['call', 'business_days', 1],
    ]);
  });
  it('follow-up subjects', () => {
    expect(followUpSubject('Intro')).toBe('Re: Intro');
    expect(followUpSubject('RE: Intro')).toBe('RE: Intro');
  });
  it('A/B variants are deterministic per enrollment and spread', () => {
    expect(pickVariant('enr_1', 'step', 2)).toBe(pickVariant('enr_1', 'step', 2));
    const counts = [0, 0];
    for (let i = 0; i < 1000; i++) counts[pickVariant(`enr_${i}`, 'step', 2)]!++;
    expect(Math.min(...counts)).toBeGreaterThan(400);
    expect(pickVariant('enr_1', 'step', 1)).toBe(0);
  });
});
