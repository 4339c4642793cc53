import { describe, expect, test } from 'vitest';
import {
  canChangeAvailability,
  canChangeRole,
  canConnectPersonal,
  canConnectTeam,
  canManageUsers,
  checkSeat,
  checkUserStateChange,
  effectivePermissions,
  isAdmin,
  personalEmailBlocker,
  ROLES,
  SEATS,
  stateTransition,
  USER_STATES,
  userFactsFromRow,
  type Permissions,
  type Role,
  type Seat,
  type UserFacts,
  type UserState,
  type UserStateAction,
} from './users.js';

const NONE: Permissions = { personalEmail: false, accountAccess: false, availabilityManagement: false };
const ALL: Permissions = { personalEmail: true, accountAccess: true, availabilityManagement: true };

function user(over: Partial<UserFacts> = {}): UserFacts {
  return { id: 'u1', name: 'Ann Lee', role: 'member', seat: 'paid', state: 'active', permissions: { ...NONE, personalEmail: true }, ...over };
}

/** Every combination of role × seat × state × (personalEmail, accountAccess). */
const MATRIX = ROLES.flatMap((role) =>
  SEATS.flatMap((seat) =>
    USER_STATES.flatMap((state) =>
      [false, true].flatMap((personalEmail) =>
        [false, true].map((accountAccess) => ({ role, seat, state, personalEmail, accountAccess })),
      ),
    ),
  ),
);

describe('isAdmin and effective permissions', () => {
  test.each<[Role, boolean]>([
    ['super_admin', true],
    ['admin', true],
    ['member', false],
  ])('isAdmin(%s) = %s', (role, expected) => {
    expect(isAdmin({ role })).toBe(expected);
  });

  test('isAdmin accepts a stored row (role as a plain string)', () => {
    expect(isAdmin({ role: 'admin' as string })).toBe(true);
    expect(isAdmin({ role: 'owner' as string })).toBe(false);
  });

  test.each<[Role, Permissions, Permissions]>([
    ['super_admin', NONE, ALL],
    ['admin', NONE, NONE],
    ['member', ALL, ALL],
    ['admin', { ...NONE, accountAccess: true }, { ...NONE, accountAccess: true }],
  ])('%s with %j has %j', (role, permissions, expected) => {
    expect(effectivePermissions({ role, permissions })).toEqual(expected);
  });
});

describe('canConnectPersonal: active, personal-email permission, paid or free seat', () => {
  test.each(MATRIX)('$role $seat $state personalEmail=$personalEmail', ({ role, seat, state, personalEmail, accountAccess }) => {
    const u = user({ role, seat, state, permissions: { ...NONE, personalEmail, accountAccess } });
    const expected = state === 'active' && (personalEmail || role === 'super_admin') && seat !== 'view_only';
    expect(canConnectPersonal(u)).toBe(expected);
    const blocker = personalEmailBlocker(u);
    expect(blocker === null).toBe(expected);
    if (state !== 'active') expect(blocker).toBe('not_active');
  });

  test.each([
    [user({ state: 'deactivated', seat: 'view_only', permissions: NONE }), 'not_active'],
    [user({ permissions: NONE, seat: 'view_only' }), 'no_permission'],
    [user({ seat: 'view_only' }), 'view_only_seat'],
    [user({ seat: 'free' }), null],
  ])('first blocker of %j is %s', (u, blocker) => {
    expect(personalEmailBlocker(u)).toBe(blocker);
  });
});

describe('canConnectTeam: active and account access (super admins always); seat does not matter', () => {
  test.each(MATRIX)('$role $seat $state accountAccess=$accountAccess', ({ role, seat, state, personalEmail, accountAccess }) => {
    const u = user({ role, seat, state, permissions: { ...NONE, personalEmail, accountAccess } });
    expect(canConnectTeam(u)).toBe(state === 'active' && (accountAccess || role === 'super_admin'));
  });
});

describe('canManageUsers: active admins and super admins', () => {
  test.each(ROLES.flatMap((role) => USER_STATES.map((state) => ({ role, state }))))('$role $state', ({ role, state }) => {
    expect(canManageUsers({ role, state })).toBe(state === 'active' && role !== 'member');
  });
});

describe('canChangeAvailability', () => {
  test.each([
    ['self, member', user({ id: 'a' }), 'a', true],
    ['other, member without permission', user({ id: 'a' }), 'b', false],
    ['other, member with permission', user({ id: 'a', permissions: { ...NONE, availabilityManagement: true } }), 'b', true],
    ['other, admin', user({ id: 'a', role: 'admin' }), 'b', true],
    ['self, deactivated', user({ id: 'a', state: 'deactivated' }), 'a', false],
  ])('%s → %s', (_label, actor, target, expected) => {
    expect(canChangeAvailability(actor, target)).toBe(expected);
  });
});

describe('canChangeRole', () => {
  const sa = user({ id: 'sa', role: 'super_admin' });
  const admin = user({ id: 'ad', role: 'admin' });
  const member = user({ id: 'm', role: 'member' });
  test.each<[string, UserFacts, UserFacts, Role, number, string | null]>([
    ['member cannot change roles', member, user({ id: 'x' }), 'admin', 1, 'permission_denied'],
    ['deactivated admin cannot', { ...admin, state: 'deactivated' }, user({ id: 'x' }), 'admin', 1, 'permission_denied'],
    ['admin promotes member to admin', admin, user({ id: 'x' }), 'admin', 1, null],
    ['admin demotes admin to member', admin, user({ id: 'x', role: 'admin' }), 'member', 1, null],
    ['admin cannot grant super admin', admin, user({ id: 'x' }), 'super_admin', 1, 'permission_denied'],
    ['admin cannot demote a super admin', admin, user({ id: 'x', role: 'super_admin' }), 'admin', 2, 'permission_denied'],
    ['super admin grants super admin', sa, user({ id: 'x' }), 'super_admin', 1, null],
    ['super admin demotes another super admin (2 left → 1)', sa, user({ id: 'x', role: 'super_admin' }), 'admin', 2, null],
    ['the last super admin cannot be demoted', sa, { ...sa }, 'admin', 1, 'last_super_admin'],
    ['a deactivated super admin can be demoted while one active remains', sa, user({ id: 'x', role: 'super_admin', state: 'deactivated' }), 'member', 1, null],
    ['removed users must be restored first', sa, user({ id: 'x', state: 'removed' }), 'admin', 1, 'invalid_request'],
    ['same role is a no-op', admin, user({ id: 'x', role: 'admin' }), 'admin', 1, null],
  ])('%s', (_label, actor, target, newRole, count, code) => {
    const r = canChangeRole(actor, target, newRole, count);
    if (code === null) expect(r).toEqual({ ok: true });
    else expect(r).toMatchObject({ ok: false, code });
  });
});

describe('stateTransition', () => {
  test.each<[UserState, UserStateAction, UserState | null]>([
    ['active', 'deactivate', 'deactivated'],
    ['active', 'remove', 'removed'],
    ['active', 'restore', null],
    ['deactivated', 'deactivate', null],
    ['deactivated', 'remove', 'removed'],
    ['deactivated', 'restore', 'active'],
    ['removed', 'deactivate', null],
    ['removed', 'remove', null],
    ['removed', 'restore', 'active'],
  ])('%s --%s--> %s', (from, action, to) => {
    const r = stateTransition(from, action);
    if (to) expect(r).toEqual({ ok: true, state: to });
    else {
      expect(r).toMatchObject({ ok: false, code: 'invalid_state_change' });
      if (!r.ok) expect(r.message).toMatch(/^This user /);
    }
  });

  test('an unknown state is refused, not thrown', () => {
    expect(stateTransition('gone' as UserState, 'restore').ok).toBe(false);
  });
});

describe('checkUserStateChange', () => {
  const sa = user({ id: 'sa', role: 'super_admin' });
  const admin = user({ id: 'ad', role: 'admin' });
  test.each<[string, UserFacts, UserFacts, UserStateAction, number, string]>([
    ['member cannot', user({ id: 'm' }), user({ id: 'x' }), 'deactivate', 1, 'permission_denied'],
    ['admin deactivates a member', admin, user({ id: 'x' }), 'deactivate', 1, 'deactivated'],
    ['admin removes a deactivated member', admin, user({ id: 'x', state: 'deactivated' }), 'remove', 1, 'removed'],
    ['admin restores a removed member', admin, user({ id: 'x', state: 'removed' }), 'restore', 1, 'active'],
    ['nobody deactivates themselves', admin, admin, 'deactivate', 1, 'cannot_change_self'],
    ['admin cannot deactivate a super admin', admin, user({ id: 'x', role: 'super_admin' }), 'deactivate', 2, 'permission_denied'],
    ['super admin deactivates another super admin', sa, user({ id: 'x', role: 'super_admin' }), 'deactivate', 2, 'deactivated'],
    ['the last active super admin stays', user({ id: 'sb', role: 'super_admin' }), { ...sa, id: 'x' }, 'remove', 1, 'last_super_admin'],
    ['admin may restore a super admin', admin, user({ id: 'x', role: 'super_admin', state: 'deactivated' }), 'restore', 1, 'active'],
    ['repeating a state is refused', admin, user({ id: 'x', state: 'deactivated' }), 'deactivate', 1, 'invalid_state_change'],
  ])('%s → %s', (_label, actor, target, action, count, outcome) => {
    const r = checkUserStateChange(actor, target, action, count);
    if (r.ok) expect(r.state).toBe(outcome);
    else expect(r.code).toBe(outcome);
  });

  test('messages name the user', () => {
    const r = checkUserStateChange(user({ id: 'ad', role: 'admin' }), user({ id: 'x', name: 'Bo Chen', state: 'removed' }), 'remove', 1);
    expect(r).toMatchObject({ ok: false, message: 'Bo Chen was already removed.' });
  });
});

describe('checkSeat reads the plan table', () => {
  test.each<[string, Parameters<typeof checkSeat>[0], Seat, { paid: number; free: number; viewOnly: number }, string | null]>([
    ['free plan: 2 paid seats, second fits', 'free', 'paid', { paid: 1, free: 0, viewOnly: 0 }, null],
    ['free plan: third paid seat refused', 'free', 'paid', { paid: 2, free: 0, viewOnly: 0 }, 'paidSeats'],
    ['free plan: 5 free seats', 'free', 'free', { paid: 0, free: 5, viewOnly: 0 }, 'freeSeats'],
    ['free plan: view-only limited by total (10)', 'free', 'view_only', { paid: 2, free: 5, viewOnly: 3 }, 'usersTotal'],
    ['free plan: view-only fits under total', 'free', 'view_only', { paid: 2, free: 5, viewOnly: 2 }, null],
    ['starter: free seats unlimited (bounded by total)', 'starter', 'free', { paid: 0, free: 98, viewOnly: 0 }, null],
    ['starter: total 100', 'starter', 'free', { paid: 0, free: 100, viewOnly: 0 }, 'usersTotal'],
    ['professional: 100 paid seats', 'professional', 'paid', { paid: 100, free: 0, viewOnly: 0 }, 'paidSeats'],
    ['enterprise: 999 paid fit', 'enterprise', 'paid', { paid: 999, free: 0, viewOnly: 0 }, null],
  ])('%s', (_label, plan, seat, others, limit) => {
    const r = checkSeat(plan, seat, others);
    if (limit === null) expect(r).toEqual({ ok: true });
    else expect(r).toMatchObject({ ok: false, code: 'plan_limit_reached', status: 409, details: { limit: { name: limit, plan } } });
  });
});

describe('userFactsFromRow', () => {
  test('maps stored flags to permissions', () => {
    expect(
      userFactsFromRow({ id: 'u', name: 'A', role: 'admin', seat: 'free', state: 'deactivated', perm_personal_email: 1, perm_account_access: 0, perm_availability: 1 }),
    ).toEqual({ id: 'u', name: 'A', role: 'admin', seat: 'free', state: 'deactivated', permissions: { personalEmail: true, accountAccess: false, availabilityManagement: true } });
  });
  test('refuses an unknown role', () => {
    expect(() => userFactsFromRow({ id: 'u', name: 'A', role: 'owner', seat: 'free', state: 'active', perm_personal_email: 1, perm_account_access: 0, perm_availability: 1 })).toThrow(/unknown role/);
  });
});
