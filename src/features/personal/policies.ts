/** Who may change the account's logging rule and share or edit templates: rules for `authorize` (src/platform/authorize.ts). */
import { permissionDenied } from '../../platform/errors.js';
import { definePolicies } from '../../platform/authorize.js';
import { isAdmin, unlessAdmin } from '../accounts/index.js';
import { mayEditTemplate } from './domain/templates.js';

export const personalPolicies = definePolicies('personal', {
  readAccountEmailSettings: (actor) => unlessAdmin(actor, "see the account's email logging settings"),
  changeAccountEmailSettings: (actor) => unlessAdmin(actor, 'change how email is logged for the account'),
  shareNewTemplate: (actor) =>
    isAdmin(actor.user) ? null : permissionDenied('Only admins can share templates with the whole account. Save it for yourself, or ask an admin to share it.'),
  changeTemplateSharing: (actor) => (isAdmin(actor.user) ? null : permissionDenied('Only admins can share templates with the whole account, or stop sharing them.')),
  /** Its owner; an admin too when it is shared. */
  editTemplate: (actor, t: { ownerUserId: string; shared: boolean; doing: 'change' | 'delete' }) =>
    mayEditTemplate(t, { userId: actor.user.id, isAdmin: isAdmin(actor.user) })
      ? null
      : permissionDenied(`Only the person who saved this template (or an admin, when it is shared) can ${t.doing} it.${t.doing === 'change' ? ' Save a copy of your own instead.' : ''}`),
});
