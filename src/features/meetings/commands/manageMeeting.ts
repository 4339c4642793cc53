import type { CommandEnv } from '../../../platform/context.js';
import { AppError } from '../../../platform/errors.js';
import { verifyMeetingLink } from '../links.js';
import { linkSecret } from '../invites.js';
import { hostUsers, loadMeeting, loadPage } from '../queries.js';
import { meetingView } from '../views.js';
import type { MeetingsTable } from '../tables.js';

export const invalidLink = () =>
  new AppError('invalid_link', 404, 'This link is not valid: it may be incomplete or altered. Use the link from your invitation email.');

/** The meeting a signed manage link names (cancel / reschedule without signing in). */
export async function meetingOfLink(env: CommandEnv, token: string): Promise<MeetingsTable> {
  const id = verifyMeetingLink(token, linkSecret(env));
  if (!id) throw invalidLink();
  try {
    return await loadMeeting(env.db, id);
  } catch {
    throw invalidLink();
  }
}

/** What the visitor sees behind their manage link. */
export async function getManagedMeeting(env: CommandEnv, token: string) {
  const m = await meetingOfLink(env, token);
  const page = await loadPage(env.db, m.account_id, m.meeting_type_id);
  const [host] = await hostUsers(env.db, m.account_id, [m.host_user_id]);
  const v = meetingView(m);
  return { id: v.id, status: v.status, start: v.start, end: v.end, visitorName: v.visitorName, visitorTimeZone: v.visitorTimeZone, pageName: page.row.name, pageSlug: page.row.slug, hostName: host?.name ?? '' };
}
