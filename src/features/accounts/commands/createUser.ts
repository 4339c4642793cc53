import { AppError, invalidRequest } from '../../../platform/errors.js';
import type { PlanId } from '../domain/plans.js';
import { checkSeat, type Seat } from '../domain/users.js';
import { generatePassword, hashPassword } from '../../../platform/security/passwords.js';
import { isUniqueViolation } from '../../../platform/database/database.js';
import { newId } from '../../../platform/database/ids.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv, Executor } from '../../../platform/context.js';
import { emailKey } from '../email-key.js';
import { accountsPolicies } from '../policies.js';
import { userView } from '../views.js';
import { authorize } from '../../../platform/authorize.js';

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

/** Refuses unless the plan has room for one more user on `seat` (removed users free their seat). */
export async function assertSeatAvailable(db: Executor, accountId: string, plan: string, seat: string, exceptUserId?: string): Promise<void> {
  let q = db.selectFrom('users').select(['seat', (eb) => eb.fn.countAll<number>().as('n')]).where('account_id', '=', accountId).where('state', '!=', 'removed').groupBy('seat');
  if (exceptUserId) q = q.where('id', '!=', exceptUserId);
  const rows = await q.execute();
  const count = (s: string) => Number(rows.find((r) => r.seat === s)?.n ?? 0);
  const decision = checkSeat(plan as PlanId, seat as Seat, { paid: count('paid'), free: count('free'), viewOnly: count('view_only') });
  if (!decision.ok) throw new AppError(decision.code, decision.status, decision.message, decision.details ?? {});
}

/** Invites a user into the actor's account (admins only). */
export async function createUser(env: CommandEnv, actor: Actor, input: CreateUserInput) {
  authorize(actor, accountsPolicies.addUser);
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
        state: 'active' as const,
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
