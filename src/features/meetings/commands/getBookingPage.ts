import { luxon } from '../../../platform/luxon.js';
import type { CommandEnv } from '../../../platform/context.js';
import { invalidRequest } from '../../../platform/errors.js';
import { addressKey } from '../../connections/index.js';
import { findContactsByEmail } from '../../crm/index.js';
import { gatherHosts } from '../availability.js';
import { groupSlotsByDay, pageSlots, type Interval, type Slot } from '../domain/slots.js';
import { hostUsers, pageBySlug, type Page } from '../queries.js';
import { publicPageView } from '../views.js';

const DAY = 24 * 3_600_000;
export const MAX_RANGE_DAYS = 62;

export interface BookingPageQuery {
  /** The visitor's IANA zone (slots are grouped by their local dates). Default UTC. */
  timeZone?: string;
  /** First day to show (YYYY-MM-DD in the visitor's zone); default today. */
  from?: string;
  /** Days to show from `from` (1 to 62); default 14. */
  days?: number;
}

export function validZone(zone: string | undefined): string {
  if (!zone) return 'UTC';
  if (!luxon().DateTime.local().setZone(zone).isValid) throw invalidRequest(`${zone} is not a time zone (use an IANA name such as Europe/Paris).`, { field: 'timeZone' });
  return zone;
}

/** The free slots of a page over `range` (group: all hosts free; round robin: who would host). */
export async function slotsOf(env: CommandEnv, page: Page, range: Interval, o: { visitorEmail?: string; exceptMeetingId?: string; fresh?: boolean } = {}): Promise<{ slots: Slot[]; unavailableHosts: number }> {
  const { hosts, loadByHost } = await gatherHosts(env, page, range, { ...(o.exceptMeetingId ? { exceptMeetingId: o.exceptMeetingId } : {}), fresh: o.fresh === true });
  let preferredHostId: string | null = null;
  if (page.row.prefer_contact_owner === 1 && o.visitorEmail) {
    const k = addressKey(o.visitorEmail);
    if (k.ok) preferredHostId = (await findContactsByEmail(env.db, page.row.account_id, [k.key]))[0]?.ownerId ?? null;
  }
  const slots = pageSlots({ kind: page.kind, rules: page.rules, hosts: hosts.map((h) => h.input), now: env.now(), preferredHostId, loadByHost, limit: range });
  return { slots, unavailableHosts: hosts.filter((h) => h.problem !== null).length };
}

/**
 * The public booking page (no sign-in): what it is, who hosts, and the free slots grouped by the
 * visitor's local dates. Availability merges Mailroom's bookings and the hosts' calendars; a host whose
 * calendar cannot be read offers nothing (and is told in their settings).
 */
export async function getBookingPage(env: CommandEnv, slug: string, q: BookingPageQuery = {}) {
  const page = await pageBySlug(env.db, slug);
  const zone = validZone(q.timeZone);
  const days = q.days ?? 14;
  if (!Number.isInteger(days) || days < 1 || days > MAX_RANGE_DAYS) throw invalidRequest(`Show 1 to ${MAX_RANGE_DAYS} days.`, { field: 'days' });
  const first = q.from ? luxon().DateTime.fromISO(q.from, { zone }) : luxon().DateTime.fromMillis(env.now(), { zone });
  if (!first.isValid) throw invalidRequest(`${q.from} is not a date (YYYY-MM-DD).`, { field: 'from' });
  const start = first.startOf('day');
  const range = { start: start.toMillis(), end: start.plus({ days }).toMillis() };
  const { slots, unavailableHosts } = await slotsOf(env, page, range);
  const hosts = await hostUsers(env.db, page.row.account_id, page.hostUserIds);
  return {
    page: publicPageView(page, page.hostUserIds.map((id) => ({ name: hosts.find((h) => h.id === id)?.name ?? '' })).filter((h) => h.name)),
    timeZone: zone,
    from: start.toISODate()!,
    days,
    /** True when no host can be booked right now (e.g. a calendar that cannot be read). */
    unavailable: slots.length === 0 && unavailableHosts > 0 && (page.kind === 'group' || unavailableHosts === page.hostUserIds.length),
    slotDays: groupSlotsByDay(slots, zone).map((d) => ({ date: d.date, slots: d.slots.map((s) => ({ start: new Date(s.start).toISOString(), end: new Date(s.end).toISOString(), label: s.label })) })),
  };
}

export const ONE_DAY = DAY;
