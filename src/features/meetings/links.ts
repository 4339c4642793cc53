/**
 * Signed manage links for a booking (cancel / reschedule without signing in): `<meetingId>.<HMAC>`,
 * HMAC-SHA256 of "meeting-link:<meetingId>" with a secret derived for this purpose, compared in
 * constant time. A link names one meeting and nothing else; a forged or altered one is refused.
 */
import crypto from 'node:crypto';

const mac = (meetingId: string, secret: string) => crypto.createHmac('sha256', secret).update(`meeting-link:${meetingId}`).digest('base64url');

export function signMeetingLink(meetingId: string, secret: string): string {
  return `${meetingId}.${mac(meetingId, secret)}`;
}

/** The meeting id of a valid token, or null. */
export function verifyMeetingLink(token: string, secret: string): string | null {
  const dot = token.lastIndexOf('.');
  if (dot <= 0) return null;
  const id = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1));
  const want = Buffer.from(mac(id, secret));
  return given.length === want.length && crypto.timingSafeEqual(given, want) ? id : null;
}

/** Slugs: lower-case letters, digits and dashes, 3 to 60, starting and ending with a letter or digit. */
export function checkSlug(slug: string): string | null {
  return /^[a-z0-9](?:[a-z0-9-]{1,58})[a-z0-9]$/.test(slug) ? null : 'use 3 to 60 lower-case letters, digits and dashes, starting and ending with a letter or digit';
}
