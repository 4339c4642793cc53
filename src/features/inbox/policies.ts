/** Who may create, change and delete inboxes and their members and routing: rules for `authorize` (src/platform/authorize.ts). */
import { permissionDenied } from '../../platform/errors.js';
import { definePolicies, type Rule } from '../../platform/authorize.js';
import { canConnectTeam, userFactsFromRow } from '../accounts/index.js';

/** Active, with the account-access permission (super admins always). */
const needsAccountAccess =
  (refusal: string): Rule =>
  (actor) =>
    canConnectTeam(userFactsFromRow(actor.user)) ? null : permissionDenied(refusal);

export const inboxPolicies = definePolicies('inbox', {
  create: needsAccountAccess('Creating inboxes needs the account-access permission. Ask an admin.'),
  change: needsAccountAccess('Changing inboxes needs the account-access permission. Ask an admin.'),
  delete: needsAccountAccess('Deleting inboxes needs the account-access permission. Ask an admin.'),
  /** Members and routing rules (the allow and deny lists are managed by the inbox's members). */
  manageMembersAndRouting: needsAccountAccess('Changing inbox members and routing needs the account-access permission. Ask an admin.'),
});
