/**
 * The meetings tables (migration 017-meetings), added to the database's row types by interface merging
 * (the platform's schema.ts lists the other features' tables; this feature owns its own).
 */
import type { PageKind } from './domain/slots.js';

export type MeetingStatus = 'booked' | 'cancelled';

export interface MeetingTypesTable {
  id: string;
  account_id: string;
  owner_user_id: string;
  slug: string;
  name: string;
  description: string;
  kind: PageKind;
  /** JSON array of user ids (single: the owner). */
  host_user_ids: string;
  prefer_contact_owner: number;
  duration_min: number;
  interval_min: number | null;
  min_notice_min: number;
  buffer_before_min: number;
  buffer_after_min: number;
  /** JSON BookingWindow. */
  booking_window: string;
  max_per_day: number | null;
  /** JSON HostAvailability (time zone, weekly hours, overrides). */
  availability: string;
  /** JSON array of extra questions. */
  questions: string;
  /** JSON array of reminder offsets in minutes before the start (at most 3). */
  reminders: string;
  active: number;
  created_at: number;
  updated_at: number;
}

export interface MeetingCalendarsTable {
  user_id: string;
  account_id: string;
  server_url: string;
  username: string;
  /** Sealed password. */
  credentials: string;
  calendar_url: string | null;
  last_error: string | null;
  last_checked_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface MeetingsTable {
  id: string;
  account_id: string;
  meeting_type_id: string;
  /** The organizer (whose connection sends the invite). */
  host_user_id: string;
  /** JSON array: every host holding the time (group: all). */
  host_user_ids: string;
  connection_id: string;
  contact_id: string | null;
  start_at: number;
  end_at: number;
  status: MeetingStatus;
  uid: string;
  sequence: number;
  visitor_name: string;
  visitor_email: string;
  visitor_zone: string;
  answers: string;
  /** The visitor's answer to the invitation (iTIP REPLY PARTSTAT): ACCEPTED, DECLINED, TENTATIVE; null before. */
  visitor_response: string | null;
  /** JSON array of the outbox ids of the scheduled reminders (cancelled with the meeting or its old time). */
  reminder_outbox_ids: string;
  caldav_href: string | null;
  caldav_error: string | null;
  created_at: number;
  updated_at: number;
  cancelled_at: number | null;
}

export interface MeetingBlocksTable {
  host_user_id: string;
  block_start: number;
  meeting_id: string;
}

/** An invitation the host sent or accepted by email: its event blocks their time (see recordInvitationMail). */
export interface MeetingMailBusyTable {
  user_id: string;
  uid: string;
  account_id: string;
  /** The VCALENDAR text (one event and its overrides), expanded when read. */
  ics: string;
  updated_at: number;
}

declare module '../../platform/database/schema.js' {
  interface DB {
    meeting_types: MeetingTypesTable;
    meeting_calendars: MeetingCalendarsTable;
    meetings: MeetingsTable;
    meeting_blocks: MeetingBlocksTable;
    meeting_mail_busy: MeetingMailBusyTable;
  }
}
