/** Who sees which connections: rules for `authorize` and `can` (src/platform/authorize.ts). */
import { notFound, permissionDenied } from '../../platform/errors.js';
import { definePolicies } from '../../platform/authorize.js';
import { isAdmin } from '../accounts/index.js';

export const connectionPolicies = definePolicies('connections', {
  /** Personal mail is private: members see only their own personal connections (and every team one). */
  seeAllPersonal: (actor) => (isAdmin(actor.user) ? null : permissionDenied('Only admins see the personal connections of other users.')),
  /** A personal connection of someone else does not exist for a member (404); team ones are visible. */
  view: (actor, c: { type: string; userId: string }) => (c.type === 'personal' && c.userId !== actor.user.id && !isAdmin(actor.user) ? notFound('Connection') : null),
});
