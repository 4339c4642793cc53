import type { Kysely } from 'kysely';

/**
 * Meetings (issue 16): booking pages (meeting types) on a host's personal meetings connection, the
 * host's CalDAV calendar, bookings, and `meeting_blocks`: one row per 5-minute block a booking holds
 * per host, whose primary key makes two bookings of one host at overlapping times impossible on SQLite
 * and PostgreSQL alike (the loser of a race gets a unique violation, answered "this time was just taken").
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('meeting_types')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('owner_user_id', 'text', (c) => c.notNull())
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('kind', 'text', (c) => c.notNull().defaultTo('single'))
    .addColumn('host_user_ids', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('prefer_contact_owner', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('duration_min', 'integer', (c) => c.notNull())
    .addColumn('interval_min', 'integer')
    .addColumn('min_notice_min', 'integer', (c) => c.notNull().defaultTo(120))
    .addColumn('buffer_before_min', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('buffer_after_min', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('booking_window', 'text', (c) => c.notNull())
    .addColumn('max_per_day', 'integer')
    .addColumn('availability', 'text', (c) => c.notNull())
    .addColumn('questions', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('reminders', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('meeting_types_account_idx').on('meeting_types').columns(['account_id', 'owner_user_id']).execute();

  await db.schema
    .createTable('meeting_calendars')
    .addColumn('user_id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('server_url', 'text', (c) => c.notNull())
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('credentials', 'text', (c) => c.notNull())
    .addColumn('calendar_url', 'text')
    .addColumn('last_error', 'text')
    .addColumn('last_checked_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('meetings')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('meeting_type_id', 'text', (c) => c.notNull())
    .addColumn('host_user_id', 'text', (c) => c.notNull())
    .addColumn('host_user_ids', 'text', (c) => c.notNull())
    .addColumn('connection_id', 'text', (c) => c.notNull())
    .addColumn('contact_id', 'text')
    .addColumn('start_at', 'bigint', (c) => c.notNull())
    .addColumn('end_at', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('uid', 'text', (c) => c.notNull().unique())
    .addColumn('sequence', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('visitor_name', 'text', (c) => c.notNull())
    .addColumn('visitor_email', 'text', (c) => c.notNull())
    .addColumn('visitor_zone', 'text', (c) => c.notNull())
    .addColumn('answers', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('visitor_response', 'text')
    .addColumn('reminder_outbox_ids', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('caldav_href', 'text')
    .addColumn('caldav_error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('cancelled_at', 'bigint')
    .execute();
  await db.schema.createIndex('meetings_host_start_idx').on('meetings').columns(['host_user_id', 'start_at']).execute();
  await db.schema.createIndex('meetings_type_start_idx').on('meetings').columns(['meeting_type_id', 'start_at']).execute();
  await db.schema.createIndex('meetings_contact_idx').on('meetings').columns(['contact_id']).execute();

  await db.schema
    .createTable('meeting_blocks')
    .addColumn('host_user_id', 'text', (c) => c.notNull())
    .addColumn('block_start', 'bigint', (c) => c.notNull())
    .addColumn('meeting_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('meeting_blocks_pk', ['host_user_id', 'block_start'])
    .execute();
  await db.schema.createIndex('meeting_blocks_meeting_idx').on('meeting_blocks').column('meeting_id').execute();

  // Invitations the host sent or accepted by email (text/calendar parts in their synced personal mail):
  // busy times for hosts without CalDAV. The event's iCalendar text, expanded when read (recurrences).
  await db.schema
    .createTable('meeting_mail_busy')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('uid', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('ics', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('meeting_mail_busy_pk', ['user_id', 'uid'])
    .execute();
}
