/** Who may use sequences, edit one, and see or stop an enrollment: rules for `authorize` (src/platform/authorize.ts). */
import { notFound, permissionDenied } from '../../platform/errors.js';
import { definePolicies } from '../../platform/authorize.js';
import { isAdmin, personalEmailBlocker, userFactsFromRow } from '../accounts/index.js';

export const sequencesPolicies = definePolicies('sequences', {
  /** Sequences send from the user's own mailbox: the personal email permission, on a paid or free seat. */
  use: (actor) => {
    const blocker = personalEmailBlocker(userFactsFromRow(actor.user));
    if (!blocker) return null;
    return permissionDenied(
      blocker === 'view_only_seat'
        ? 'A view-only seat cannot send sequences. Ask an admin for a paid or free seat.'
        : blocker === 'no_permission'
          ? 'You do not have the personal email permission, which sequences need. Ask an admin to grant it.'
          : 'Your user is not active.',
    );
  },
  /** Its owner, or an admin. */
  editSequence: (actor, s: { ownerUserId: string }) => (s.ownerUserId === actor.user.id || isAdmin(actor.user) ? null : permissionDenied('Only the person who created this sequence (or an admin) can change it. Copy it to make your own.')),
  /** The sender (whose mailbox it uses), or an admin; others do not see it. */
  seeEnrollment: (actor, e: { userId: string }) => (e.userId === actor.user.id || isAdmin(actor.user) ? null : notFound('Enrollment')),
});
