/**
 * Who may see and act in a conversations inbox.
 *
 * - Access "everyone": every active user of the account is a member.
 * - Access "restricted": members are the users listed on the inbox and the members of the teams listed.
 * - Members act (reply, comment, assign, change status, move); a member on a view-only seat only views.
 * - Admins who are not members view but do not act.
 * - Everyone else does not see the inbox at all: its conversations answer 404, like another account's.
 */
export type InboxAccessLevel = 'act' | 'view' | 'none';

export interface MembershipFacts {
  access: string;
  /** The user is listed on the inbox. */
  listed: boolean;
  /** One of the user's teams is listed on the inbox. */
  teamListed: boolean;
}

export function isInboxMember(user: { state: string }, f: MembershipFacts): boolean {
  if (user.state !== 'active') return false;
  if (f.access === 'everyone') return true;
  return f.listed || f.teamListed;
}

export function inboxAccessLevel(user: { role: string; state: string; seat: string }, f: MembershipFacts): InboxAccessLevel {
  if (user.state !== 'active') return 'none';
  const admin = user.role === 'admin' || user.role === 'super_admin';
  if (isInboxMember(user, f)) return user.seat === 'view_only' ? 'view' : 'act';
  return admin ? 'view' : 'none';
}
