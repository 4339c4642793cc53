/**
 * What a sequence is: its steps and settings, validated. A definition is frozen into each enrollment
 * when it starts, so editing a sequence changes new enrollments only. Pure.
 */
import { MAX_BUSINESS_DAYS, MAX_DELAY_HOURS, parseClock, type Delay } from './schedule.js';

export const STEP_TYPES = ['email', 'manual_email', 'call', 'task'] as const;
export type StepType = (typeof STEP_TYPES)[number];
export const MAX_STEPS = 30;
export const MAX_VARIANTS = 5;

export interface EmailVariant {
  subject: string;
  html: string;
}

export interface SequenceStep {
  /** Stable within a sequence version: A/B assignment and the deterministic Message-ID use it. */
  id: string;
  type: StepType;
  delay: Delay;
  /** Email steps: one variant, or up to five for an A/B test. Tasks: the first is the task's title/notes. */
  variants: EmailVariant[];
  /** Task notes (manual email, call, general task). */
  note: string;
}

export interface SequenceSettings {
  timeZone: string;
  windowStart: number;
  windowEnd: number;
  weekdays: number[];
  holidays: string[];
  threaded: boolean;
  unenrollOnCompanyReply: boolean;
  /** Open and click tracking of the email steps: true, false, or null for the sender's own default (absent in older definitions: null). */
  trackOpens?: boolean | null;
  trackClicks?: boolean | null;
}

export interface SequenceDefinition {
  steps: SequenceStep[];
  settings: SequenceSettings;
}

export interface StepInput {
  id?: string;
  type: string;
  delay?: { unit?: string; value?: number };
  subject?: string;
  html?: string;
  variants?: Array<{ subject?: string; html?: string }>;
  note?: string;
}

export interface SettingsInput {
  timeZone?: string;
  window?: { start?: string; end?: string };
  weekdays?: number[];
  holidays?: string[];
  threaded?: boolean;
  unenrollOnCompanyReply?: boolean;
  trackOpens?: boolean | null;
  trackClicks?: boolean | null;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string; field: string };

export const DEFAULT_SETTINGS: Omit<SequenceSettings, 'timeZone'> = {
  windowStart: 8 * 60,
  windowEnd: 18 * 60,
  weekdays: [1, 2, 3, 4, 5],
  holidays: [],
  threaded: true,
  unenrollOnCompanyReply: false,
  trackOpens: null,
  trackClicks: null,
};

export function checkSettings(input: SettingsInput, base: SequenceSettings, isZone: (z: string) => boolean): Checked<SequenceSettings> {
  const out: SequenceSettings = { ...base, weekdays: [...base.weekdays], holidays: [...base.holidays] };
  if (input.timeZone !== undefined) {
    if (!isZone(input.timeZone)) return { ok: false, field: 'settings.timeZone', message: `${input.timeZone} is not a time zone. Use an IANA name such as Europe/Paris.` };
    out.timeZone = input.timeZone;
  }
  if (input.window) {
    const s = input.window.start !== undefined ? parseClock(input.window.start) : out.windowStart;
    const e = input.window.end !== undefined ? parseClock(input.window.end) : out.windowEnd;
    if (s === null || e === null) return { ok: false, field: 'settings.window', message: 'The send window is two times, HH:MM (e.g. 08:00 to 18:00).' };
    if (e - s < 30) return { ok: false, field: 'settings.window', message: 'The send window must end at least 30 minutes after it starts.' };
    out.windowStart = s;
    out.windowEnd = e;
  }
  if (input.weekdays !== undefined) {
    const days = [...new Set(input.weekdays)].sort();
    if (!days.length || days.some((d) => !Number.isInteger(d) || d < 1 || d > 7)) return { ok: false, field: 'settings.weekdays', message: 'Choose at least one sending weekday (1 = Monday ... 7 = Sunday).' };
    out.weekdays = days;
  }
  if (input.holidays !== undefined) {
    const bad = input.holidays.find((d) => !/^\d{4}-\d{2}-\d{2}$/.test(d));
    if (bad !== undefined) return { ok: false, field: 'settings.holidays', message: `${bad} is not a date (yyyy-mm-dd).` };
    out.holidays = [...new Set(input.holidays)].sort();
  }
  if (input.threaded !== undefined) out.threaded = input.threaded;
  if (input.unenrollOnCompanyReply !== undefined) out.unenrollOnCompanyReply = input.unenrollOnCompanyReply;
  if (input.trackOpens !== undefined) out.trackOpens = input.trackOpens;
  if (input.trackClicks !== undefined) out.trackClicks = input.trackClicks;
  return { ok: true, value: out };
}

export function checkSteps(input: readonly StepInput[], newStepId: () => string): Checked<SequenceStep[]> {
  if (!input.length) return { ok: false, field: 'steps', message: 'A sequence needs at least one step.' };
  if (input.length > MAX_STEPS) return { ok: false, field: 'steps', message: `A sequence has at most ${MAX_STEPS} steps.` };
  const steps: SequenceStep[] = [];
  const ids = new Set<string>();
  for (const [i, s] of input.entries()) {
    const field = `steps.${i}`;
    if (!(STEP_TYPES as readonly string[]).includes(s.type)) return { ok: false, field: `${field}.type`, message: `Step ${i + 1}: the type is one of ${STEP_TYPES.join(', ')}.` };
    const unit = s.delay?.unit ?? 'business_days';
    const value = s.delay?.value ?? (i === 0 ? 0 : 1);
    if (unit !== 'business_days' && unit !== 'hours') return { ok: false, field: `${field}.delay.unit`, message: `Step ${i + 1}: a delay is in business_days or hours.` };
    const max = unit === 'business_days' ? MAX_BUSINESS_DAYS : MAX_DELAY_HOURS;
    if (!Number.isInteger(value) || value < 0 || value > max) return { ok: false, field: `${field}.delay.value`, message: `Step ${i + 1}: the delay is a whole number from 0 to ${max} ${unit === 'business_days' ? 'business days' : 'hours'}.` };
    const variants = (s.variants ?? (s.subject !== undefined || s.html !== undefined ? [{ subject: s.subject, html: s.html }] : [])).map((v) => ({ subject: (v.subject ?? '').trim(), html: v.html ?? '' }));
    if (s.type === 'email') {
      if (!variants.length) return { ok: false, field: `${field}.subject`, message: `Step ${i + 1}: write the email (subject and body).` };
      if (variants.length > MAX_VARIANTS) return { ok: false, field: `${field}.variants`, message: `Step ${i + 1}: at most ${MAX_VARIANTS} variants.` };
      const first = steps.every((p) => p.type !== 'email');
      for (const [j, v] of variants.entries()) {
        // Follow-ups without a subject take `Re: <first subject>`.
        if (!v.subject && first) return { ok: false, field: `${field}.variants.${j}.subject`, message: `Step ${i + 1}: the first email needs a subject.` };
        if (!v.html.trim()) return { ok: false, field: `${field}.variants.${j}.html`, message: `Step ${i + 1}: the email has no body.` };
      }
    }
    let id = s.id && /^[A-Za-z0-9_-]{1,40}$/.test(s.id) ? s.id : newStepId();
    while (ids.has(id)) id = newStepId();
    ids.add(id);
    steps.push({ id, type: s.type as StepType, delay: { unit, value } as Delay, variants, note: (s.note ?? '').slice(0, 5000) });
  }
  return { ok: true, value: steps };
}

/** `Re: <first subject>` for a threaded follow-up (never `Re: Re:`). */
export function followUpSubject(firstSubject: string): string {
  return /^\s*re:/i.test(firstSubject) ? firstSubject : `Re: ${firstSubject}`;
}

// ---- Enrollments ------------------------------------------------------------------------------

export const ENROLLMENT_STATES = ['active', 'paused', 'finished', 'unenrolled'] as const;
export type EnrollmentState = (typeof ENROLLMENT_STATES)[number];

export const STOP_REASONS = ['replied', 'colleague_replied', 'meeting_booked', 'unsubscribed', 'bounced', 'manual', 'completed', 'contact_deleted', 'connection_lost'] as const;
export type StopReason = (typeof STOP_REASONS)[number];
export const PAUSE_REASONS = ['out_of_office', 'manual'] as const;
export type PauseReason = (typeof PAUSE_REASONS)[number];

/** The stop reasons that forbid enrolling the contact again (the refusal says which). */
export const BLOCKING_REASONS: readonly StopReason[] = ['unsubscribed', 'bounced'];

export type EnrollmentEvent = { type: 'stop'; reason: StopReason } | { type: 'pause'; reason: PauseReason } | { type: 'resume' } | { type: 'complete' };

/** The state an event leads to, or null when it does not apply (a finished enrollment stays finished). */
export function nextEnrollmentState(state: EnrollmentState, e: EnrollmentEvent): EnrollmentState | null {
  if (state === 'finished' || state === 'unenrolled') return null;
  switch (e.type) {
    case 'stop':
      return 'unenrolled';
    case 'complete':
      return 'finished';
    case 'pause':
      return state === 'active' || (state === 'paused' && e.reason === 'out_of_office') ? 'paused' : null;
    case 'resume':
      return state === 'paused' ? 'active' : null;
  }
}
