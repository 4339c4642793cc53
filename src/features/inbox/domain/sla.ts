/**
 * Service-level targets of an inbox (first response, resolution) and where a conversation stands with
 * them. Pure: given the inbox's targets and working hours and what happened in the conversation (customer
 * messages, our replies, status changes), it says when each target is due, whether it was met, and
 * whether the clock is paused. Zammad and FreeScout users ask for exactly this ("escalation" / "SLA").
 *
 * - A cycle starts when a customer message opens the conversation, or reopens it once closed. An agent
 *   reopening a closed conversation starts a resolution cycle without a first-response target.
 * - First response is met by the first reply we send in the cycle (internal comments are not replies).
 *   Resolution is met by closing. Marking as spam stops both clocks, met or not.
 * - The clocks are paused while the conversation is snoozed (until its snooze ends) and while it waits on
 *   the customer (the last message is ours, until the customer writes again): a due time moves by the
 *   business time each pause covered. While a pause runs a target that was not yet breached has no due
 *   time ("paused").
 * - Business time follows the inbox's working hours (./working-hours.ts format); none means 24/7.
 */
import { addBusinessMinutes, type Interval } from './business-time.js';
import { parseWorkingHours, type ParsedWorkingHours, type WorkingHours } from './working-hours.js';

export interface SlaSettings {
  /** Business minutes from a customer's opening message to our first reply; null: no target. */
  firstResponseMinutes: number | null;
  /** Business minutes from the opening message to closing; null: no target. */
  resolutionMinutes: number | null;
  /** "Breaching soon" when a target is due within this many business minutes. */
  soonMinutes: number;
  /** The inbox's working hours; null: around the clock. */
  workingHours: WorkingHours | null;
}

export const DEFAULT_SOON_MINUTES = 60;
const MAX_TARGET = 365 * 24 * 60;

export type SlaSettingsCheck = { ok: true; settings: SlaSettings | null } | { ok: false; message: string; field: string };

/** Checks what a person asks for; `settings: null` when neither target is set (the inbox has no SLA). */
export function checkSlaSettings(input: { firstResponseMinutes?: number | null; resolutionMinutes?: number | null; soonMinutes?: number | null; workingHours?: unknown }): SlaSettingsCheck {
  const target = (v: number | null | undefined, field: string): { ok: true; v: number | null } | { ok: false; message: string; field: string } => {
    if (v === null || v === undefined) return { ok: true, v: null };
    if (!Number.isInteger(v) || v < 1 || v > MAX_TARGET) return { ok: false, message: `${field} is a whole number of business minutes from 1 to ${MAX_TARGET} (a year), or null for no target.`, field };
    return { ok: true, v };
  };
  const fr = target(input.firstResponseMinutes, 'firstResponseMinutes');
  if (!fr.ok) return fr;
  const res = target(input.resolutionMinutes, 'resolutionMinutes');
  if (!res.ok) return res;
  const soon = input.soonMinutes ?? DEFAULT_SOON_MINUTES;
  if (!Number.isInteger(soon) || soon < 1 || soon > 7 * 24 * 60) return { ok: false, message: 'soonMinutes is a whole number of business minutes from 1 to 10080 (a week).', field: 'soonMinutes' };
  let workingHours: WorkingHours | null = null;
  if (input.workingHours !== null && input.workingHours !== undefined) {
    const parsed = parseWorkingHours(input.workingHours);
    if (parsed.kind === 'unreadable') return { ok: false, message: `The working hours cannot be read (${parsed.problem}). Write them as {"timezone": "Europe/Paris", "days": {"mon": [["09:00", "17:00"]]}}.`, field: 'workingHours' };
    if (parsed.kind === 'hours') workingHours = input.workingHours as WorkingHours;
  }
  if (fr.v === null && res.v === null) return { ok: true, settings: null };
  return { ok: true, settings: { firstResponseMinutes: fr.v, resolutionMinutes: res.v, soonMinutes: soon, workingHours } };
}

/** The SLA part of `inboxes.settings` (JSON), or null when the inbox has none (or it cannot be read). */
export function slaOfInboxSettings(settings: string | null | undefined): SlaSettings | null {
  if (!settings) return null;
  try {
    const sla = (JSON.parse(settings) as { sla?: unknown }).sla as Record<string, unknown> | undefined;
    if (!sla || typeof sla !== 'object') return null;
    const checked = checkSlaSettings(sla as never);
    return checked.ok ? checked.settings : null;
  } catch {
    return null;
  }
}

export type SlaFact =
  /** A customer's message (inbound, classified normal). */
  | { kind: 'customer'; at: number }
  /** A reply we sent (not a comment). */
  | { kind: 'reply'; at: number }
  /** A status change; `reason: 'customer_replied'` when a customer's message reopened it. */
  | { kind: 'status'; at: number; to: string; snoozedUntil?: number | null; reason?: string };

export interface SlaTarget {
  /** When it is (or was) due; null while a pause runs that began before it was due. */
  dueAt: number | null;
  metAt: number | null;
  breached: boolean;
}

export interface SlaState {
  cycleStartedAt: number | null;
  /** null: no first-response target, or this cycle has none (an agent reopened it). */
  firstResponse: SlaTarget | null;
  resolution: SlaTarget | null;
  paused: 'snoozed' | 'waiting_on_customer' | null;
  /** Closed or spam: nothing is due until a customer writes again. */
  stopped: boolean;
  /** The earliest due time of a target not met yet, while the clocks run (what the views and the job read). */
  nextDueAt: number | null;
}

/** Where a conversation stands at `now`, from its facts (any order; sorted here by time, stable). */
export function slaState(hours: ParsedWorkingHours, settings: SlaSettings, facts: readonly SlaFact[], now: number): SlaState {
  let cycle: number | null = null;
  let byCustomer = false;
  let frMet: number | null = null;
  let resMet: number | null = null;
  let stoppedAt: number | null = null;
  let snoozedUntil: number | null = null;
  let waitingSince: number | null = null;
  let pauseFrom: number | null = null;
  let pauses: Interval[] = [];

  const settle = (at: number) => {
    const paused = snoozedUntil !== null || waitingSince !== null;
    if (paused && pauseFrom === null) pauseFrom = at;
    if (!paused && pauseFrom !== null) {
      if (at > pauseFrom) pauses.push({ from: pauseFrom, to: at });
      pauseFrom = null;
    }
  };
  const endSnoozeBy = (at: number) => {
    if (snoozedUntil !== null && snoozedUntil <= at) {
      const until = snoozedUntil;
      snoozedUntil = null;
      settle(until);
    }
  };
  const startCycle = (at: number, customer: boolean) => {
    cycle = at;
    byCustomer = customer;
    frMet = null;
    resMet = null;
    stoppedAt = null;
    snoozedUntil = null;
    waitingSince = null;
    pauseFrom = null;
    pauses = [];
  };

  const sorted = facts.map((f, i) => ({ f, i })).sort((a, b) => a.f.at - b.f.at || a.i - b.i);
  for (const { f } of sorted) {
    endSnoozeBy(f.at);
    if (f.kind === 'customer') {
      if (cycle === null || stoppedAt !== null) startCycle(f.at, true);
      else {
        waitingSince = null;
        snoozedUntil = null; // a customer's message wakes a snoozed conversation
        settle(f.at);
      }
    } else if (f.kind === 'reply') {
      if (cycle === null || stoppedAt !== null) continue;
      if (frMet === null) frMet = f.at;
      if (waitingSince === null) waitingSince = f.at;
      settle(f.at);
    } else if (f.to === 'open') {
      if (cycle !== null && stoppedAt === null) {
        snoozedUntil = null;
        settle(f.at);
      } else startCycle(f.at, f.reason === 'customer_replied');
    } else if (f.to === 'snoozed') {
      if (cycle === null || stoppedAt !== null) continue;
      snoozedUntil = f.snoozedUntil ?? Infinity;
      settle(f.at);
    } else if (f.to === 'closed' || f.to === 'spam') {
      if (cycle === null || stoppedAt !== null) continue;
      if (f.to === 'closed') resMet = f.at;
      snoozedUntil = null;
      waitingSince = null;
      settle(f.at);
      stoppedAt = f.at;
    }
  }
  endSnoozeBy(now);

  const paused = stoppedAt !== null || cycle === null ? null : snoozedUntil !== null ? 'snoozed' : waitingSince !== null ? 'waiting_on_customer' : null;
  const allPauses = pauseFrom !== null ? [...pauses, { from: pauseFrom, to: Infinity }] : pauses;
  const target = (minutes: number | null, metAt: number | null): SlaTarget | null => {
    if (minutes === null || cycle === null) return null;
    const end = metAt ?? stoppedAt ?? Infinity;
    // Pauses after the target was met (or the clocks stopped) do not move it.
    const counted = allPauses.filter((p) => p.from < end).map((p) => ({ from: p.from, to: Math.min(p.to, end) }));
    const dueAt = addBusinessMinutes(hours, cycle, minutes, counted);
    const breached = dueAt !== null && (metAt !== null ? metAt > dueAt : stoppedAt === null ? now >= dueAt : stoppedAt > dueAt);
    return { dueAt, metAt, breached };
  };
  const firstResponse = byCustomer ? target(settings.firstResponseMinutes, frMet) : null;
  const resolution = target(settings.resolutionMinutes, resMet);
  let nextDueAt: number | null = null;
  if (cycle !== null && stoppedAt === null) {
    for (const t of [firstResponse, resolution]) if (t && t.metAt === null && t.dueAt !== null) nextDueAt = nextDueAt === null ? t.dueAt : Math.min(nextDueAt, t.dueAt);
  }
  return { cycleStartedAt: cycle, firstResponse, resolution, paused, stopped: stoppedAt !== null, nextDueAt };
}

/** The working hours the business-time arithmetic reads (null: around the clock). */
export function slaHours(settings: SlaSettings): ParsedWorkingHours {
  return parseWorkingHours(settings.workingHours);
}
