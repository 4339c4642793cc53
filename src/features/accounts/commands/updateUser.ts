import { AppError, invalidRequest, permissionDenied } from '../../../platform/errors.js';
import { canChangeAvailability, canChangeRole, isAdmin, userFactsFromRow } from '../domain/users.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { loadUser, teamIdsOf } from '../queries.js';
import { assertSeatAvailable } from './createUser.js';
import { userSettings, userView } from '../views.js';
import { hashPassword } from '../../../platform/security/passwords.js';
import { credentialsChanged } from '../credentials.js';

export interface UpdateUserInput {
  name?: string;
  role?: 'super_admin' | 'admin' | 'member';
  seat?: 'paid' | 'free' | 'view_only';
  permissions?: { personalEmail?: boolean; accountAccess?: boolean; availabilityManagement?: boolean };
  primaryTeamId?: string;
  teamIds?: string[];
  /** 'available' or 'away'. The user, or someone with the availability-management permission. */
  availability?: 'available' | 'away';
  /** e.g. {"timezone":"Europe/Paris","days":{"mon":[["09:00","17:00"]], ...}} */
  workingHours?: Record<string, unknown> | null;
  password?: string;
  /** Email me my notifications (a digest per minute at most) when the server has NOTIFY_SMTP_URL. The user only. */
  emailNotifications?: boolean;
  /** Undo send: hold my replies and one-to-one emails this many seconds (0 to 30). The user only. */
  undoSendSeconds?: number;
}

/**
 * Changes a user's profile, role, seat, permissions, teams or availability. Users may change their own
 * name, password and availability; everything else needs an admin. Only super admins grant super admin,
 * and the last super admin cannot be demoted.
 */
export async function updateUser(env: CommandEnv, actor: Actor, userId: string, input: UpdateUserInput) {
  const self = userId === actor.user.id;
  const admin = isAdmin(actor.user);
  const adminOnly = ['role', 'seat', 'permissions', 'primaryTeamId', 'teamIds'] as const;
  for (const f of adminOnly) {
    if (input[f] !== undefined && !admin) throw permissionDenied(`Only admins can change ${f === 'teamIds' ? 'teams' : f}.`);
  }
  if (!self && !admin && (input.name !== undefined || input.password !== undefined || input.workingHours !== undefined)) {
    throw permissionDenied('You can only change your own profile.');
  }
  if (!self && input.undoSendSeconds !== undefined) throw permissionDenied('Only the user can choose their undo-send delay.');
  if (input.undoSendSeconds !== undefined && (!Number.isInteger(input.undoSendSeconds) || input.undoSendSeconds < 0 || input.undoSendSeconds > 30)) throw invalidRequest('The undo-send delay is a whole number of seconds from 0 to 30.', { field: 'undoSendSeconds' });
  if (!self && input.emailNotifications !== undefined) throw permissionDenied('Only the user can choose whether their notifications are emailed.');
  if (input.availability !== undefined && !canChangeAvailability(userFactsFromRow(actor.user), userId)) {
    throw permissionDenied("Changing someone else's availability needs the availability-management permission.");
  }
  if (input.password !== undefined && input.password.length < 8) throw invalidRequest('Passwords must be at least 8 characters long.');
  const passwordHash = input.password !== undefined ? await hashPassword(input.password) : undefined;
  const now = env.now();
  const view = await env.db.transaction().execute(async (trx) => {
    const target = await loadUser(trx, actor.accountId, userId);
    const patch: Record<string, unknown> = {};
    if (input.name !== undefined) {
      if (!input.name.trim()) throw invalidRequest('A user needs a name.');
      patch.name = input.name.trim();
    }
    if (input.role !== undefined && input.role !== target.role) {
      const { n } = await trx.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', actor.accountId).where('role', '=', 'super_admin').where('state', '=', 'active').executeTakeFirstOrThrow();
      const decision = canChangeRole(userFactsFromRow(actor.user), userFactsFromRow(target), input.role, Number(n));
      if (!decision.ok) throw new AppError(decision.code, decision.status, decision.message, decision.details ?? {});
      patch.role = input.role;
    }
    if (input.seat !== undefined && input.seat !== target.seat) {
      await assertSeatAvailable(trx, actor.accountId, actor.plan, input.seat, target.id);
      patch.seat = input.seat;
    }
    if (input.permissions) {
      if (input.permissions.personalEmail !== undefined) patch.perm_personal_email = input.permissions.personalEmail ? 1 : 0;
      if (input.permissions.accountAccess !== undefined) patch.perm_account_access = input.permissions.accountAccess ? 1 : 0;
      if (input.permissions.availabilityManagement !== undefined) patch.perm_availability = input.permissions.availabilityManagement ? 1 : 0;
    }
    if (input.availability !== undefined) patch.availability = input.availability;
    if (input.workingHours !== undefined) patch.working_hours = input.workingHours === null ? null : JSON.stringify(input.workingHours);
    if (passwordHash) patch.password_hash = passwordHash;
    if (input.emailNotifications !== undefined || input.undoSendSeconds !== undefined) {
      patch.settings = JSON.stringify({
        ...userSettings(target),
        ...(input.emailNotifications !== undefined ? { emailNotifications: input.emailNotifications } : {}),
        ...(input.undoSendSeconds !== undefined ? { undoSendSeconds: input.undoSendSeconds } : {}),
      });
    }
    let teamIds = await teamIdsOf(trx, target.id);
    if (input.teamIds !== undefined || input.primaryTeamId !== undefined) {
      const wanted = [...new Set([...(input.teamIds ?? teamIds), ...(input.primaryTeamId ? [input.primaryTeamId] : [])])];
      if (wanted.length) {
        const found = await trx.selectFrom('teams').select('id').where('account_id', '=', actor.accountId).where('id', 'in', wanted).execute();
        if (found.length !== wanted.length) throw invalidRequest('One of the teams does not exist in this account.', { field: 'teamIds' });
      }
      const primary = input.primaryTeamId ?? (target.primary_team_id && wanted.includes(target.primary_team_id) ? target.primary_team_id : wanted[0] ?? null);
      patch.primary_team_id = primary;
      await trx.deleteFrom('team_members').where('user_id', '=', target.id).execute();
      for (const t of wanted) await trx.insertInto('team_members').values({ team_id: t, user_id: target.id, account_id: actor.accountId }).execute();
      teamIds = wanted;
    }
    if (Object.keys(patch).length) await trx.updateTable('users').set(patch).where('id', '=', target.id).execute();
    const changed = Object.keys(input).filter((k) => k !== 'password');
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'user.updated', targetType: 'user', targetId: target.id, data: { changed, ...(input.password ? { passwordChanged: true } : {}) }, at: now });
    const updated = await loadUser(trx, actor.accountId, target.id);
    return userView(updated, teamIds);
  });
  credentialsChanged(); // cached actors carry the user row (role, seat, permissions, name)
  return view;
}
