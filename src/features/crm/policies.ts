/** Who may change the CRM: rules for `authorize` (src/platform/authorize.ts). */
import { permissionDenied } from '../../platform/errors.js';
import { definePolicies } from '../../platform/authorize.js';
import { isAdmin, unlessAdmin } from '../accounts/index.js';

export const crmPolicies = definePolicies('crm', {
  /** View-only seats can read the CRM but not change it. */
  write: (actor) =>
    actor.user.seat === 'view_only'
      ? permissionDenied('View-only users can look at contacts and companies but cannot change them. Ask an admin for a paid or free seat.')
      : null,
  deleteCompany: (actor) => unlessAdmin(actor, 'delete companies'),
  /** Admins any contact; others the contacts they own and contacts without an owner. */
  deleteContact: (actor, contact: { ownerId: string | null }) =>
    isAdmin(actor.user) || contact.ownerId === null || contact.ownerId === actor.user.id
      ? null
      : permissionDenied('Only admins and the owner of this contact can delete it. Ask its owner or an admin.'),
});
