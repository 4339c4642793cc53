import { describe, expect, test } from 'vitest';
import {
  checkConnect,
  checkConnectionUpdate,
  checkCreateInbox,
  checkDisconnect,
  checkRelease,
  holderView,
  planDefaultAfterDisconnect,
  planDefaultFromChange,
  planMeetingsFlagChange,
  refusalBody,
  userMessageFor,
  type ConnectFacts,
  type ConnectionErrorCode,
  type ConnectionFlags,
  type ConnectRequest,
  type Holder,
  type Refusal,
  type ReleaseAction,
} from './connection-rules.js';
import { PLAN_IDS, PLAN_LIMITS, type PlanId } from '../../accounts/index.js';
import { ROLES, SEATS, USER_STATES, type Permissions, type UserFacts, type UserState } from '../../accounts/index.js';

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

const NONE: Permissions = { personalEmail: false, accountAccess: false, availabilityManagement: false };
const ADDRESS = 'sales@acme.example';

function person(over: Partial<UserFacts> = {}): UserFacts {
  return { id: 'u-ann', name: 'Ann Lee', role: 'member', seat: 'paid', state: 'active', permissions: { ...NONE, personalEmail: true, accountAccess: true }, ...over };
}
const ann = person();
const adminAda = person({ id: 'u-ada', name: 'Ada Admin', role: 'admin' });

function request(over: Partial<ConnectRequest> = {}): ConnectRequest {
  const type = over.type ?? 'personal';
  return {
    type,
    addressKey: ADDRESS,
    actor: ann,
    transport: 'imap',
    ...(type === 'team' ? { inboxId: 'inb-sales' } : {}),
    ...over,
  };
}

function facts(over: Partial<ConnectFacts> = {}): ConnectFacts {
  return {
    plan: 'professional',
    existing: [],
    targetUserPersonalCount: 0,
    inboxExists: true,
    inboxTeamConnectionCount: 0,
    userHasMeetingsConnection: false,
    ...over,
  };
}

const personalHolder = (userState: UserState, userId = 'u-bo', userName = 'Bo Chen'): Holder => ({ kind: 'personal', connectionId: 'con-1', userId, userName, userState });
const teamHolder = (inboxId = 'inb-support', inboxName = 'Support'): Holder => ({ kind: 'team', connectionId: 'con-2', inboxId, inboxName, connectedByUserId: 'u-ada' });

function refusalOf(r: ReturnType<typeof checkConnect> | { ok: boolean; refusal?: Refusal }): Refusal {
  if (r.ok) throw new Error('expected a refusal, got ok');
  return (r as { refusal: Refusal }).refusal;
}

/** Every refusal must read as plain sentences: no placeholders leaking, no stack, ends with a stop. */
function expectPlain(r: Refusal): void {
  for (const text of [r.message, r.resolution].filter((t): t is string => t !== undefined)) {
    expect(text).not.toMatch(/undefined|null|\[object|NaN|Error:|\bat .*\.ts:/);
    expect(text.trim()).toMatch(/[.)]$/);
  }
}

// ---------------------------------------------------------------------------------------------
// Who holds the address: every holder state × both types × both transports × admin or not
// ---------------------------------------------------------------------------------------------

type Expect = {
  code: 'ok' | Refusal['code'];
  status?: number;
  message?: RegExp[];
  resolution?: RegExp[];
  details?: Record<string, unknown>;
  releaseActions?: ReleaseAction[];
};

interface Row {
  label: string;
  type: 'personal' | 'team';
  transport: 'imap' | 'forwarding';
  actor: UserFacts;
  holder: Holder | null;
  expect: Expect;
}

const holderCases: Array<{ label: string; holder: Holder | null; personal: Expect; team: Expect }> = [
  { label: 'nobody', holder: null, personal: { code: 'ok' }, team: { code: 'ok' } },
  {
    label: 'the same user (personal, active)',
    holder: personalHolder('active', 'u-ann', 'Ann Lee'),
    personal: { code: 'address_in_use', status: 409, message: [/You have already connected sales@acme\.example as your personal email/], resolution: [/already connected/, /reconnect it/], details: { alreadyConnected: true } },
    team: {
      code: 'address_in_use',
      status: 409,
      message: [/as your personal email/],
      resolution: [/Switching an address between team and personal email is two steps: disconnect it from your personal email, then connect it again as team email/],
      details: { switch: true, from: 'personal', to: 'team' },
    },
  },
  ...(['active', 'deactivated', 'removed'] as const).map((state) => ({
    label: `another user (personal, ${state})`,
    holder: personalHolder(state),
    personal:
      state === 'active'
        ? {
            code: 'address_in_use' as const,
            status: 409,
            message: [/sales@acme\.example is already connected as personal email by Bo Chen\./, /only one user/],
            resolution: [/Ask Bo Chen to disconnect it in Settings → Email, or an admin can disconnect it/, /kept/],
          }
        : {
            code: 'address_in_use' as const,
            status: 409,
            message: [new RegExp(`by Bo Chen, who ${state === 'removed' ? 'was removed' : 'is deactivated'}`)],
            resolution: [new RegExp(`Bo Chen is ${state}`), /restore Bo Chen and disconnect it/, /disconnect it without restoring Bo Chen/, /transfer the connection to you/, /kept/],
            releaseActions: ['restore_and_disconnect', 'disconnect', 'transfer'] as ReleaseAction[],
          },
    team: {
      code: 'address_in_use' as const,
      status: 409,
      message: [/as personal email by Bo Chen/, ...(state === 'active' ? [] : [state === 'removed' ? /was removed/ : /is deactivated/])],
      resolution: [
        /Switching an address between team and personal email is two steps: disconnect it from Bo Chen's personal email, then connect it again as team email/,
        ...(state === 'active' ? [/Ask Bo Chen to disconnect it/] : [new RegExp(`Because Bo Chen is ${state}`), /restore Bo Chen and disconnect it/]),
      ],
      details: { switch: true, from: 'personal', to: 'team' },
      ...(state === 'active' ? {} : { releaseActions: ['restore_and_disconnect', 'disconnect'] as ReleaseAction[] }),
    },
  })),
  {
    label: 'the same inbox (team)',
    holder: teamHolder('inb-sales', 'Sales'),
    personal: {
      code: 'address_in_use',
      status: 409,
      message: [/connected as team email to the Sales inbox/],
      resolution: [/two steps: disconnect it from the Sales inbox \(in that inbox's settings\), then connect it again as personal email/],
      details: { switch: true, from: 'team', to: 'personal' },
    },
    team: { code: 'address_in_use', status: 409, message: [/already connected to the Sales inbox\./], resolution: [/nothing to add/, /reconnect it from the settings of the Sales inbox/], details: { alreadyConnected: true } },
  },
  {
    label: 'another inbox (team)',
    holder: teamHolder(),
    personal: {
      code: 'address_in_use',
      status: 409,
      message: [/connected as team email to the Support inbox/],
      resolution: [/Switching an address between team and personal email is two steps: disconnect it from the Support inbox/, /then connect it again as personal email/],
      details: { switch: true },
    },
    team: { code: 'address_in_use', status: 409, message: [/already connected to the Support inbox\. A team address can feed only one inbox/], resolution: [/disconnect it in the settings of the Support inbox, then connect it here/] },
  },
];

const rows: Row[] = holderCases.flatMap((hc) =>
  (['personal', 'team'] as const).flatMap((type) =>
    (['imap', 'forwarding'] as const).flatMap((transport) =>
      [ann, adminAda].map((actor): Row => {
        let expected: Expect = type === 'personal' ? hc.personal : hc.team;
        if (type === 'personal' && transport === 'forwarding') expected = { code: 'invalid_request', status: 400, message: [/Forwarding is only for team email/] };
        // Held by "the same user" means the actor's own address: re-key it for the admin actor.
        const holder = hc.holder?.kind === 'personal' && hc.holder.userId === 'u-ann' ? { ...hc.holder, userId: actor.id, userName: actor.name } : hc.holder;
        return { label: `${type}/${transport} by ${actor.role}, held by ${hc.label}`, type, transport, actor, holder, expect: expected };
      }),
    ),
  ),
);

describe('checkConnect: who holds the address (every holder state, both types, both transports)', () => {
  test.each(rows)('$label', ({ type, transport, actor, holder, expect: e }) => {
    const r = checkConnect(request({ type, transport, actor }), facts({ existing: holder ? [holder] : [] }));
    if (e.code === 'ok') {
      expect(r.ok).toBe(true);
      return;
    }
    const refusal = refusalOf(r);
    expect(refusal.code).toBe(e.code);
    if (e.status) expect(refusal.status).toBe(e.status);
    for (const m of e.message ?? []) expect(refusal.message).toMatch(m);
    for (const m of e.resolution ?? []) expect(refusal.resolution).toMatch(m);
    if (e.details) expect(refusal.details).toMatchObject(e.details);
    if (e.code === 'address_in_use') expect(refusal.holder).toEqual(holderView(holder!));
    if (e.releaseActions) {
      expect(refusal.details?.release).toEqual({ connectionId: 'con-1', method: 'POST', path: '/api/v1/connections/con-1/release', actions: e.releaseActions });
      // who can release: the admin is told they can, the member to ask an admin
      expect(refusal.resolution).toMatch(actor.role === 'admin' ? /As an admin, you can/ : /Ask an admin to/);
    } else {
      expect(refusal.details?.release).toBeUndefined();
    }
    expectPlain(refusal);
  });

  test('the holder in the API shape has the same keys for both kinds', () => {
    expect(holderView(personalHolder('deactivated'))).toEqual({ kind: 'personal', connectionId: 'con-1', userId: 'u-bo', userName: 'Bo Chen', userState: 'deactivated', inboxId: null, inboxName: null });
    expect(holderView(teamHolder())).toEqual({ kind: 'team', connectionId: 'con-2', userId: null, userName: null, userState: null, inboxId: 'inb-support', inboxName: 'Support' });
  });

  test('an admin connecting for Cy an address Bo (deactivated) holds is offered a transfer to Cy', () => {
    const cy = person({ id: 'u-cy', name: 'Cy Diaz' });
    const r = refusalOf(checkConnect(request({ actor: adminAda, targetUser: cy }), facts({ existing: [personalHolder('deactivated')] })));
    expect(r.resolution).toMatch(/transfer the connection to Cy Diaz/);
  });

  test('an admin connecting for Cy an address the admin holds is told to disconnect their own first', () => {
    const cy = person({ id: 'u-cy', name: 'Cy Diaz' });
    const r = refusalOf(checkConnect(request({ actor: adminAda, targetUser: cy }), facts({ existing: [personalHolder('active', 'u-ada', 'Ada Admin')] })));
    expect(r.message).toMatch(/as your personal email/);
    expect(r.resolution).toMatch(/Disconnect it from your personal email in Settings → Email first, then connect it for Cy Diaz/);
  });

  test('an admin connecting for Cy an address Cy already holds hears it is already connected', () => {
    const cy = person({ id: 'u-cy', name: 'Cy Diaz' });
    const r = refusalOf(checkConnect(request({ actor: adminAda, targetUser: cy }), facts({ existing: [personalHolder('active', 'u-cy', 'Cy Diaz')] })));
    expect(r.message).toBe('Cy Diaz has already connected sales@acme.example as their personal email.');
    expect(r.details).toMatchObject({ alreadyConnected: true });
  });

  test('several holders (inconsistent data) still refuse, naming the first and counting them', () => {
    const r = refusalOf(checkConnect(request(), facts({ existing: [personalHolder('active'), teamHolder()] })));
    expect(r.holder?.userName).toBe('Bo Chen');
    expect(r.details).toMatchObject({ holderCount: 2 });
  });

  test('an unnamed holder still reads well', () => {
    const r = refusalOf(checkConnect(request({ type: 'team' }), facts({ existing: [teamHolder('inb-x', '')] })));
    expect(r.message).toMatch(/already connected to another inbox/);
    expectPlain(r);
  });
});

// ---------------------------------------------------------------------------------------------
// Permissions and seats: every role × seat × state × permission combination, both types
// ---------------------------------------------------------------------------------------------

const actorMatrix = ROLES.flatMap((role) =>
  SEATS.flatMap((seat) =>
    USER_STATES.flatMap((state) =>
      [false, true].flatMap((personalEmail) => [false, true].map((accountAccess) => ({ role, seat, state, personalEmail, accountAccess }))),
    ),
  ),
);

describe('checkConnect: permissions and seats', () => {
  test.each(actorMatrix)('personal: $role $seat $state personalEmail=$personalEmail', ({ role, seat, state, personalEmail, accountAccess }) => {
    const actor = person({ role, seat, state, permissions: { ...NONE, personalEmail, accountAccess } });
    const allowed = state === 'active' && (personalEmail || role === 'super_admin') && seat !== 'view_only';
    // A holder is present: a refused actor must hear "permission", never who holds the address.
    const r = checkConnect(request({ actor }), facts({ existing: [personalHolder('active')] }));
    const code = r.ok ? 'ok' : r.refusal.code;
    expect(code).toBe(allowed ? 'address_in_use' : 'permission_denied');
    if (!r.ok && !allowed) {
      expect(r.refusal.status).toBe(403);
      expect(r.refusal.holder).toBeUndefined();
      expect(r.refusal.message).not.toMatch(/Bo Chen/);
      expect(r.refusal.message).toMatch(state !== 'active' ? /not active/ : !(personalEmail || role === 'super_admin') ? /personal email permission/ : /view-only seat/);
      expectPlain(r.refusal);
    }
  });

  test.each(actorMatrix)('team: $role $seat $state accountAccess=$accountAccess', ({ role, seat, state, personalEmail, accountAccess }) => {
    const actor = person({ role, seat, state, permissions: { ...NONE, personalEmail, accountAccess } });
    const allowed = state === 'active' && (accountAccess || role === 'super_admin');
    for (const transport of ['imap', 'forwarding'] as const) {
      const r = checkConnect(request({ type: 'team', actor, transport }), facts({ existing: [teamHolder()] }));
      expect(r.ok ? 'ok' : r.refusal.code).toBe(allowed ? 'address_in_use' : 'permission_denied');
      if (!r.ok && !allowed) expect(r.refusal.message).toMatch(state !== 'active' ? /not active/ : /account access permission/);
    }
  });

  test.each([
    ['a member cannot connect for someone else', ann, person({ id: 'u-cy', name: 'Cy Diaz' }), /Only admins can connect personal email for another user/],
    ['an admin cannot connect for a deactivated user', adminAda, person({ id: 'u-cy', name: 'Cy Diaz', state: 'deactivated' }), /Cy Diaz is deactivated/],
    ['an admin cannot connect for a user without the permission', adminAda, person({ id: 'u-cy', name: 'Cy Diaz', permissions: NONE }), /Cy Diaz doesn't have the personal email permission/],
    ['an admin cannot connect for a view-only user', adminAda, person({ id: 'u-cy', name: 'Cy Diaz', seat: 'view_only' }), /Cy Diaz has a view-only seat/],
    ['a deactivated admin cannot connect for anyone', { ...adminAda, state: 'deactivated' as const }, person({ id: 'u-cy' }), /not active/],
  ])('%s', (_label, actor, targetUser, message) => {
    const r = refusalOf(checkConnect(request({ actor, targetUser }), facts()));
    expect(r.code).toBe('permission_denied');
    expect(r.message).toMatch(message);
    expectPlain(r);
  });

  test('an admin may connect personal email for an eligible user', () => {
    expect(checkConnect(request({ actor: adminAda, targetUser: person({ id: 'u-cy', seat: 'free' }) }), facts()).ok).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Plans: quotas per plan for both types, inbox count
// ---------------------------------------------------------------------------------------------

const NEXT: Record<PlanId, PlanId | undefined> = { free: 'starter', starter: 'professional', professional: 'enterprise', enterprise: undefined };

describe('checkConnect: the plan quota', () => {
  test.each(PLAN_IDS.flatMap((plan) => (['personal', 'team'] as const).map((type) => ({ plan, type }))))('$plan, $type', ({ plan, type }) => {
    const limit = type === 'personal' ? PLAN_LIMITS[plan].personalConnectionsPerUser : PLAN_LIMITS[plan].teamConnectionsPerInbox;
    const countField = type === 'personal' ? 'targetUserPersonalCount' : 'inboxTeamConnectionCount';
    const transports = type === 'team' ? (['imap', 'forwarding'] as const) : (['imap'] as const);
    for (const transport of transports) {
      expect(checkConnect(request({ type, transport }), facts({ plan, [countField]: limit - 1 })).ok).toBe(true);
      const r = refusalOf(checkConnect(request({ type, transport }), facts({ plan, [countField]: limit })));
      expect(r.code).toBe('plan_limit_reached');
      expect(r.status).toBe(409);
      expect(r.message).toMatch(new RegExp(`the most the ${PLAN_LIMITS[plan].name} plan allows`));
      expect(r.details).toMatchObject({ limit: { name: type === 'personal' ? 'personalConnectionsPerUser' : 'teamConnectionsPerInbox', max: limit, plan }, current: limit });
      const next = NEXT[plan];
      if (next) {
        expect(r.details?.upgradeTo).toBe(next);
        expect(r.resolution).toMatch(new RegExp(`upgrade to the ${PLAN_LIMITS[next].name} plan`));
      } else {
        expect(r.details?.upgradeTo).toBeUndefined();
        expect(r.resolution).not.toMatch(/upgrade/);
      }
      expectPlain(r);
    }
  });

  test('the address holder is reported before the quota', () => {
    expect(refusalOf(checkConnect(request(), facts({ plan: 'free', targetUserPersonalCount: 1, existing: [personalHolder('active')] }))).code).toBe('address_in_use');
  });

  test('the quota message names the target user when an admin connects for them', () => {
    const r = refusalOf(checkConnect(request({ actor: adminAda, targetUser: person({ id: 'u-cy', name: 'Cy Diaz' }) }), facts({ plan: 'free', targetUserPersonalCount: 1 })));
    expect(r.message).toBe('Cy Diaz has 1 personal email connection, the most the Free plan allows per user.');
  });
});

describe('checkCreateInbox follows the plan', () => {
  test.each(PLAN_IDS)('%s', (plan) => {
    const max = PLAN_LIMITS[plan].conversationsInboxes;
    expect(checkCreateInbox({ plan, inboxCount: 0 }).ok).toBe(true);
    expect(checkCreateInbox({ plan, inboxCount: max - 1 }).ok).toBe(true);
    const r = refusalOf(checkCreateInbox({ plan, inboxCount: max }));
    expect(r).toMatchObject({ code: 'plan_limit_reached', status: 409, details: { limit: { name: 'conversationsInboxes', max, plan } } });
    expectPlain(r);
  });
});

// ---------------------------------------------------------------------------------------------
// Meetings, defaults, inbox, request shape
// ---------------------------------------------------------------------------------------------

describe('checkConnect: meetings and defaults', () => {
  test.each(['imap', 'forwarding'] as const)('team email for meetings is refused with 422 (%s)', (transport) => {
    const r = refusalOf(checkConnect(request({ type: 'team', transport, useForMeetings: true }), facts()));
    expect(r).toMatchObject({ code: 'team_address_not_allowed_for_meetings', status: 422 });
    expect(r.resolution).toMatch(/personal email/);
  });

  test.each([
    // [useForMeetings, count, hasMeetings] → effects
    [undefined, 0, false, { isDefaultFrom: true, useForMeetings: true, clearMeetingsFlagOnOthers: false }],
    [undefined, 1, true, { isDefaultFrom: false, useForMeetings: false, clearMeetingsFlagOnOthers: false }],
    [true, 1, true, { isDefaultFrom: false, useForMeetings: true, clearMeetingsFlagOnOthers: true }],
    [true, 1, false, { isDefaultFrom: false, useForMeetings: true, clearMeetingsFlagOnOthers: false }],
    [false, 0, false, { isDefaultFrom: true, useForMeetings: false, clearMeetingsFlagOnOthers: false }],
  ] as const)('personal, useForMeetings=%s, %i existing, has meetings=%s', (useForMeetings, count, has, effects) => {
    const req = request(useForMeetings === undefined ? {} : { useForMeetings });
    expect(checkConnect(req, facts({ targetUserPersonalCount: count, userHasMeetingsConnection: has }))).toEqual({ ok: true, effects });
  });

  test('team email is never default "from" nor for meetings', () => {
    expect(checkConnect(request({ type: 'team' }), facts({ userHasMeetingsConnection: false }))).toEqual({
      ok: true,
      effects: { isDefaultFrom: false, useForMeetings: false, clearMeetingsFlagOnOthers: false },
    });
  });

  test('a team connect to a missing inbox is 404 inbox_not_found', () => {
    expect(refusalOf(checkConnect(request({ type: 'team' }), facts({ inboxExists: false })))).toMatchObject({ code: 'inbox_not_found', status: 404 });
  });
});

describe('checkConnect: request shape', () => {
  test.each<[string, Partial<ConnectRequest>, RegExp]>([
    ['raw (not normalised) address', { addressKey: 'Sales@Acme.example' }, /normalised/],
    ['invalid address', { addressKey: 'not-an-address' }, /no @/],
    ['personal by forwarding', { transport: 'forwarding' }, /Forwarding is only for team email/],
    ['team without inbox', { type: 'team', inboxId: undefined }, /Choose the conversations inbox/],
    ['personal with an inbox', { inboxId: 'inb-sales' }, /does not feed an inbox/],
    ['unknown type', { type: 'shared' as 'team' }, /personal email or as team email/],
    ['unknown transport', { transport: 'pop3' as 'imap' }, /IMAP, or forwarding/],
  ])('%s → invalid_request', (_label, over, message) => {
    const r = refusalOf(checkConnect({ ...request(), ...over }, facts()));
    expect(r).toMatchObject({ code: 'invalid_request', status: 400 });
    expect(r.message).toMatch(message);
  });
});

// ---------------------------------------------------------------------------------------------
// Disconnect, update, release
// ---------------------------------------------------------------------------------------------

describe('checkDisconnect', () => {
  const member = person({ id: 'u-m', permissions: { ...NONE, personalEmail: true } });
  const access = person({ id: 'u-acc', permissions: { ...NONE, accountAccess: true } });
  const superAdmin = person({ id: 'u-sa', role: 'super_admin', permissions: NONE });
  test.each<[string, UserFacts, 'personal' | 'team', string | null, boolean]>([
    ['owner, personal', member, 'personal', 'u-m', true],
    ['other member, personal', member, 'personal', 'u-x', false],
    ['admin, personal of another', adminAda, 'personal', 'u-x', true],
    ['super admin, personal of another', superAdmin, 'personal', 'u-x', true],
    ['deactivated owner', { ...member, state: 'deactivated' }, 'personal', 'u-m', false],
    ['member without account access, team', member, 'team', 'u-m', false],
    ['member with account access, team', access, 'team', 'u-x', true],
    ['admin without account access, team', { ...adminAda, permissions: NONE }, 'team', 'u-x', true],
    ['super admin, team', superAdmin, 'team', null, true],
  ])('%s', (_label, actor, type, userId, allowed) => {
    const r = checkDisconnect(actor, { type, userId });
    expect(r.ok).toBe(allowed);
    if (!r.ok) {
      expect(r.refusal).toMatchObject({ code: 'permission_denied', status: 403 });
      expectPlain(r.refusal);
    }
  });
});

describe('checkConnectionUpdate', () => {
  test.each<[string, UserFacts, 'personal' | 'team', string, Parameters<typeof checkConnectionUpdate>[2], string]>([
    ['meetings on a team connection', adminAda, 'team', 'u-ada', { useForMeetings: true }, 'team_address_not_allowed_for_meetings'],
    ['clearing meetings on a team connection is harmless', adminAda, 'team', 'u-ada', { useForMeetings: false }, 'ok'],
    ['default from on a team connection', adminAda, 'team', 'u-ada', { isDefaultFrom: true }, 'invalid_request'],
    ['team settings on personal', ann, 'personal', 'u-ann', { teamSettings: true }, 'invalid_request'],
    ['owner sets meetings on personal', ann, 'personal', 'u-ann', { useForMeetings: true }, 'ok'],
    ["member changes another's personal", ann, 'personal', 'u-bo', { isDefaultFrom: true }, 'permission_denied'],
    ['account access changes team sender name', ann, 'team', 'u-ada', { teamSettings: true }, 'ok'],
    ['no account access changes team settings', person({ permissions: NONE }), 'team', 'u-ada', { teamSettings: true }, 'permission_denied'],
  ])('%s', (_label, actor, type, userId, patch, code) => {
    const r = checkConnectionUpdate(actor, { type, userId, addressKey: ADDRESS }, patch);
    expect(r.ok ? 'ok' : r.refusal.code).toBe(code);
    if (!r.ok) {
      expectPlain(r.refusal);
      if (code === 'team_address_not_allowed_for_meetings') expect(r.refusal.status).toBe(422);
      if (code === 'permission_denied') expect(r.refusal.message).toMatch(/change/);
    }
  });
});

describe('checkRelease', () => {
  const cy = person({ id: 'u-cy', name: 'Cy Diaz' });
  const transferTo = (toUser: UserFacts, toUserPersonalCount = 0, plan: PlanId = 'professional') => ({ toUser, toUserPersonalCount, plan });
  type ReleaseRow = [string, UserFacts, Holder, ReleaseAction, ReturnType<typeof transferTo> | undefined, string, object?];
  const rows: ReleaseRow[] = [
    ...(['deactivated', 'removed'] as const).flatMap((state): ReleaseRow[] => [
      [`restore_and_disconnect, ${state} holder`, adminAda, personalHolder(state), 'restore_and_disconnect', undefined, 'ok', { restoreUser: true, disconnect: true, transferToUserId: null }],
      [`disconnect, ${state} holder`, adminAda, personalHolder(state), 'disconnect', undefined, 'ok', { restoreUser: false, disconnect: true }],
      [`transfer, ${state} holder, to Cy with none`, adminAda, personalHolder(state), 'transfer', transferTo(cy), 'ok', { transferToUserId: 'u-cy', makeDefaultFrom: true, disconnect: false }],
      [`transfer, ${state} holder, to Cy with one`, adminAda, personalHolder(state), 'transfer', transferTo(cy, 1), 'ok', { makeDefaultFrom: false }],
    ]),
    ['an active holder is not released', adminAda, personalHolder('active'), 'disconnect', undefined, 'invalid_request'],
    ['a member cannot release', ann, personalHolder('deactivated'), 'disconnect', undefined, 'permission_denied'],
    ['a team holder is not released', adminAda, teamHolder(), 'disconnect', undefined, 'invalid_request'],
    ['unknown action', adminAda, personalHolder('deactivated'), 'archive' as ReleaseAction, undefined, 'invalid_request'],
    ['transfer without a target', adminAda, personalHolder('deactivated'), 'transfer', undefined, 'invalid_request'],
    ['transfer to the holder', adminAda, personalHolder('deactivated'), 'transfer', transferTo(person({ id: 'u-bo', name: 'Bo Chen' })), 'invalid_request'],
    ['transfer to a deactivated user', adminAda, personalHolder('removed'), 'transfer', transferTo({ ...cy, state: 'deactivated' }), 'invalid_request'],
    ['transfer to a user without permission', adminAda, personalHolder('removed'), 'transfer', transferTo({ ...cy, permissions: NONE }), 'permission_denied'],
    ['transfer to a view-only user', adminAda, personalHolder('removed'), 'transfer', transferTo({ ...cy, seat: 'view_only' }), 'permission_denied'],
    ['transfer to a free-seat user', adminAda, personalHolder('removed'), 'transfer', transferTo({ ...cy, seat: 'free' }), 'ok'],
    ...PLAN_IDS.map((plan): ReleaseRow => [`transfer over quota on ${plan}`, adminAda, personalHolder('deactivated'), 'transfer', transferTo(cy, PLAN_LIMITS[plan].personalConnectionsPerUser, plan), 'plan_limit_reached']),
  ];
  test.each(rows)('%s', (_label, actor, holder, action, transfer, code, effects) => {
    const r = checkRelease(actor, holder, action, transfer);
    expect(r.ok ? 'ok' : r.refusal.code).toBe(code);
    if (r.ok && effects) expect(r.effects).toMatchObject(effects);
    if (!r.ok) expectPlain(r.refusal);
  });
});

// ---------------------------------------------------------------------------------------------
// Flag planners
// ---------------------------------------------------------------------------------------------

const flags = (id: string, over: Partial<ConnectionFlags> = {}): ConnectionFlags => ({ id, type: 'personal', userId: 'u-ann', isDefaultFrom: false, useForMeetings: false, ...over });

describe('planDefaultFromChange: exactly one default per user', () => {
  const conns = [flags('a', { isDefaultFrom: true }), flags('b'), flags('c'), flags('bo-1', { userId: 'u-bo', isDefaultFrom: true }), flags('t', { type: 'team', userId: 'u-ann' })];
  test.each<[string, string, unknown]>([
    ['move the default to b', 'b', [{ id: 'a', isDefaultFrom: false }, { id: 'b', isDefaultFrom: true }]],
    ['a is already the default', 'a', []],
    ["Bo's default is untouched by Ann's change", 'c', [{ id: 'a', isDefaultFrom: false }, { id: 'c', isDefaultFrom: true }]],
  ])('%s', (_label, id, changes) => {
    expect(planDefaultFromChange(conns, id)).toEqual({ ok: true, changes });
  });

  test('repairs several defaults into one', () => {
    const r = planDefaultFromChange([flags('a', { isDefaultFrom: true }), flags('b', { isDefaultFrom: true })], 'b');
    expect(r).toEqual({ ok: true, changes: [{ id: 'a', isDefaultFrom: false }] });
  });

  test.each([
    ['a team connection', 't', 400],
    ['an unknown connection', 'zzz', 404],
  ])('refuses %s', (_label, id, status) => {
    expect(refusalOf(planDefaultFromChange(conns, id))).toMatchObject({ code: 'invalid_request', status });
  });
});

describe('planDefaultAfterDisconnect', () => {
  test.each<[string, ConnectionFlags[], string, unknown]>([
    ['the default goes: the next one becomes default', [flags('a', { isDefaultFrom: true }), flags('b'), flags('c')], 'a', [{ id: 'a', isDefaultFrom: false, useForMeetings: false }, { id: 'b', isDefaultFrom: true }]],
    ['a non-default goes: nothing changes', [flags('a', { isDefaultFrom: true }), flags('b')], 'b', []],
    ['the last one goes: no default left', [flags('a', { isDefaultFrom: true, useForMeetings: true })], 'a', [{ id: 'a', isDefaultFrom: false, useForMeetings: false }]],
    ["another user's connection is never picked", [flags('a', { isDefaultFrom: true }), flags('x', { userId: 'u-bo' })], 'a', [{ id: 'a', isDefaultFrom: false, useForMeetings: false }]],
    ['a team connection: nothing', [flags('t', { type: 'team' })], 't', []],
  ])('%s', (_label, conns, id, changes) => {
    expect(planDefaultAfterDisconnect(conns, id)).toEqual(changes);
  });
});

describe('planMeetingsFlagChange: at most one per user, never team', () => {
  const conns = [flags('a', { useForMeetings: true }), flags('b'), flags('bo-1', { userId: 'u-bo', useForMeetings: true }), flags('t', { type: 'team' })];
  test.each<[string, string, boolean, unknown]>([
    ['set on b clears a', 'b', true, [{ id: 'a', useForMeetings: false }, { id: 'b', useForMeetings: true }]],
    ['set on a again: nothing', 'a', true, []],
    ['clear a', 'a', false, [{ id: 'a', useForMeetings: false }]],
    ['clear b (already off): nothing', 'b', false, []],
    ['clear on team: nothing to do', 't', false, []],
  ])('%s', (_label, id, value, changes) => {
    expect(planMeetingsFlagChange(conns, id, value)).toEqual({ ok: true, changes });
  });

  test('setting it on team email is refused with 422', () => {
    expect(refusalOf(planMeetingsFlagChange(conns, 't', true))).toMatchObject({ code: 'team_address_not_allowed_for_meetings', status: 422 });
  });
});

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

describe('userMessageFor and refusalBody', () => {
  const codes: ConnectionErrorCode[] = [
    'address_in_use',
    'team_address_not_allowed_for_meetings',
    'plan_limit_reached',
    'permission_denied',
    'invalid_request',
    'inbox_not_found',
    'invalid_address',
    'host_not_allowed',
    'imap_settings_incorrect',
    'imap_authentication_failed',
    'smtp_settings_incorrect',
    'smtp_authentication_failed',
  ];
  test.each(codes)('%s has a plain message', (code) => {
    const m = userMessageFor(code);
    expect(m.length).toBeGreaterThan(20);
    expect(m).toMatch(/\.$/);
    expect(m).not.toMatch(/_|Error|exception/i);
  });

  test('an unknown code still gets a helpful sentence', () => {
    expect(userMessageFor('something_new')).toMatch(/Try again/);
  });

  test('the error body carries code, message, holder, resolution and details, not the status', () => {
    const r = refusalOf(checkConnect(request({ type: 'team' }), facts({ existing: [personalHolder('deactivated')] })));
    const body = refusalBody(r);
    expect(Object.keys(body.error).sort()).toEqual(['code', 'details', 'holder', 'message', 'resolution']);
    expect(body.error.code).toBe('address_in_use');
    expect(JSON.parse(JSON.stringify(body))).toEqual(body);
  });
});
