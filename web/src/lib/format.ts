export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const now = new Date();
  const sameDay = d.toDateString() === now.toDateString();
  return sameDay
    ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleDateString(undefined, { year: d.getFullYear() === now.getFullYear() ? undefined : 'numeric', month: 'short', day: 'numeric' });
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export const ROLE_LABEL: Record<string, string> = { super_admin: 'Super admin', admin: 'Admin', member: 'Member' };
export const SEAT_LABEL: Record<string, string> = { paid: 'Paid seat', free: 'Free seat', view_only: 'View-only seat' };
export const STATE_LABEL: Record<string, string> = { active: 'Active', deactivated: 'Deactivated', removed: 'Removed' };

export const isAdmin = (role: string) => role === 'admin' || role === 'super_admin';

/**
 * May change inboxes, their team email, members and routing: what the API's inbox policies allow
 * (src/features/inbox/policies.ts, canConnectTeam): an active user with the account-access permission
 * (super admins always have it), whatever their role. An admin without it may not; a member with it may.
 */
export const canManageInboxes = (u: { role: string; state?: string; permissions?: { accountAccess?: boolean } }) => u.state === 'active' && (u.role === 'super_admin' || Boolean(u.permissions?.accountAccess));
