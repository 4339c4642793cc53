import { api, ApiError, withQuery } from './client.js';
import type { Body, Ok } from './contract.js';

export type MeetingType = Ok<'/api/v1/meeting-types/{id}', 'get'>;
export type MeetingTypeInput = Body<'/api/v1/meeting-types', 'post'>;
export type BookingPage = Ok<'/api/v1/booking-pages/{slug}', 'get'>;
export type ManagedMeeting = Ok<'/api/v1/booking-links/{token}', 'get'>;
export type Booked = Ok<'/api/v1/booking-pages/{slug}/bookings', 'post'>;
export type CalendarConnection = Ok<'/api/v1/meetings/calendar', 'get'>;

export const listMeetingTypes = () => api.get<Ok<'/api/v1/meeting-types', 'get'>>('/meeting-types').then((r) => r.meetingTypes);
export const createMeetingType = (input: MeetingTypeInput) => api.post<MeetingType>('/meeting-types', input);
export const listMeetings = () => api.get<Ok<'/api/v1/meetings', 'get'>>('/meetings').then((r) => r.meetings);
export const getCalendar = () => api.get<CalendarConnection>('/meetings/calendar');
export const connectCalendar = (input: Body<'/api/v1/meetings/calendar', 'put'>) => api.put<CalendarConnection>('/meetings/calendar', input);
export const disconnectCalendar = () => api.del<CalendarConnection>('/meetings/calendar');

/**
 * The public booking page's calls: no session, no cookie (a visitor is not signed in; a host trying their
 * own page is treated as a visitor too).
 */
async function publicRequest<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      credentials: 'omit',
      headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { code: 'network_error', message: 'The booking page could not be reached. Check your connection and try again.' });
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) throw new ApiError(res.status, (json as { error?: Record<string, unknown> } | undefined)?.error ?? { code: `http_${res.status}`, message: `The server answered ${res.status}.` });
  return json as T;
}

export const getBookingPage = (slug: string, q: { timeZone: string; from?: string; days?: number }) =>
  publicRequest<BookingPage>('GET', withQuery(`/booking-pages/${encodeURIComponent(slug)}`, q));
export const book = (slug: string, input: Body<'/api/v1/booking-pages/{slug}/bookings', 'post'>) => publicRequest<Booked>('POST', `/booking-pages/${encodeURIComponent(slug)}/bookings`, input);
export const getManagedMeeting = (token: string) => publicRequest<ManagedMeeting>('GET', `/booking-links/${encodeURIComponent(token)}`);
export const cancelBooking = (token: string) => publicRequest<ManagedMeeting>('POST', `/booking-links/${encodeURIComponent(token)}/cancel`, {});
export const rescheduleBooking = (token: string, start: string) => publicRequest<ManagedMeeting>('POST', `/booking-links/${encodeURIComponent(token)}/reschedule`, { start });
