/** Who may manage webhooks: rules for `authorize` (src/platform/authorize.ts). Admins only: endpoints receive every event of the account. */
import { definePolicies } from '../../platform/authorize.js';
import { unlessAdmin } from '../accounts/index.js';

export const webhooksPolicies = definePolicies('webhooks', {
  manage: (actor) => unlessAdmin(actor, 'manage webhooks'),
});
