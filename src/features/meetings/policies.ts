/** Who may publish booking pages and see bookings: rules for `authorize` (src/platform/authorize.ts). */
import { notFound, permissionDenied } from '../../platform/errors.js';
import { definePolicies } from '../../platform/authorize.js';
import { isAdmin } from '../accounts/index.js';

export const meetingsPolicies = definePolicies('meetings', {
  /** Paid and free seats publish pages; view-only seats cannot. */
  publish: (actor) =>
    actor.user.seat === 'view_only' ? permissionDenied('View-only users cannot publish booking pages. Ask an admin for a paid or free seat.') : null,
  /** A page and its bookings: its owner, its hosts and admins; for others it does not exist. */
  manage: (actor, page: { ownerUserId: string; hostUserIds: readonly string[] }) =>
    isAdmin(actor.user) || page.ownerUserId === actor.user.id || page.hostUserIds.includes(actor.user.id) ? null : notFound('Meeting type'),
  /** Another user's calendar connection: admins only. */
  calendarOf: (actor, target: { userId: string }) => (target.userId === actor.user.id || isAdmin(actor.user) ? null : notFound('User')),
});
