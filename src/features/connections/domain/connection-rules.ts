import { addressKey } from './address-key.js';
import { errorBody, type ErrorBody } from '../../../platform/errors.js';
import { hasRoom, limitsFor, planAllowing, PLAN_LIMITS, type CountLimit, type PlanId } from '../../accounts/domain/plans.js';
import { canConnectTeam, canManageUsers, isAdmin, personalEmailBlocker, type UserFacts, type UserState } from '../../accounts/domain/users.js';

/**
 * The connection rules: each one decided in ONE pure function over a snapshot of facts that the
 * command loads inside the same transaction as its write (a database unique index on live address
 * keys backs rules 1-3 against races).
 *
 * Within an account, with addresses compared by `addressKey` (see address-key.ts):
 * 1. An address is never both a personal and a team connection.
 * 2. A personal address belongs to one user.
 * 3. A team address feeds one conversations inbox (an inbox may have several addresses).
 * 4. Team addresses are never used for meetings; at most one personal connection per user is.
 * 5. Personal connections per user, team connections per inbox and inboxes per account follow the
 *    plan. Personal email needs the personal-email permission and a paid or free seat; team email
 *    needs the account-access permission; forwarding is a team-email transport only.
 * 6. A refusal because the address is taken is `409 address_in_use`, names the holder (user and
 *    their state, or inbox) and says how to fix it. Holders that are deactivated or removed users can
 *    be released by an admin in one call (`checkRelease`).
 * 7. Switching an address between team and personal is disconnect then connect; a direct attempt is
 *    `address_in_use` (clients key on that code) with `details.switch: true` and a resolution that
 *    says so.
 *
 * Messages are plain sentences for a non-expert admin; `resolution` says what to do next.
 */

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

export type ConnectionType = 'personal' | 'team';
export type Transport = 'imap' | 'forwarding';

/** A live (not disconnected) connection that holds an address. */
export type Holder =
  | { kind: 'personal'; connectionId: string; userId: string; userName: string; userState: UserState }
  | { kind: 'team'; connectionId: string; inboxId: string; inboxName: string; connectedByUserId?: string | null };

/**
 * The holder as the API shows it in `error.holder`: the same keys for both kinds. For personal
 * holders the user fields are set and the inbox fields are null; for team holders the reverse.
 */
export interface HolderView {
  kind: ConnectionType;
  connectionId: string;
  userId: string | null;
  userName: string | null;
  userState: UserState | null;
  inboxId: string | null;
  inboxName: string | null;
}

export interface ConnectRequest {
  type: ConnectionType;
  /** The comparison key (`addressKey(x).key`), not the raw input. */
  addressKey: string;
  /** Who is connecting. */
  actor: UserFacts;
  /** Personal email: the user who will own it; defaults to the actor (admins may connect for others). */
  targetUser?: UserFacts;
  /** Team email: the conversations inbox it feeds. */
  inboxId?: string;
  /** Personal email only: use this connection for meetings. Undefined: yes if the user has none yet. */
  useForMeetings?: boolean;
  transport: Transport;
}

export interface ConnectFacts {
  plan: PlanId;
  /** Live (not disconnected) connections in this account with the same address key. */
  existing: Holder[];
  /** Live personal connections the target user holds now (personal requests). */
  targetUserPersonalCount: number;
  /** The inbox exists in this account and is not deleted (team requests). */
  inboxExists: boolean;
  /** Live team connections feeding the inbox now (team requests). */
  inboxTeamConnectionCount: number;
  /** The target user already has a personal connection flagged for meetings. */
  userHasMeetingsConnection: boolean;
}

export type RefusalCode =
  | 'address_in_use'
  | 'team_address_not_allowed_for_meetings'
  | 'plan_limit_reached'
  | 'permission_denied'
  | 'invalid_request'
  | 'inbox_not_found';

/**
 * A refused action. As an API error: `{"error": {code, message, holder?, resolution?, details?}}`
 * with HTTP `status` (see `refusalBody`).
 */
export interface Refusal {
  code: RefusalCode;
  status: number;
  message: string;
  holder?: HolderView;
  resolution?: string;
  details?: Record<string, unknown>;
}

export type Decision<T extends object = Record<never, never>> = ({ ok: true } & T) | { ok: false; refusal: Refusal };

/** What the command should write along with a new connection. */
export interface ConnectEffects {
  /** Make it the user's default "from" (their first live personal connection). */
  isDefaultFrom: boolean;
  /** Flag it for meetings. */
  useForMeetings: boolean;
  /** Clear the meetings flag on the user's other personal connections (at most one per user). */
  clearMeetingsFlagOnOthers: boolean;
}

/** A connection as the permission rules see it. `userId`: owner (personal) or who connected it (team). */
export interface ConnectionRef {
  type: ConnectionType;
  userId?: string | null;
  inboxId?: string | null;
}

export type ReleaseAction = 'restore_and_disconnect' | 'disconnect' | 'transfer';
export const RELEASE_ACTIONS: readonly ReleaseAction[] = ['restore_and_disconnect', 'disconnect', 'transfer'];

// ---------------------------------------------------------------------------------------------
// Connect
// ---------------------------------------------------------------------------------------------

/**
 * May this address be connected? Checks, in order: the request's shape, the meetings rule, the
 * actor's (and target user's) permissions and seat, the inbox, who already holds the address, and
 * the plan's quota. Permission comes before "who holds it" so that people who may not connect learn
 * nothing about other users' addresses.
 */
export function checkConnect(req: ConnectRequest, facts: ConnectFacts): Decision<{ effects: ConnectEffects }> {
  const shape = checkShape(req);
  if (shape) return no(shape);

  if (req.type === 'team' && req.useForMeetings) return no(teamMeetingsRefusal(req.addressKey));

  const permission = req.type === 'personal' ? personalPermission(req) : teamPermission(req.actor);
  if (permission) return no(permission);

  if (req.type === 'team' && !facts.inboxExists) {
    return no({
      code: 'inbox_not_found',
      status: 404,
      message: 'The conversations inbox you chose does not exist (it may have been deleted).',
      resolution: 'Choose another inbox, or create one first in Settings → Inboxes.',
    });
  }

  const holder = facts.existing[0];
  if (holder) {
    const refusal = addressInUse(req, holder);
    if (facts.existing.length > 1) refusal.details = { ...refusal.details, holderCount: facts.existing.length };
    return no(refusal);
  }

  const quota = req.type === 'personal' ? personalQuota(req, facts) : teamQuota(facts);
  if (quota) return no(quota);

  if (req.type === 'team') return { ok: true, effects: { isDefaultFrom: false, useForMeetings: false, clearMeetingsFlagOnOthers: false } };
  const useForMeetings = req.useForMeetings ?? !facts.userHasMeetingsConnection;
  return {
    ok: true,
    effects: {
      isDefaultFrom: facts.targetUserPersonalCount === 0,
      useForMeetings,
      clearMeetingsFlagOnOthers: useForMeetings && facts.userHasMeetingsConnection,
    },
  };
}

function checkShape(req: ConnectRequest): Refusal | null {
  const bad = (message: string, field: string): Refusal => ({ code: 'invalid_request', status: 400, message, details: { field } });
  if (req.type !== 'personal' && req.type !== 'team') return bad('Choose how to connect the address: as personal email or as team email.', 'type');
  if (req.transport !== 'imap' && req.transport !== 'forwarding') return bad('Choose how mail arrives: IMAP, or forwarding (team email only).', 'transport');
  const parsed = addressKey(req.addressKey ?? '');
  if (!parsed.ok) return bad(parsed.message, 'address');
  if (parsed.key !== req.addressKey) return bad('The address must be given in its normalised form (see addressKey).', 'address');
  if (req.type === 'personal' && req.transport === 'forwarding') {
    return bad('Forwarding is only for team email. Connect personal email with its IMAP and SMTP settings.', 'transport');
  }
  if (req.type === 'team' && !req.inboxId) return bad('Choose the conversations inbox this team address feeds.', 'inboxId');
  if (req.type === 'personal' && req.inboxId) return bad('Personal email does not feed an inbox. Leave the inbox out, or connect the address as team email.', 'inboxId');
  return null;
}

function teamMeetingsRefusal(address: string): Refusal {
  return {
    code: 'team_address_not_allowed_for_meetings',
    status: 422,
    message: `${address} is team email, and team email cannot be used for meetings.`,
    resolution: 'Meetings use a personal email connection. Connect your own address as personal email and turn on "use for meetings" there.',
  };
}

function personalPermission(req: ConnectRequest): Refusal | null {
  const actor = req.actor;
  const target = req.targetUser ?? actor;
  const self = target.id === actor.id;
  if (actor.state !== 'active') return denied('Your user is not active, so you cannot connect email.', 'Ask an admin to restore your user.');
  if (!self && !canManageUsers(actor)) {
    return denied('Only admins can connect personal email for another user.', `Ask ${target.name} to connect it from their own Settings → Email.`);
  }
  const blocker = personalEmailBlocker(target);
  if (blocker === null) return null;
  const who = self ? 'You' : target.name;
  switch (blocker) {
    case 'not_active':
      return denied(`${target.name} is ${target.state}, so personal email cannot be connected for them.`, `Restore ${target.name} first in Settings → Users.`);
    case 'no_permission':
      return denied(
        `${who} ${self ? "don't" : "doesn't"} have the personal email permission.`,
        self ? 'Ask an admin to turn on personal email for you in Settings → Users.' : `An admin can turn on personal email for ${target.name} in Settings → Users.`,
      );
    case 'view_only_seat':
      return denied(
        `${self ? 'You have' : `${target.name} has`} a view-only seat, and personal email needs a paid or free seat.`,
        self ? 'Ask an admin to give you a paid or free seat in Settings → Users.' : `An admin can give ${target.name} a paid or free seat in Settings → Users.`,
      );
  }
}

function teamPermission(actor: UserFacts): Refusal | null {
  if (actor.state !== 'active') return denied('Your user is not active, so you cannot connect email.', 'Ask an admin to restore your user.');
  if (!canConnectTeam(actor)) {
    return denied("Connecting team email needs the account access permission, and you don't have it.", 'Ask an admin to give you account access in Settings → Users, or to connect the address for you.');
  }
  return null;
}

function denied(message: string, resolution: string): Refusal {
  return { code: 'permission_denied', status: 403, message, resolution };
}

// ---------------------------------------------------------------------------------------------
// Address in use: says what holds the address, by whom, and what to do
// ---------------------------------------------------------------------------------------------

/** The holder in the API's shape. */
export function holderView(h: Holder): HolderView {
  return h.kind === 'personal'
    ? { kind: 'personal', connectionId: h.connectionId, userId: h.userId, userName: h.userName, userState: h.userState, inboxId: null, inboxName: null }
    : { kind: 'team', connectionId: h.connectionId, userId: null, userName: null, userState: null, inboxId: h.inboxId, inboxName: h.inboxName };
}

const inboxLabel = (name: string) => (name.trim() ? `the ${name.trim()} inbox` : 'another inbox');
const userLabel = (name: string) => (name.trim() ? name.trim() : 'another user');
const KEPT = 'Everything already logged from it is kept.';

function releaseDetails(connectionId: string, actions: readonly ReleaseAction[]) {
  return { connectionId, method: 'POST', path: `/api/v1/connections/${connectionId}/release`, actions: [...actions] };
}

function addressInUse(req: ConnectRequest, holder: Holder): Refusal {
  const a = req.addressKey;
  const base = { code: 'address_in_use' as const, status: 409, holder: holderView(holder) };
  const actorIsAdmin = canManageUsers(req.actor);

  if (holder.kind === 'team') {
    const inbox = inboxLabel(holder.inboxName);
    if (req.type === 'personal') {
      return {
        ...base,
        message: `${a} is connected as team email to ${inbox}. An address cannot be both team email and personal email.`,
        resolution: `Switching an address between team and personal email is two steps: disconnect it from ${inbox} (in that inbox's settings), then connect it again as personal email. The inbox keeps its conversations.`,
        details: { switch: true, from: 'team', to: 'personal' },
      };
    }
    if (holder.inboxId === req.inboxId) {
      return {
        ...base,
        message: `${a} is already connected to ${inbox}.`,
        resolution: `There is nothing to add. To change its password or server settings, reconnect it from the settings of ${inbox} instead of connecting it again.`,
        details: { alreadyConnected: true },
      };
    }
    return {
      ...base,
      message: `${a} is already connected to ${inbox}. A team address can feed only one inbox.`,
      resolution: `To move it, disconnect it in the settings of ${inbox}, then connect it here. Conversations already in that inbox stay there.`,
    };
  }

  // A personal holder.
  const target = req.type === 'personal' ? req.targetUser ?? req.actor : null;
  const name = userLabel(holder.userName);
  const holderIsActor = holder.userId === req.actor.id;
  const inactive = holder.userState !== 'active';
  const stateWords = holder.userState === 'removed' ? 'who was removed from the account' : 'who is deactivated';
  const owner = holderIsActor ? 'your personal email' : `personal email by ${name}${inactive ? `, ${stateWords}` : ''}`;

  if (req.type === 'personal' && target && holder.userId === target.id) {
    return {
      ...base,
      message: holderIsActor ? `You have already connected ${a} as your personal email.` : `${name} has already connected ${a} as their personal email.`,
      resolution: `It is already connected: there is nothing to add. To change its password or server settings, reconnect it from ${holderIsActor ? 'your' : 'their'} Settings → Email (update the credentials) instead of connecting it again.`,
      details: { alreadyConnected: true },
    };
  }

  const isSwitch = req.type === 'team';
  const message = `${a} is already connected as ${owner}.${isSwitch ? ' An address cannot be both personal email and team email.' : ' A personal address can belong to only one user.'}`;
  const switchStep = isSwitch
    ? `Switching an address between team and personal email is two steps: disconnect it from ${holderIsActor ? 'your' : `${name}'s`} personal email, then connect it again as team email. `
    : '';
  const switchDetails = isSwitch ? { switch: true, from: 'personal', to: 'team' } : {};

  if (holderIsActor) {
    return {
      ...base,
      message,
      resolution: isSwitch
        ? `${switchStep}You can disconnect it in Settings → Email. ${KEPT}`
        : `Disconnect it from your personal email in Settings → Email first, then connect it for ${target ? target.name : 'them'}. ${KEPT}`,
      ...(isSwitch ? { details: switchDetails } : {}),
    };
  }

  if (!inactive) {
    return {
      ...base,
      message,
      resolution: `${switchStep}Ask ${name} to disconnect it in Settings → Email, or an admin can disconnect it${isSwitch ? '' : '; then connect it again'}. ${KEPT}`,
      ...(isSwitch ? { details: switchDetails } : {}),
    };
  }

  // Held by a deactivated or removed user: an admin releases it in one step.
  const stateWord = holder.userState === 'removed' ? 'removed' : 'deactivated';
  const toWhom = target ? (target.id === req.actor.id ? 'you' : target.name) : 'another user';
  const actions: ReleaseAction[] = isSwitch ? ['restore_and_disconnect', 'disconnect'] : ['restore_and_disconnect', 'disconnect', 'transfer'];
  const options = isSwitch
    ? `restore ${name} and disconnect it, or disconnect it without restoring ${name}`
    : `restore ${name} and disconnect it, disconnect it without restoring ${name}, or transfer the connection to ${toWhom} (nothing needs to be connected again then)`;
  const who = actorIsAdmin ? 'As an admin, you can' : 'Ask an admin to';
  const resolution = isSwitch
    ? `${switchStep}Because ${name} is ${stateWord}, an admin can do the first step in one go. ${who} ${options}. ${KEPT}`
    : `${name} is ${stateWord}. ${who} release the address in one step: ${options}. ${KEPT}`;
  return { ...base, message, resolution, details: { ...switchDetails, release: releaseDetails(holder.connectionId, actions) } };
}

// ---------------------------------------------------------------------------------------------
// Quotas
// ---------------------------------------------------------------------------------------------

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

function quotaRefusal(plan: PlanId, limit: CountLimit, current: number, message: string, fix: string, unit: string): Refusal {
  const max = PLAN_LIMITS[plan][limit] as number;
  const upgrade = planAllowing(plan, limit, current + 1);
  const upgradeText = upgrade ? `, or upgrade to the ${PLAN_LIMITS[upgrade].name} plan (up to ${PLAN_LIMITS[upgrade][limit]} ${unit})` : '';
  return {
    code: 'plan_limit_reached',
    status: 409,
    message,
    resolution: `${fix}${upgradeText}.`,
    details: { limit: { name: limit, max, plan }, current, ...(upgrade ? { upgradeTo: upgrade } : {}) },
  };
}

function personalQuota(req: ConnectRequest, facts: ConnectFacts): Refusal | null {
  const limits = limitsFor(facts.plan);
  const n = facts.targetUserPersonalCount;
  if (hasRoom(limits.personalConnectionsPerUser, n)) return null;
  const target = req.targetUser ?? req.actor;
  const self = target.id === req.actor.id;
  return quotaRefusal(
    facts.plan,
    'personalConnectionsPerUser',
    n,
    `${self ? 'You have' : `${target.name} has`} ${plural(n, 'personal email connection', 'personal email connections')}, the most the ${limits.name} plan allows per user.`,
    `Disconnect one of ${self ? 'your' : 'their'} addresses in Settings → Email`,
    'per user',
  );
}

function teamQuota(facts: ConnectFacts): Refusal | null {
  const limits = limitsFor(facts.plan);
  const n = facts.inboxTeamConnectionCount;
  if (hasRoom(limits.teamConnectionsPerInbox, n)) return null;
  return quotaRefusal(
    facts.plan,
    'teamConnectionsPerInbox',
    n,
    `This inbox already has ${plural(n, 'team address', 'team addresses')}, the most the ${limits.name} plan allows per inbox.`,
    "Disconnect one of its addresses in the inbox's settings, or connect this address to another inbox",
    'per inbox',
  );
}

/** May the account create one more conversations inbox? `inboxCount`: its inboxes now (not deleted). */
export function checkCreateInbox(input: { plan: PlanId; inboxCount: number }): Decision {
  const limits = limitsFor(input.plan);
  if (hasRoom(limits.conversationsInboxes, input.inboxCount)) return { ok: true };
  return no(
    quotaRefusal(
      input.plan,
      'conversationsInboxes',
      input.inboxCount,
      `Your account has ${plural(input.inboxCount, 'conversations inbox', 'conversations inboxes')}, the most the ${limits.name} plan allows.`,
      'Delete an inbox you no longer use',
      'inboxes',
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Disconnect, update, release
// ---------------------------------------------------------------------------------------------

/**
 * May `actor` disconnect this connection? Personal: its owner, or an admin. Team: someone with
 * account access, or an admin. (Commands answer 404, not 403, when a non-admin asks about someone
 * else's personal connection, so its existence does not leak.)
 */
export function checkDisconnect(actor: UserFacts, connection: ConnectionRef): Decision {
  return connectionPermission(actor, connection, 'disconnect');
}

function connectionPermission(actor: UserFacts, connection: ConnectionRef, verb: 'disconnect' | 'change'): Decision {
  if (actor.state !== 'active') return no(denied(`Your user is not active, so you cannot ${verb} email connections.`, 'Ask an admin to restore your user.'));
  if (connection.type === 'personal') {
    if (connection.userId === actor.id || isAdmin(actor)) return { ok: true };
    return no(denied(`Only the owner of a personal email connection or an admin can ${verb} it.`, `Ask the owner or an admin to ${verb} it.`));
  }
  if (canConnectTeam(actor) || isAdmin(actor)) return { ok: true };
  return no(
    denied(
      `To ${verb} team email you need the account access permission, and you don't have it.`,
      `Ask an admin to ${verb} it for you, or to give you account access in Settings → Users.`,
    ),
  );
}

export interface ConnectionPatch {
  useForMeetings?: boolean;
  isDefaultFrom?: boolean;
  /** Team email settings (sender name, signature...): present when the patch changes any of them. */
  teamSettings?: boolean;
}

/**
 * May `actor` change these settings of the connection? Personal: the owner or an admin, and never
 * team-only settings. Team: account access or admin, never the meetings flag (rule 4) or default
 * "from" (a user's default is one of their personal connections).
 */
export function checkConnectionUpdate(actor: UserFacts, connection: ConnectionRef & { addressKey?: string }, patch: ConnectionPatch): Decision {
  if (connection.type === 'team') {
    if (patch.useForMeetings === true) return no(teamMeetingsRefusal(connection.addressKey ?? 'This address'));
    if (patch.isDefaultFrom === true) {
      return no({
        code: 'invalid_request',
        status: 400,
        message: 'Team email cannot be a default "from" address: a default belongs to one user\'s personal email.',
        resolution: 'Choose one of your personal email connections as your default instead.',
        details: { field: 'isDefaultFrom' },
      });
    }
  } else if (patch.teamSettings) {
    return no({
      code: 'invalid_request',
      status: 400,
      message: 'Sender name and inbox settings belong to team email; this is a personal email connection.',
      details: { field: 'senderName' },
    });
  }
  return connectionPermission(actor, connection, 'change');
}

/**
 * May `actor` release a connection held by a deactivated or removed user, in one step?
 * - `restore_and_disconnect`: the user becomes active again (restoring a removed user also needs a
 *   free seat: the command checks `checkSeat`) and the connection is disconnected;
 * - `disconnect`: the connection is disconnected; the user stays as they are;
 * - `transfer`: the connection (and its history) moves to `transfer.toUser`, who must be active, have
 *   the personal email permission, a paid or free seat, and room under the plan's quota.
 * Admins only. Active holders are not released: they (or an admin) disconnect as usual.
 */
export function checkRelease(
  actor: UserFacts,
  holder: Holder,
  action: ReleaseAction,
  transfer?: { toUser: UserFacts; toUserPersonalCount: number; plan: PlanId },
): Decision<{ effects: { restoreUser: boolean; disconnect: boolean; transferToUserId: string | null; makeDefaultFrom: boolean } }> {
  if (!canManageUsers(actor)) {
    return no(denied('Only admins can release a connection held by another user.', 'Ask an admin of your account.'));
  }
  if (!RELEASE_ACTIONS.includes(action)) {
    return no({ code: 'invalid_request', status: 400, message: 'Choose what to do: restore_and_disconnect, disconnect, or transfer.', details: { field: 'action' } });
  }
  if (holder.kind === 'team') {
    return no({
      code: 'invalid_request',
      status: 409,
      message: `This is team email connected to ${inboxLabel(holder.inboxName)}; it does not belong to a user.`,
      resolution: `Disconnect it in the settings of ${inboxLabel(holder.inboxName)}.`,
    });
  }
  const name = userLabel(holder.userName);
  if (holder.userState === 'active') {
    return no({
      code: 'invalid_request',
      status: 409,
      message: `${name} is active, so their connection cannot be released.`,
      resolution: `Ask ${name} to disconnect it in Settings → Email, or disconnect it as an admin.`,
    });
  }
  if (action !== 'transfer') {
    return { ok: true, effects: { restoreUser: action === 'restore_and_disconnect', disconnect: true, transferToUserId: null, makeDefaultFrom: false } };
  }
  if (!transfer) {
    return no({ code: 'invalid_request', status: 400, message: 'Choose the user to transfer the connection to.', details: { field: 'toUserId' } });
  }
  const to = transfer.toUser;
  if (to.id === holder.userId) {
    return no({
      code: 'invalid_request',
      status: 400,
      message: `The connection already belongs to ${name}.`,
      resolution: `Choose another user, or restore ${name} and disconnect it instead.`,
      details: { field: 'toUserId' },
    });
  }
  const blocker = personalEmailBlocker(to);
  if (blocker === 'not_active') {
    return no({ code: 'invalid_request', status: 409, message: `${to.name} is ${to.state}; a connection can only be transferred to an active user.`, details: { field: 'toUserId' } });
  }
  if (blocker === 'no_permission') {
    return no(denied(`${to.name} doesn't have the personal email permission.`, `Turn on personal email for ${to.name} in Settings → Users, then transfer again.`));
  }
  if (blocker === 'view_only_seat') {
    return no(denied(`${to.name} has a view-only seat, and personal email needs a paid or free seat.`, `Give ${to.name} a paid or free seat in Settings → Users, then transfer again.`));
  }
  const limits = limitsFor(transfer.plan);
  if (!hasRoom(limits.personalConnectionsPerUser, transfer.toUserPersonalCount)) {
    return no(
      quotaRefusal(
        transfer.plan,
        'personalConnectionsPerUser',
        transfer.toUserPersonalCount,
        `${to.name} has ${plural(transfer.toUserPersonalCount, 'personal email connection', 'personal email connections')}, the most the ${limits.name} plan allows per user.`,
        `Disconnect one of ${to.name}'s addresses first, or transfer to someone else`,
        'per user',
      ),
    );
  }
  return { ok: true, effects: { restoreUser: false, disconnect: false, transferToUserId: to.id, makeDefaultFrom: transfer.toUserPersonalCount === 0 } };
}

// ---------------------------------------------------------------------------------------------
// Flags: default "from" (exactly one per user with personal connections) and meetings (at most one)
// ---------------------------------------------------------------------------------------------

/** A live connection's flags, as the flag planners see them. */
export interface ConnectionFlags {
  id: string;
  type: ConnectionType;
  /** Owner (personal). */
  userId: string | null;
  isDefaultFrom: boolean;
  useForMeetings: boolean;
}

export interface FlagChange {
  id: string;
  isDefaultFrom?: boolean;
  useForMeetings?: boolean;
}

/**
 * Makes `newDefaultId` its owner's default "from": returns the rows to change so that exactly that
 * one of the owner's personal connections is the default. Pass the owner's live connections (others
 * are ignored). Only rows whose flag changes are returned.
 */
export function planDefaultFromChange(connections: readonly ConnectionFlags[], newDefaultId: string): Decision<{ changes: FlagChange[] }> {
  const target = connections.find((c) => c.id === newDefaultId);
  if (!target) return no({ code: 'invalid_request', status: 404, message: 'That connection was not found among your live connections.' });
  if (target.type !== 'personal') {
    return no({
      code: 'invalid_request',
      status: 400,
      message: 'Team email cannot be a default "from" address: a default belongs to one user\'s personal email.',
      details: { field: 'isDefaultFrom' },
    });
  }
  const changes: FlagChange[] = [];
  for (const c of connections) {
    if (c.type !== 'personal' || c.userId !== target.userId) continue;
    const want = c.id === target.id;
    if (c.isDefaultFrom !== want) changes.push({ id: c.id, isDefaultFrom: want });
  }
  return { ok: true, changes };
}

/**
 * After `removedId` is disconnected (or transferred away): if it was its owner's default "from", the
 * owner's first other live personal connection (in the order given: pass oldest first) becomes the
 * default. Returns the changes (possibly none), including clearing the flags on the removed row.
 */
export function planDefaultAfterDisconnect(connections: readonly ConnectionFlags[], removedId: string): FlagChange[] {
  const removed = connections.find((c) => c.id === removedId);
  if (!removed || removed.type !== 'personal') return [];
  const changes: FlagChange[] = [];
  if (removed.isDefaultFrom || removed.useForMeetings) changes.push({ id: removed.id, isDefaultFrom: false, useForMeetings: false });
  const others = connections.filter((c) => c.id !== removedId && c.type === 'personal' && c.userId === removed.userId);
  if (removed.isDefaultFrom && !others.some((c) => c.isDefaultFrom) && others[0]) changes.push({ id: others[0].id, isDefaultFrom: true });
  return changes;
}

/**
 * Sets or clears the meetings flag on `connectionId`. Setting it clears it on the owner's other
 * personal connections (at most one per user). Team connections are refused (rule 4).
 */
export function planMeetingsFlagChange(connections: readonly ConnectionFlags[], connectionId: string, value: boolean): Decision<{ changes: FlagChange[] }> {
  const target = connections.find((c) => c.id === connectionId);
  if (!target) return no({ code: 'invalid_request', status: 404, message: 'That connection was not found among your live connections.' });
  if (target.type === 'team') {
    return value ? no(teamMeetingsRefusal('This address')) : { ok: true, changes: target.useForMeetings ? [{ id: target.id, useForMeetings: false }] : [] };
  }
  const changes: FlagChange[] = [];
  for (const c of connections) {
    if (c.type !== 'personal' || c.userId !== target.userId) continue;
    const want = c.id === target.id ? value : value ? false : c.useForMeetings;
    if (c.useForMeetings !== want) changes.push({ id: c.id, useForMeetings: want });
  }
  return { ok: true, changes };
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

/** Every code a connect, disconnect or release can answer with. */
export type ConnectionErrorCode =
  | RefusalCode
  | 'invalid_address'
  | 'host_not_allowed'
  | 'imap_settings_incorrect'
  | 'imap_authentication_failed'
  | 'smtp_settings_incorrect'
  | 'smtp_authentication_failed';

const MESSAGES: Record<ConnectionErrorCode, string> = {
  address_in_use: "This address is already connected in your account, as someone's personal email or to an inbox. Disconnect it there first, then connect it again.",
  team_address_not_allowed_for_meetings: 'Team email cannot be used for meetings. Meetings use a personal email connection.',
  plan_limit_reached: "Your plan's limit is reached. Free up room (disconnect or delete something you no longer use) or upgrade the plan.",
  permission_denied: "You don't have permission to do this. Ask an admin of your account.",
  invalid_request: 'Something in the request is missing or not valid. Check the highlighted field and try again.',
  inbox_not_found: 'The conversations inbox was not found. It may have been deleted; choose another one.',
  invalid_address: 'This is not a valid email address. Enter an address like name@example.com.',
  host_not_allowed: "Mailroom does not connect to private, loopback or link-local mail servers. Use your provider's public server, or ask the operator of this Mailroom to allow the private one in its configuration.",
  imap_settings_incorrect: "Mailroom could not reach the incoming mail (IMAP) server. Check the server name, port and security setting with your email provider's instructions.",
  imap_authentication_failed: 'The incoming mail (IMAP) server refused the username or password. Check them; some providers need an app password.',
  smtp_settings_incorrect: "Mailroom could not reach the outgoing mail (SMTP) server. Check the server name, port and security setting with your email provider's instructions.",
  smtp_authentication_failed: 'The outgoing mail (SMTP) server refused the username or password. Check them; some providers need an app password.',
};

/** A plain, general message for a code (when no more specific message is at hand). */
export function userMessageFor(code: ConnectionErrorCode | string): string {
  return (MESSAGES as Record<string, string>)[code] ?? 'Something went wrong with this email connection. Try again; if it keeps happening, ask an admin to check the connection in Settings → Email.';
}

/** The API error body of a refusal: `{"error": {code, message, holder?, resolution?, details?}}`. */
export function refusalBody(r: Refusal): ErrorBody {
  return errorBody(r.code, r.message, { holder: r.holder, resolution: r.resolution, details: r.details });
}

function no(refusal: Refusal): { ok: false; refusal: Refusal } {
  return { ok: false, refusal };
}
