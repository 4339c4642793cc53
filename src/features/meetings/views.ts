/** API shapes of the meetings feature. */
import type { Page } from './queries.js';
import type { MeetingsTable } from './tables.js';
import type { MeetingCalendarsTable } from './tables.js';
import { json, readJson } from '../../platform/database/json.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

export function meetingTypeView(p: Page, publicUrl: string) {
  const r = p.row;
  return {
    id: r.id,
    slug: r.slug,
    url: `${publicUrl.replace(/\/+$/, '')}/meet/${r.slug}`,
    name: r.name,
    description: r.description,
    kind: p.kind,
    ownerUserId: r.owner_user_id,
    hostUserIds: p.hostUserIds,
    preferContactOwner: r.prefer_contact_owner === 1,
    durationMin: r.duration_min,
    intervalMin: r.interval_min,
    minNoticeMin: r.min_notice_min,
    bufferBeforeMin: r.buffer_before_min,
    bufferAfterMin: r.buffer_after_min,
    window: p.rules.window,
    maxPerDay: r.max_per_day,
    availability: p.availability,
    questions: p.questions,
    reminders: p.reminders,
    active: r.active === 1,
    createdAt: iso(r.created_at)!,
  };
}

export type MeetingTypeView = ReturnType<typeof meetingTypeView>;

/** What a visitor sees of a page: no ids of users, no emails. */
export function publicPageView(p: Page, hosts: Array<{ name: string }>) {
  return {
    slug: p.row.slug,
    name: p.row.name,
    description: p.row.description,
    kind: p.kind,
    durationMin: p.row.duration_min,
    hostNames: hosts.map((h) => h.name),
    hostTimeZone: p.availability.timeZone,
    questions: p.questions,
  };
}

export function meetingView(m: MeetingsTable) {
  return {
    id: m.id,
    meetingTypeId: m.meeting_type_id,
    hostUserId: m.host_user_id,
    hostUserIds: readJson('meetings.host_user_ids', m.host_user_ids, json.stringArray, [m.host_user_id]),
    contactId: m.contact_id,
    start: iso(m.start_at)!,
    end: iso(m.end_at)!,
    status: m.status,
    uid: m.uid,
    sequence: m.sequence,
    visitorName: m.visitor_name,
    visitorEmail: m.visitor_email,
    visitorTimeZone: m.visitor_zone,
    answers: readJson('meetings.answers', m.answers, json.record, {}),
    visitorResponse: m.visitor_response,
    calendarError: m.caldav_error,
    createdAt: iso(m.created_at)!,
    cancelledAt: iso(m.cancelled_at),
  };
}

export function calendarView(c: MeetingCalendarsTable | null) {
  if (!c) return { connected: false as const, serverUrl: null, username: null, calendarUrl: null, lastError: null, lastCheckedAt: null };
  return { connected: true as const, serverUrl: c.server_url, username: c.username, calendarUrl: c.calendar_url, lastError: c.last_error, lastCheckedAt: iso(c.last_checked_at) };
}
