import { hasRoom, limitsFor, type PlanId } from './plans.js';

/**
 * Users of an account: roles, seats, permissions and states, and the pure predicates that decide what a
 * user may do. No I/O: callers load the facts and pass them in.
 *
 * Decisions made here (the rest of the product follows them):
 * - A super admin has every permission, whatever the permission flags say. An admin has only the
 *   permissions they are given (admins are created with account access and availability management
 *   by default, but an admin without account access cannot connect team email).
 * - Only active users can do anything. Deactivated users cannot sign in; their data stays.
 * - Personal email needs the personal-email permission and a paid or free seat (never view-only).
 * - Team email (and conversations inbox setup) needs the account-access permission; seats do not
 *   matter, because a team address is account configuration, not the user's own mail.
 * - Seats: active and deactivated users hold their seat (so a restore never fails for lack of one);
 *   removed users free it. Restoring a removed user therefore needs a free seat (see `checkSeat`).
 */

export const ROLES = ['super_admin', 'admin', 'member'] as const;
export type Role = (typeof ROLES)[number];
export const SEATS = ['paid', 'free', 'view_only'] as const;
export type Seat = (typeof SEATS)[number];
export const USER_STATES = ['active', 'deactivated', 'removed'] as const;
export type UserState = (typeof USER_STATES)[number];
export type UserStateAction = 'deactivate' | 'remove' | 'restore';

export interface Permissions {
  /** May connect and use personal email. */
  personalEmail: boolean;
  /** May change account settings: team email, conversations inboxes, routing. */
  accountAccess: boolean;
  /** May change other users' availability and working hours. */
  availabilityManagement: boolean;
}

/** What the rules need to know about a user. */
export interface UserFacts {
  id: string;
  name: string;
  role: Role;
  seat: Seat;
  state: UserState;
  permissions: Permissions;
}

/** A refusal from a user rule: a stable code, the HTTP status to answer with, and a plain message. */
export interface UserRefusal {
  ok: false;
  code: 'permission_denied' | 'plan_limit_reached' | 'invalid_state_change' | 'last_super_admin' | 'cannot_change_self' | 'invalid_request';
  status: number;
  message: string;
  details?: Record<string, unknown>;
}
export type UserDecision = { ok: true } | UserRefusal;

export const isRole = (x: unknown): x is Role => typeof x === 'string' && (ROLES as readonly string[]).includes(x);
export const isSeat = (x: unknown): x is Seat => typeof x === 'string' && (SEATS as readonly string[]).includes(x);
export const isUserState = (x: unknown): x is UserState => typeof x === 'string' && (USER_STATES as readonly string[]).includes(x);

/** The shape users are stored in (see store/schema.ts), kept structural so domain imports no store code. */
export interface UserRowLike {
  id: string;
  name: string;
  role: string;
  seat: string;
  state: string;
  perm_personal_email: number | boolean;
  perm_account_access: number | boolean;
  perm_availability: number | boolean;
}

/** Maps a stored user row to `UserFacts`; throws on an unknown role, seat or state (a corrupt row). */
export function userFactsFromRow(row: UserRowLike): UserFacts {
  if (!isRole(row.role) || !isSeat(row.seat) || !isUserState(row.state)) {
    throw new Error(`User ${row.id} has an unknown role, seat or state (${row.role}, ${row.seat}, ${row.state}).`);
  }
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    seat: row.seat,
    state: row.state,
    permissions: {
      personalEmail: Boolean(row.perm_personal_email),
      accountAccess: Boolean(row.perm_account_access),
      availabilityManagement: Boolean(row.perm_availability),
    },
  };
}

/** Admin or super admin, by role alone (whether they are active is a separate question). */
export function isAdmin(user: { role: string }): boolean {
  return user.role === 'super_admin' || user.role === 'admin';
}

/** The permissions that apply: a super admin has all of them. */
export function effectivePermissions(user: Pick<UserFacts, 'role' | 'permissions'>): Permissions {
  if (user.role === 'super_admin') return { personalEmail: true, accountAccess: true, availabilityManagement: true };
  return user.permissions;
}

/** Why a user may not connect personal email, or null when they may. The first reason that applies. */
export function personalEmailBlocker(user: Pick<UserFacts, 'role' | 'seat' | 'state' | 'permissions'>): 'not_active' | 'no_permission' | 'view_only_seat' | null {
  if (user.state !== 'active') return 'not_active';
  if (!effectivePermissions(user).personalEmail) return 'no_permission';
  if (user.seat !== 'paid' && user.seat !== 'free') return 'view_only_seat';
  return null;
}

/** Active, with the personal-email permission, on a paid or free seat. */
export function canConnectPersonal(user: Pick<UserFacts, 'role' | 'seat' | 'state' | 'permissions'>): boolean {
  return personalEmailBlocker(user) === null;
}

/** Active, with the account-access permission (super admins always have it). Seats do not matter. */
export function canConnectTeam(user: Pick<UserFacts, 'role' | 'state' | 'permissions'>): boolean {
  return user.state === 'active' && effectivePermissions(user).accountAccess;
}

/** Active admin or super admin: may add users, change roles, seats, permissions and states. */
export function canManageUsers(actor: Pick<UserFacts, 'role' | 'state'>): boolean {
  return actor.state === 'active' && isAdmin(actor);
}

/** Users set their own availability; changing someone else's needs the permission or an admin role. */
export function canChangeAvailability(actor: Pick<UserFacts, 'id' | 'role' | 'state' | 'permissions'>, targetUserId: string): boolean {
  if (actor.state !== 'active') return false;
  return actor.id === targetUserId || isAdmin(actor) || effectivePermissions(actor).availabilityManagement;
}

/**
 * May `actor` give `target` the role `newRole`?
 * - Only active admins change roles; a removed user must be restored first.
 * - Only a super admin grants super admin or takes it away.
 * - The last active super admin cannot be demoted (`activeSuperAdminCount` counts active super admins,
 *   the target included).
 * Giving a user the role they already have is allowed (nothing changes).
 */
export function canChangeRole(
  actor: Pick<UserFacts, 'role' | 'state'>,
  target: Pick<UserFacts, 'name' | 'role' | 'state'>,
  newRole: Role,
  activeSuperAdminCount: number,
): UserDecision {
  if (!canManageUsers(actor)) return refuse('permission_denied', 403, 'Only admins can change roles. Ask an admin of your account.');
  if (target.state === 'removed') return refuse('invalid_request', 409, `${target.name} was removed. Restore them before changing their role.`);
  if (newRole === target.role) return { ok: true };
  if ((newRole === 'super_admin' || target.role === 'super_admin') && actor.role !== 'super_admin') {
    return refuse('permission_denied', 403, 'Only a super admin can grant or take away the super admin role.');
  }
  if (target.role === 'super_admin' && target.state === 'active' && activeSuperAdminCount <= 1) {
    return refuse('last_super_admin', 409, `${target.name} is the last super admin of the account. Make someone else super admin first.`);
  }
  return { ok: true };
}

const TRANSITIONS: Record<UserState, Record<UserStateAction, UserState | string>> = {
  active: { deactivate: 'deactivated', remove: 'removed', restore: 'is already active' },
  deactivated: { deactivate: 'is already deactivated', remove: 'removed', restore: 'active' },
  removed: { deactivate: 'was removed; restore them first if you want them deactivated instead', remove: 'was already removed', restore: 'active' },
};

/**
 * The user state after `action`, or a refusal. Deactivate: active → deactivated. Remove: active or
 * deactivated → removed. Restore: deactivated or removed → active. Repeating a state is refused
 * (`invalid_state_change`), so the audit log records only real changes.
 */
export function stateTransition(
  from: UserState,
  action: UserStateAction,
): { ok: true; state: UserState } | { ok: false; code: 'invalid_state_change'; message: string } {
  const to = TRANSITIONS[from]?.[action];
  if (to === undefined) return { ok: false, code: 'invalid_state_change', message: `Unknown user state "${from}" or action "${action}".` };
  if (isUserState(to)) return { ok: true, state: to };
  return { ok: false, code: 'invalid_state_change', message: `This user ${to}.` };
}

/**
 * May `actor` deactivate, remove or restore `target`? Admins only; nobody deactivates or removes
 * themselves; only a super admin deactivates or removes a super admin; the last active super admin
 * stays. Then the state transition itself must be valid.
 */
export function checkUserStateChange(
  actor: Pick<UserFacts, 'id' | 'role' | 'state'>,
  target: Pick<UserFacts, 'id' | 'name' | 'role' | 'state'>,
  action: UserStateAction,
  activeSuperAdminCount: number,
): { ok: true; state: UserState } | UserRefusal {
  if (!canManageUsers(actor)) return refuse('permission_denied', 403, 'Only admins can deactivate, remove or restore users.');
  if (actor.id === target.id && action !== 'restore') return refuse('cannot_change_self', 409, 'You cannot deactivate or remove yourself. Ask another admin.');
  if (target.role === 'super_admin' && action !== 'restore') {
    if (actor.role !== 'super_admin') return refuse('permission_denied', 403, 'Only a super admin can deactivate or remove a super admin.');
    if (target.state === 'active' && activeSuperAdminCount <= 1) {
      return refuse('last_super_admin', 409, `${target.name} is the last super admin of the account. Make someone else super admin first.`);
    }
  }
  const next = stateTransition(target.state, action);
  if (!next.ok) return refuse('invalid_state_change', 409, `${target.name} ${next.message.replace(/^This user /, '')}`);
  return next;
}

/** Users of the account other than the one being added or changed, by seat; removed users not counted. */
export interface SeatCounts {
  paid: number;
  free: number;
  viewOnly: number;
}

/**
 * Is there room on the plan for one more user on `seat`? `others` counts the account's active and
 * deactivated users excluding the user being added, changed or restored.
 */
export function checkSeat(plan: PlanId, seat: Seat, others: SeatCounts): UserDecision {
  const limits = limitsFor(plan);
  const total = others.paid + others.free + others.viewOnly;
  if (!hasRoom(limits.usersTotal, total)) {
    return refuse('plan_limit_reached', 409, `The ${limits.name} plan allows ${limits.usersTotal} users and all are in use. Remove a user or upgrade the plan.`, {
      limit: { name: 'usersTotal', max: limits.usersTotal, plan },
      current: total,
    });
  }
  const max = seat === 'paid' ? limits.paidSeats : seat === 'free' ? limits.freeSeats : null;
  const used = seat === 'paid' ? others.paid : seat === 'free' ? others.free : others.viewOnly;
  if (!hasRoom(max, used)) {
    const seatName = seat === 'paid' ? 'paid' : 'free';
    return refuse('plan_limit_reached', 409, `The ${limits.name} plan includes ${max} ${seatName} seats and all are taken. Give this user another kind of seat, free a seat (remove a user or change their seat), or upgrade the plan.`, {
      limit: { name: `${seatName}Seats`, max, plan },
      current: used,
    });
  }
  return { ok: true };
}

function refuse(code: UserRefusal['code'], status: number, message: string, details?: Record<string, unknown>): UserRefusal {
  return details ? { ok: false, code, status, message, details } : { ok: false, code, status, message };
}
