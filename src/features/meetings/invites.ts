/**
 * What a booking sends and writes outside Mailroom: the iMIP invitation (RFC 6047) from the host's own
 * mailbox through the outbox (a REQUEST on booking and rescheduling, SEQUENCE raised; a CANCEL with
 * STATUS:CANCELLED), and the event on the host's CalDAV calendar when one is connected.
 */
import { luxon } from '../../platform/luxon.js';
import type { CommandEnv, Executor } from '../../platform/context.js';
import type { ConnectionsTable } from '../../platform/database/schema.js';
import { queueEmail } from '../outbox/index.js';
import { addressKey } from '../connections/index.js';
import { buildInvite, calendarObject } from './ical.js';
import { signMeetingLink } from './links.js';
import { calendarAccount } from './availability.js';
import { CalendarUnreadable, deleteEvent, putEvent } from './caldav.js';
import { calendarRowOf } from './queries.js';
import type { MeetingsTable } from './tables.js';
import { json, readJson } from '../../platform/database/json.js';

export interface MailDeps {
  putBlob: (raw: Buffer) => Promise<string>;
  replyTokenSecret: string;
}

export const linkSecret = (env: CommandEnv) => env.secrets.derive('meeting-links');

export function manageUrl(env: CommandEnv, meetingId: string): string {
  return `${env.settings.publicUrl.replace(/\/+$/, '')}/meet/manage/${signMeetingLink(meetingId, linkSecret(env))}`;
}

function when(m: MeetingsTable): string {
  const z = luxon().DateTime.local().setZone(m.visitor_zone).isValid ? m.visitor_zone : 'UTC';
  const s = luxon().DateTime.fromMillis(Number(m.start_at), { zone: z });
  return `${s.toFormat('cccc d LLLL yyyy, HH:mm')}-${luxon().DateTime.fromMillis(Number(m.end_at), { zone: z }).toFormat('HH:mm')} (${z})`;
}

/** Queues the invitation (or its update / cancellation) to the visitor, from the host's meetings mailbox. */
export async function queueInvite(
  trx: Executor,
  env: CommandEnv,
  deps: MailDeps,
  p: { meeting: MeetingsTable; method: 'REQUEST' | 'CANCEL'; pageName: string; hostName: string; connection: ConnectionsTable; update?: boolean },
): Promise<string> {
  const m = p.meeting;
  const ics = buildInvite({
    method: p.method,
    uid: m.uid,
    sequence: m.sequence,
    start: Number(m.start_at),
    end: Number(m.end_at),
    stamp: env.now(),
    summary: `${p.pageName} with ${p.hostName}`,
    description: p.method === 'CANCEL' ? 'Cancelled.' : `Change or cancel: ${manageUrl(env, m.id)}`,
    organizer: { name: p.hostName, email: p.connection.address },
    attendee: { name: m.visitor_name, email: m.visitor_email },
  });
  const verb = p.method === 'CANCEL' ? 'Cancelled' : p.update ? 'Updated invitation' : 'Invitation';
  const text =
    p.method === 'CANCEL'
      ? `${p.pageName} with ${p.hostName} on ${when(m)} is cancelled.\n`
      : `${p.pageName} with ${p.hostName}\n${when(m)}\n\nReschedule or cancel: ${manageUrl(env, m.id)}\n`;
  const k = addressKey(p.connection.address);
  const domain = (k.ok ? k.key : p.connection.address).split('@')[1] ?? env.settings.inboundDomain;
  const queued = await queueEmail(
    trx,
    { now: env.now(), putBlob: deps.putBlob, replyTokenSecret: deps.replyTokenSecret, messageIdDomain: domain },
    {
      connection: p.connection,
      userId: m.host_user_id,
      email: {
        from: { name: p.hostName, address: p.connection.address },
        to: [{ name: m.visitor_name, address: m.visitor_email }],
        subject: `${verb}: ${p.pageName} with ${p.hostName} @ ${when(m)}`,
        text,
        attachments: [{ filename: p.method === 'CANCEL' ? 'cancel.ics' : 'invite.ics', content: Buffer.from(ics, 'utf8'), contentType: `text/calendar; charset=utf-8; method=${p.method}` }],
      },
      meta: { meetingId: m.id, method: p.method, sequence: m.sequence },
    },
  );
  return queued.outboxId;
}

/**
 * Writes (or removes, when cancelled) the booking on the organizer's CalDAV calendar, after the booking
 * committed. A failure is recorded on the meeting (`caldav_error`), never undoes the booking.
 */
export async function syncCalendarEvent(env: CommandEnv, m: MeetingsTable, p: { pageName: string; hostName: string; hostAddress: string }): Promise<void> {
  const cal = await calendarRowOf(env.db, m.host_user_id);
  if (!cal) return;
  const account = calendarAccount(env, cal);
  try {
    if (m.status === 'cancelled') {
      if (m.caldav_href) await deleteEvent(account, m.caldav_href);
      await env.db.updateTable('meetings').set({ caldav_href: null, caldav_error: null }).where('id', '=', m.id).execute();
      return;
    }
    const ics = calendarObject({
      uid: m.uid,
      sequence: m.sequence,
      start: Number(m.start_at),
      end: Number(m.end_at),
      stamp: env.now(),
      summary: `${p.pageName} with ${m.visitor_name}`,
      description: `Booked through Mailroom by ${m.visitor_name} <${m.visitor_email}>.`,
      organizer: { name: p.hostName, email: p.hostAddress },
      attendee: { name: m.visitor_name, email: m.visitor_email },
    });
    const href = await putEvent(account, `${m.id}.ics`, ics, m.caldav_href);
    await env.db.updateTable('meetings').set({ caldav_href: href, caldav_error: null }).where('id', '=', m.id).execute();
  } catch (err) {
    const message = err instanceof CalendarUnreadable ? err.message : (err as Error).message;
    await env.db.updateTable('meetings').set({ caldav_error: message.slice(0, 500) }).where('id', '=', m.id).execute();
  }
}

/**
 * Schedules the visitor's reminders (minutes before the start; those already past are skipped) through the
 * outbox as scheduled emails from the host's mailbox, written in the visitor's time zone. Returns their
 * outbox ids, kept on the meeting so a cancel or a new time stops them.
 */
export async function scheduleReminders(
  trx: Executor,
  env: CommandEnv,
  deps: MailDeps,
  p: { meeting: MeetingsTable; reminders: readonly number[]; pageName: string; hostName: string; connection: ConnectionsTable },
): Promise<string[]> {
  const m = p.meeting;
  const ids: string[] = [];
  const k = addressKey(p.connection.address);
  const domain = (k.ok ? k.key : p.connection.address).split('@')[1] ?? env.settings.inboundDomain;
  for (const minutes of [...new Set(p.reminders)].slice(0, 3)) {
    const sendAt = Number(m.start_at) - minutes * 60_000;
    if (sendAt <= env.now()) continue;
    const queued = await queueEmail(
      trx,
      { now: env.now(), putBlob: deps.putBlob, replyTokenSecret: deps.replyTokenSecret, messageIdDomain: domain },
      {
        connection: p.connection,
        userId: m.host_user_id,
        sendAt,
        email: {
          from: { name: p.hostName, address: p.connection.address },
          to: [{ name: m.visitor_name, address: m.visitor_email }],
          subject: `Reminder: ${p.pageName} with ${p.hostName} @ ${when(m)}`,
          text: `${p.pageName} with ${p.hostName}\n${when(m)}\n\nReschedule or cancel: ${manageUrl(env, m.id)}\n`,
        },
        meta: { meetingId: m.id, reminder: minutes },
      },
    );
    ids.push(queued.outboxId);
  }
  return ids;
}

/** Stops the meeting's reminders that have not left yet. */
export async function stopReminders(trx: Executor, m: MeetingsTable): Promise<void> {
  const ids = readJson('meetings.reminder_outbox_ids', m.reminder_outbox_ids, json.stringArray, []);
  if (ids.length) await trx.updateTable('outbox').set({ state: 'cancelled' }).where('id', 'in', ids).where('state', 'in', ['scheduled', 'queued']).execute();
}
