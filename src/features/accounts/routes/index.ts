/**
 * The accounts API: sign-in and the session, the account and its audit log, users, teams and API tokens.
 * One encapsulated plugin, registered by src/app/http.ts in the authenticated /api/v1 scope.
 */
import type { ApiApp } from '../../../platform/http/typed.js';
import { sessionRoutes } from './session.js';
import { accountRoutes } from './account.js';
import { userRoutes } from './users.js';
import { teamRoutes } from './teams.js';
import { tokenRoutes } from './tokens.js';

export async function accountsRoutes(app: ApiApp): Promise<void> {
  await app.register(sessionRoutes);
  await app.register(accountRoutes);
  await app.register(userRoutes);
  await app.register(teamRoutes);
  await app.register(tokenRoutes);
}
