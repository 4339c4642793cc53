/**
 * Accounts: the tenant, its plan (the only place quotas live), users and their states, teams, sign-in and
 * API tokens. This file is the only door other features use.
 */
export { changeUserState } from './commands/changeUserState.js';
export type { UserStateHook } from './commands/changeUserState.js';
export type { TeamDeletionAdjustment, TeamDeletionHook } from './commands/deleteTeam.js';
export { PLAN_IDS, PLAN_LIMITS, hasRoom, limitsFor, planAllowing } from './domain/plans.js';
export type { CountLimit, PlanId } from './domain/plans.js';
export { ROLES, SEATS, USER_STATES, canConnectTeam, canManageUsers, isAdmin, personalEmailBlocker, userFactsFromRow } from './domain/users.js';
export type { Permissions, UserFacts, UserState } from './domain/users.js';
export { emailKey } from './email-key.js';
export { accountsPolicies, unlessAdmin } from './policies.js';
export { apiTokenUser, loadUser, sessionUser } from './queries.js';
export { markApiTokenUsed } from './commands/markApiTokenUsed.js';
export { credentialsVersion } from './credentials.js';
export { undoSendSecondsOf, userSettings, UNDO_SEND_DEFAULT_SECONDS, UNDO_SEND_MAX_SECONDS } from './views.js';

export function accountsFeature() {
  return { name: 'accounts' } as const;
}
