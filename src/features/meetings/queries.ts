/** Reads of the meetings feature (pages, hosts' meetings connections, bookings, calendars). */
import type { Executor } from '../../platform/context.js';
import type { ConnectionsTable } from '../../platform/database/schema.js';
import { AppError, notFound } from '../../platform/errors.js';
import { json, readJson } from '../../platform/database/json.js';
import { newId } from '../../platform/database/ids.js';
import { addressKey } from '../connections/index.js';
import { appendTimelineEvent, companyForEmails, contactDerived, findContactsByEmail } from '../crm/index.js';
import type { BookingWindow, HostAvailability, Interval, PageKind, SlotRules } from './domain/slots.js';
import type { MeetingTypesTable, MeetingsTable } from './tables.js';
import './tables.js';

export interface Question {
  id: string;
  label: string;
  required: boolean;
}

/** A page as the rules see it. */
export interface Page {
  row: MeetingTypesTable;
  kind: PageKind;
  hostUserIds: string[];
  rules: SlotRules;
  availability: HostAvailability;
  questions: Question[];
  /** Minutes before the start at which the visitor is reminded (at most 3). */
  reminders: number[];
}

const questionShape = json.arrayOf(json.object({ id: json.string, label: json.string, required: json.boolean }));

export function pageOf(row: MeetingTypesTable): Page {
  const window = readJson('meeting_types.booking_window', row.booking_window, json.record) as unknown as BookingWindow;
  const availability = readJson('meeting_types.availability', row.availability, json.record) as unknown as HostAvailability;
  return {
    row,
    kind: row.kind,
    hostUserIds: readJson('meeting_types.host_user_ids', row.host_user_ids, json.stringArray),
    availability,
    questions: readJson('meeting_types.questions', row.questions, questionShape, []),
    reminders: readJson('meeting_types.reminders', row.reminders, json.arrayOf(json.number), []),
    rules: {
      durationMin: row.duration_min,
      ...(row.interval_min !== null ? { intervalMin: row.interval_min } : {}),
      minNoticeMin: row.min_notice_min,
      bufferBeforeMin: row.buffer_before_min,
      bufferAfterMin: row.buffer_after_min,
      window,
      maxPerDay: row.max_per_day,
    },
  };
}

export async function loadPage(db: Executor, accountId: string, id: string): Promise<Page> {
  const row = await db.selectFrom('meeting_types').selectAll().where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
  if (!row) throw notFound('Meeting type');
  return pageOf(row);
}

/** A published page by its public slug (inactive pages do not exist for visitors). */
export async function pageBySlug(db: Executor, slug: string): Promise<Page> {
  const row = await db.selectFrom('meeting_types').selectAll().where('slug', '=', slug.toLowerCase()).where('active', '=', 1).executeTakeFirst();
  if (!row) throw notFound('Booking page');
  return pageOf(row);
}

export async function listPages(db: Executor, accountId: string, userId: string | null): Promise<Page[]> {
  let q = db.selectFrom('meeting_types').selectAll().where('account_id', '=', accountId);
  if (userId) q = q.where('owner_user_id', '=', userId);
  return (await q.orderBy('created_at').execute()).map(pageOf);
}

/** The user's meetings connection: their live personal connection flagged "use for meetings", or null. */
export async function meetingsConnectionOf(db: Executor, accountId: string, userId: string): Promise<ConnectionsTable | null> {
  return (
    (await db
      .selectFrom('connections')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('user_id', '=', userId)
      .where('type', '=', 'personal')
      .where('use_for_meetings', '=', 1)
      .where('disconnected_at', 'is', null)
      .executeTakeFirst()) ?? null
  );
}

/** Users of the account with their name, email, state and time zone (missing ids are left out). */
export async function hostUsers(db: Executor, accountId: string, ids: readonly string[]) {
  if (!ids.length) return [];
  return db.selectFrom('users').select(['id', 'name', 'email', 'state']).where('account_id', '=', accountId).where('id', 'in', [...ids]).execute();
}

/** Every Mailroom booking holding any of the hosts in `range` (all pages: a host is one person). */
export async function bookedIntervals(db: Executor, hostIds: readonly string[], range: Interval, exceptMeetingId?: string): Promise<Map<string, Interval[]>> {
  const out = new Map<string, Interval[]>(hostIds.map((h) => [h, []]));
  if (!hostIds.length) return out;
  let q = db
    .selectFrom('meeting_blocks')
    .innerJoin('meetings', 'meetings.id', 'meeting_blocks.meeting_id')
    .select(['meeting_blocks.host_user_id', 'meetings.id', 'meetings.start_at', 'meetings.end_at'])
    .where('meeting_blocks.host_user_id', 'in', [...hostIds])
    .where('meeting_blocks.block_start', '>=', range.start - 24 * 3_600_000)
    .where('meeting_blocks.block_start', '<', range.end);
  if (exceptMeetingId) q = q.where('meetings.id', '!=', exceptMeetingId);
  const seen = new Set<string>();
  for (const r of await q.execute()) {
    const k = `${r.host_user_id}:${r.id}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.get(r.host_user_id)?.push({ start: Number(r.start_at), end: Number(r.end_at) });
  }
  return out;
}

/** Starts of this page's live bookings per host (the per-day limit), and each host's count (round robin load). */
export async function pageBookings(db: Executor, pageId: string, range: Interval): Promise<Array<{ hostUserId: string; start: number }>> {
  const rows = await db
    .selectFrom('meetings')
    .select(['host_user_id', 'start_at'])
    .where('meeting_type_id', '=', pageId)
    .where('status', '=', 'booked')
    .where('start_at', '>=', range.start - 2 * 24 * 3_600_000)
    .where('start_at', '<', range.end + 2 * 24 * 3_600_000)
    .execute();
  return rows.map((r) => ({ hostUserId: r.host_user_id, start: Number(r.start_at) }));
}

export async function calendarRowOf(db: Executor, userId: string) {
  return (await db.selectFrom('meeting_calendars').selectAll().where('user_id', '=', userId).executeTakeFirst()) ?? null;
}

export async function loadMeeting(db: Executor, id: string): Promise<MeetingsTable> {
  const m = await db.selectFrom('meetings').selectAll().where('id', '=', id).executeTakeFirst();
  if (!m) throw notFound('Meeting');
  return m;
}

export async function listMeetings(db: Executor, accountId: string, hostUserId: string | null, from: number) {
  let q = db.selectFrom('meetings').selectAll().where('account_id', '=', accountId).where('end_at', '>=', from);
  if (hostUserId) q = q.where('host_user_id', '=', hostUserId);
  return q.orderBy('start_at').limit(500).execute();
}

/** The visitor's contact: found by email, or created (owner: the host, source 'meeting') in the caller's transaction. */
export async function findOrCreateContact(trx: Executor, p: { accountId: string; ownerId: string; email: string; name: string; now: number }): Promise<{ contactId: string; ownerId: string | null; created: boolean }> {
  const r = addressKey(p.email);
  if (!r.ok) throw new AppError('invalid_request', 400, `${p.email}: ${r.message}`, { field: 'email' });
  const [found] = await findContactsByEmail(trx, p.accountId, [r.key]);
  if (found) return { contactId: found.contactId, ownerId: found.ownerId, created: false };
  const id = newId('con');
  const name = p.name.replace(/\s+/g, ' ').trim().slice(0, 200);
  const [firstName = '', ...rest] = name.split(' ');
  const lastName = rest.join(' ');
  const companyId = await companyForEmails(trx, p.accountId, [r.key]);
  const companyName = companyId ? ((await trx.selectFrom('companies').select('name').where('id', '=', companyId).executeTakeFirst())?.name ?? null) : null;
  await trx
    .insertInto('contacts')
    .values({
      id,
      account_id: p.accountId,
      first_name: firstName,
      last_name: lastName,
      owner_id: p.ownerId,
      company_id: companyId,
      source: 'meeting',
      created_at: p.now,
      updated_at: p.now,
      ...contactDerived({ firstName, lastName, emails: [{ email: r.display, key: r.key }], companyName }),
    })
    .execute();
  await trx.insertInto('contact_emails').values({ account_id: p.accountId, email_key: r.key, email: r.display, contact_id: id, is_primary: 1, bounced_at: null, bounce_reason: null }).execute();
  await appendTimelineEvent(trx, { accountId: p.accountId, contactId: id, kind: 'contact_created', occurredAt: p.now, actorUserId: p.ownerId, refType: 'contact', refId: id, data: { source: 'meeting' } });
  return { contactId: id, ownerId: p.ownerId, created: true };
}

/** The iCalendar texts of invitations the user sent or accepted by email (busy times without CalDAV). */
export async function mailInvitationsOf(db: Executor, userId: string): Promise<string[]> {
  return (await db.selectFrom('meeting_mail_busy').select('ics').where('user_id', '=', userId).limit(5000).execute()).map((r) => r.ics);
}
