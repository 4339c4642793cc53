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
    createdAt: new Date(u.created_at).toISOString(),
  };
}

/** A user's own settings (users.settings JSON); unknown or broken JSON reads as none. */
export function userSettings(u: Pick<UserRow, 'settings'>): { emailNotifications?: boolean } {
  return readJson('users.settings', u.settings, userSettingsShape, {});
}
const userSettingsShape = json.object({ emailNotifications: json.boolean }, ['emailNotifications']);
export type UserView = ReturnType<typeof userView>;
