import { AppError, invalidRequest } from '../domain/errors.js';
import { limitsFor, type PlanId } from '../domain/plans.js';
import { generatePassword, hashPassword } from '../security/passwords.js';
import { isUniqueViolation } from '../store/database.js';
import { newId } from '../store/ids.js';
import { recordAudit } from './support/audit.js';
import type { Actor, CommandEnv, Executor } from './support/context.js';
import { emailKey } from './support/email-key.js';
import { requireAdmin } from './support/guards.js';
import { userView } from './support/views.js';

export interface CreateUserInput {
  email: string;
  name: string;
  role?: 'admin' | 'member' | 'super_admin';
  seat?: 'paid' | 'free' | 'view_only';
  permissions?: { personalEmail?: boolean; accountAccess?: boolean; availabilityManagement?: boolean };
  primaryTeamId?: string;
  teamIds?: string[];
  /** When omitted a password is generated and returned once (the invitation). */
  password?: string;
}

/** Checks the plan's seat quota for a seat type; counts active and deactivated users (removed free their seat). */
export async function assertSeatAvailable(db: Executor, accountId: string, plan: string, seat: string, exceptUserId?: string): Promise<void> {
  const limits = limitsFor(plan as PlanId);
  const max = seat === 'paid' ? limits.paidSeats : seat === 'free' ? limits.freeSeats : null;
  if (max === null || max === undefined) return;
  let q = db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', accountId).where('seat', '=', seat).where('state', '!=', 'removed');
  if (exceptUserId) q = q.where('id', '!=', exceptUserId);
  const { n } = await q.executeTakeFirstOrThrow();
  if (Number(n) >= max) {
    throw new AppError('plan_limit_reached', 409, `Your ${plan} plan includes ${max} ${seat.replace('_', '-')} seats and all are taken. Free a seat (remove a user or change their seat) or upgrade the plan.`, {
      limit: { name: `${seat}Seats`, max, plan },
    });
  }
}

/** Invites a user into the actor's account (admins only). */
export async function createUser(env: CommandEnv, actor: Actor, input: CreateUserInput) {
  requireAdmin(actor, 'add users');
  const key = emailKey(input.email);
  const name = input.name?.trim();
  if (!name) throw invalidRequest('A user needs a name.');
  const role = input.role ?? 'member';
  if (role === 'super_admin' && actor.user.role !== 'super_admin') throw new AppError('permission_denied', 403, 'Only a super admin can make another super admin.');
  const seat = input.seat ?? 'paid';
  if (input.password !== undefined && input.password.length < 8) throw invalidRequest('Passwords must be at least 8 characters long.');
  const generatedPassword = input.password === undefined ? generatePassword() : undefined;
  const passwordHash = await hashPassword(input.password ?? generatedPassword!);
  const now = env.now();
  const id = newId('usr');
  try {
    const user = await env.db.transaction().execute(async (trx) => {
      await assertSeatAvailable(trx, actor.accountId, actor.plan, seat);
      const teamIds = [...new Set([...(input.teamIds ?? []), ...(input.primaryTeamId ? [input.primaryTeamId] : [])])];
      if (teamIds.length) {
        const found = await trx.selectFrom('teams').select('id').where('account_id', '=', actor.accountId).where('id', 'in', teamIds).execute();
        if (found.length !== teamIds.length) throw invalidRequest('One of the teams does not exist in this account.', { field: 'teamIds' });
      }
      const primary = input.primaryTeamId ?? teamIds[0] ?? (await defaultTeamId(trx, actor.accountId));
      if (primary && !teamIds.includes(primary)) teamIds.push(primary);
      const perms = input.permissions ?? {};
      const row = {
        id,
        account_id: actor.accountId,
        email: input.email.trim(),
        email_key: key,
        name,
        password_hash: passwordHash,
        role,
        seat,
        state: 'active',
        perm_personal_email: perms.personalEmail === false ? 0 : 1,
        perm_account_access: perms.accountAccess ?? role !== 'member' ? 1 : 0,
        perm_availability: perms.availabilityManagement ?? role !== 'member' ? 1 : 0,
        primary_team_id: primary,
        availability: 'available',
        working_hours: null,
        settings: '{}',
        created_at: now,
        state_changed_at: null,
      };
      await trx.insertInto('users').values(row).execute();
      for (const t of teamIds) await trx.insertInto('team_members').values({ team_id: t, user_id: id, account_id: actor.accountId }).execute();
      await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'user.created', targetType: 'user', targetId: id, data: { email: row.email, role, seat }, at: now });
      return userView(row, teamIds);
    });
    return { user, ...(generatedPassword ? { generatedPassword } : {}) };
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('email_taken', 409, `A user with the email ${input.email.trim()} already exists.`);
    throw err;
  }
}

async function defaultTeamId(trx: Executor, accountId: string): Promise<string | null> {
  const t = await trx.selectFrom('teams').select('id').where('account_id', '=', accountId).orderBy('created_at').limit(1).executeTakeFirst();
  return t?.id ?? null;
}
