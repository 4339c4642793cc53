import type { Actor, CommandEnv } from '../../../platform/context.js';
import { AppError, invalidRequest } from '../../../platform/errors.js';
import { recordAudit } from '../../../platform/audit.js';
import { authorize } from '../../../platform/authorize.js';
import { CalendarUnreadable, checkCalendar } from '../caldav.js';
import { meetingsPolicies } from '../policies.js';
import { calendarRowOf } from '../queries.js';
import { calendarView } from '../views.js';

export interface ConnectCalendarInput {
  /** The CalDAV server (or the calendar home) URL, e.g. https://cloud.example.com/remote.php/dav */
  serverUrl: string;
  username: string;
  password: string;
  /** A calendar's URL; default the first calendar holding events. */
  calendarUrl?: string | null;
}

/**
 * Connects the caller's CalDAV calendar (any RFC 4791 server): checked by reading it now, then kept with
 * the password sealed. From then on its busy times (recurrences expanded) block the caller's slots, and
 * bookings are written to it. A calendar that later cannot be read makes the caller unavailable (and
 * `lastError` says why), never free.
 */
export async function connectCalendar(env: CommandEnv, actor: Actor, input: ConnectCalendarInput) {
  authorize(actor, meetingsPolicies.publish);
  if (!/^https?:\/\//i.test(input.serverUrl)) throw invalidRequest('The calendar server must be an http(s) URL.', { field: 'serverUrl' });
  let found: { calendarUrl: string };
  try {
    found = await checkCalendar({ serverUrl: input.serverUrl, username: input.username, password: input.password, calendarUrl: input.calendarUrl ?? null });
  } catch (err) {
    if (err instanceof CalendarUnreadable) throw new AppError('calendar_unreachable', 422, err.message, { field: 'serverUrl' }, { resolution: 'Check the server URL, the user name and the password (an app password for iCloud or Fastmail).' });
    throw err;
  }
  const now = env.now();
  const values = { server_url: input.serverUrl, username: input.username, credentials: env.secrets.seal(input.password), calendar_url: found.calendarUrl, last_error: null, last_checked_at: now, updated_at: now };
  await env.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('meeting_calendars').where('user_id', '=', actor.user.id).execute();
    await trx.insertInto('meeting_calendars').values({ user_id: actor.user.id, account_id: actor.accountId, created_at: now, ...values }).execute();
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'meeting_calendar.connected', targetType: 'user', targetId: actor.user.id, data: { serverUrl: input.serverUrl }, at: now });
  });
  return calendarView(await calendarRowOf(env.db, actor.user.id));
}

export async function disconnectCalendar(env: CommandEnv, actor: Actor) {
  await env.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('meeting_calendars').where('user_id', '=', actor.user.id).execute();
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'meeting_calendar.disconnected', targetType: 'user', targetId: actor.user.id, data: {}, at: env.now() });
  });
  return calendarView(null);
}
