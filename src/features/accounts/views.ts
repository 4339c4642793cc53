import type { UserRow } from '../../platform/context.js';
import { json, readJson } from '../../platform/database/json.js';

/** The public shape of a user in the API. Never includes the password hash. */
export function userView(u: UserRow, teamIds: string[] = []) {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    role: u.role,
    seat: u.seat,
    state: u.state,
    permissions: {
      personalEmail: u.perm_personal_email === 1,
      accountAccess: u.perm_account_access === 1,
      availabilityManagement: u.perm_availability === 1,
    },
    primaryTeamId: u.primary_team_id,
    teamIds,
    availability: u.availability,
    workingHours: u.working_hours ? readJson('users.working_hours', u.working_hours, json.record, null) : null,
    emailNotifications: userSettings(u).emailNotifications !== false,
    undoSendSeconds: undoSendSecondsOf(u),
    createdAt: new Date(u.created_at).toISOString(),
  };
}

/** A user's own settings (users.settings JSON); unknown or broken JSON reads as none. */
export function userSettings(u: Pick<UserRow, 'settings'>): { emailNotifications?: boolean; undoSendSeconds?: number } {
  return readJson('users.settings', u.settings, userSettingsShape, {});
}
const userSettingsShape = json.object({ emailNotifications: json.boolean, undoSendSeconds: json.number }, ['emailNotifications', 'undoSendSeconds']);

/** Undo send: the default hold of replies and one-to-one emails, and its bounds (seconds). */
export const UNDO_SEND_DEFAULT_SECONDS = 10;
export const UNDO_SEND_MAX_SECONDS = 30;

/** The user's undo-send delay in seconds (0 to 30; default 10). */
export function undoSendSecondsOf(u: Pick<UserRow, 'settings'>): number {
  const v = userSettings(u).undoSendSeconds;
  return v === undefined ? UNDO_SEND_DEFAULT_SECONDS : Math.max(0, Math.min(UNDO_SEND_MAX_SECONDS, Math.round(v)));
}
export type UserView = ReturnType<typeof userView>;
