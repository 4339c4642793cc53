/**
 * The host's calendar over CalDAV (RFC 4791), through tsdav: any server (Nextcloud, Radicale, Fastmail,
 * iCloud...). Busy times are the calendar objects in the range, expanded on OUR side (domain/ics.ts):
 * servers such as Radicale ignore the `expand` request. The server's host passes the SSRF guard before
 * every use (private addresses only when the operator allows them, MAILROOM_ALLOW_PRIVATE_HOSTS), and
 * every request is pinned to the checked addresses of that one host (src/platform/security/pinned-fetch.ts).
 *
 * Any failure (unreachable, refused password, no calendar, text that is not iCalendar) is a
 * CalendarUnreadable: the caller shows the host as unavailable and tells them, never as free.
 */
import { createDAVClient, type DAVCalendar } from 'tsdav';
import { resolveSafeHost, type SafeHost } from '../../platform/security/host-guard.js';
import { pinnedFetch } from '../../platform/security/pinned-fetch.js';
import { busyFromICalendar } from './ical.js';
import type { Interval } from './domain/slots.js';

export interface CalDavAccount {
  serverUrl: string;
  username: string;
  password: string;
  /** The calendar to use; null: the first one that holds events. */
  calendarUrl: string | null;
}

export class CalendarUnreadable extends Error {
  override readonly name = 'CalendarUnreadable';
}

const TIMEOUT_MS = 15_000;

async function open(account: CalDavAccount) {
  let url: URL;
  try {
    url = new URL(account.serverUrl);
  } catch {
    throw new CalendarUnreadable(`${account.serverUrl} is not a URL.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new CalendarUnreadable('The calendar server must be an http(s) URL.');
  let safe: SafeHost;
  try {
    safe = await resolveSafeHost(url.hostname.replace(/^\[|\]$/g, ''));
  } catch (err) {
    throw new CalendarUnreadable((err as Error).message);
  }
  // Every request goes to the checked addresses of this host only (no DNS rebinding, no other host),
  // redirects not followed, with a timeout and a response size cap; the PROPFIND/REPORT round trips of
  // one read share pooled connections.
  const fetchWithTimeout = pinnedFetch(safe, { timeoutMs: TIMEOUT_MS, keepAlive: true });
  try {
    const client = await createDAVClient({
      serverUrl: account.serverUrl,
      credentials: { username: account.username, password: account.password },
      authMethod: 'Basic',
      defaultAccountType: 'caldav',
      fetch: fetchWithTimeout,
    });
    const calendars = await client.fetchCalendars();
    const calendar = account.calendarUrl
      ? calendars.find((c) => sameUrl(c.url, account.calendarUrl!))
      : calendars.find((c) => !c.components || c.components.includes('VEVENT'));
    if (!calendar) throw new CalendarUnreadable(account.calendarUrl ? `The calendar ${account.calendarUrl} was not found on the server.` : 'The server has no calendar with events.');
    return { client, calendar, calendars };
  } catch (err) {
    if (err instanceof CalendarUnreadable) throw err;
    throw new CalendarUnreadable(`The calendar server could not be read: ${(err as Error).message}`);
  }
}

const sameUrl = (a: string, b: string) => a.replace(/\/+$/, '') === b.replace(/\/+$/, '');

/** Checks the account and returns the calendar it will use. */
export async function checkCalendar(account: CalDavAccount): Promise<{ calendarUrl: string; name: string }> {
  const { calendar } = await open(account);
  return { calendarUrl: calendar.url, name: typeof calendar.displayName === 'string' ? calendar.displayName : calendar.url };
}

/** The host's busy intervals overlapping `range`, recurring events expanded on our side. */
export async function readBusy(account: CalDavAccount, range: Interval, hostZone: string): Promise<Interval[]> {
  const { client, calendar } = await open(account);
  let objects: Array<{ data?: unknown; url: string }>;
  try {
    objects = await client.fetchCalendarObjects({
      calendar,
      timeRange: { start: new Date(range.start).toISOString(), end: new Date(range.end).toISOString() },
    });
  } catch (err) {
    throw new CalendarUnreadable(`The calendar's events could not be read: ${(err as Error).message}`);
  }
  const texts = objects.map((o) => o.data).filter((d): d is string => typeof d === 'string' && d.length > 0);
  if (texts.length !== objects.length) throw new CalendarUnreadable('The calendar server answered without the events\' data.');
  try {
    return busyFromICalendar(texts, range, hostZone);
  } catch (err) {
    throw new CalendarUnreadable(`The calendar holds an event that is not iCalendar: ${(err as Error).message}`);
  }
}

/** Stores (or replaces) the booking's event on the host's calendar; returns its URL. */
export async function putEvent(account: CalDavAccount, filename: string, ics: string, existingHref?: string | null): Promise<string> {
  const { client, calendar } = await open(account);
  const res = existingHref
    ? await client.updateCalendarObject({ calendarObject: { url: existingHref, data: ics } })
    : await client.createCalendarObject({ calendar, filename, iCalString: ics });
  if (!res.ok) throw new CalendarUnreadable(`The calendar server refused the event (${res.status} ${res.statusText}).`);
  return existingHref ?? new URL(filename, calendar.url.endsWith('/') ? calendar.url : `${calendar.url}/`).toString();
}

/** Removes the booking's event from the host's calendar (a cancelled booking). */
export async function deleteEvent(account: CalDavAccount, href: string): Promise<void> {
  const { client } = await open(account);
  const res = await client.deleteCalendarObject({ calendarObject: { url: href, etag: '' } });
  if (!res.ok && res.status !== 404) throw new CalendarUnreadable(`The calendar server refused to delete the event (${res.status}).`);
}

export type { DAVCalendar };
