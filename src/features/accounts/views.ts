import type { UserRow } from '../../platform/context.js';

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
    workingHours: u.working_hours ? JSON.parse(u.working_hours) : null,
    emailNotifications: userSettings(u).emailNotifications !== false,
    createdAt: new Date(u.created_at).toISOString(),
  };
}

/** A user's own settings (users.settings JSON); unknown or broken JSON reads as none. */
export function userSettings(u: Pick<UserRow, 'settings'>): { emailNotifications?: boolean } {
  try {
    const v = JSON.parse(u.settings || '{}') as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as { emailNotifications?: boolean }) : {};
  } catch {
    return {};
  }
}
export type UserView = ReturnType<typeof userView>;
