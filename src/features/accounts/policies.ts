/**
 * Who may do what in accounts: adding users, teams, the audit log, API tokens. Rules for `authorize`
 * (src/platform/authorize.ts); `unlessAdmin` is shared with other features' policies.
 */
import { notFound, permissionDenied, type AppError } from '../../platform/errors.js';
import { definePolicies } from '../../platform/authorize.js';
import type { Actor } from '../../platform/context.js';
import { isAdmin } from './domain/users.js';

/**
 * The refusal (403) of an actor who is not an admin or super admin of their account, or null. For rules of
 * any feature: `(actor) => unlessAdmin(actor, 'delete companies')` (called when the rule runs, so features
 * that import each other in a cycle never see it uninitialised).
 */
export function unlessAdmin(actor: Actor, doing: string): AppError | null {
  return isAdmin(actor.user) ? null : permissionDenied(`Only admins can ${doing}. Ask an admin of your account.`);
}

export const accountsPolicies = definePolicies('accounts', {
  addUser: (actor) => unlessAdmin(actor, 'add users'),
  createTeam: (actor) => unlessAdmin(actor, 'create teams'),
  renameTeam: (actor) => unlessAdmin(actor, 'rename teams'),
  deleteTeam: (actor) => unlessAdmin(actor, 'delete teams'),
  readAuditLog: (actor) => unlessAdmin(actor, 'read the audit log'),
  /** A token for oneself, or (admins) for another user of the account. */
  createTokenFor: (actor, user: { userId: string }) =>
    user.userId === actor.user.id || isAdmin(actor.user) ? null : permissionDenied('Only admins can create tokens for other users.'),
  /** One's own tokens; admins any token of the account. Others' tokens do not exist for members (404). */
  revokeToken: (actor, token: { userId: string }) => (token.userId === actor.user.id || isAdmin(actor.user) ? null : notFound('API token')),
});
