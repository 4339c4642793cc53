import { permissionDenied } from '../../platform/errors.js';
import { isAdmin } from './domain/users.js';
import type { Actor } from '../../platform/context.js';

/** Refuses with 403 unless the actor is an admin or super admin of their account. */
export function requireAdmin(actor: Actor, doing: string): void {
  if (!isAdmin(actor.user)) throw permissionDenied(`Only admins can ${doing}. Ask an admin of your account.`);
}
