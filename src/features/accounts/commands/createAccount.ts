import { AppError, invalidRequest } from '../../../platform/errors.js';
import { isPlanId, type PlanId } from '../domain/plans.js';
import { generatePassword, hashPassword } from '../../../platform/security/passwords.js';
import { newId } from '../../../platform/database/ids.js';
import { recordAudit } from '../../../platform/audit.js';
import type { CommandEnv } from '../../../platform/context.js';
import { issueApiToken } from './createApiToken.js';
import { isUniqueViolation } from '../../../platform/database/database.js';
import { emailKey } from '../email-key.js';

export interface CreateAccountInput {
  /** Display name of the company. */
  name: string;
  plan: PlanId | string;
  adminEmail: string;
  adminName?: string;
  /** When omitted a password is generated and returned once. */
  adminPassword?: string;
}

export interface CreateAccountResult {
  accountId: string;
  adminUserId: string;
  teamId: string;
  apiToken: string;
  /** Only set when the password was generated. */
  generatedPassword?: string;
}

/**
 * Creates a tenant with its first super admin, a default team and an API token for that admin.
 * The whole thing is one transaction with its audit event.
 */
export async function createAccount(env: CommandEnv, input: CreateAccountInput): Promise<CreateAccountResult> {
  const name = input.name?.trim();
  if (!name) throw invalidRequest('An account needs a name.');
  if (!isPlanId(input.plan)) {
    throw new AppError('invalid_plan', 400, `Unknown plan "${input.plan}". Choose one of free, starter, professional, enterprise.`);
  }
  const plan: PlanId = input.plan;
  const key = emailKey(input.adminEmail);
  if (input.adminPassword !== undefined && input.adminPassword.length < 8) {
    throw invalidRequest('The admin password must be at least 8 characters long.');
  }
  const generatedPassword = input.adminPassword === undefined ? generatePassword() : undefined;
  const passwordHash = await hashPassword(input.adminPassword ?? generatedPassword!);
  const now = env.now();
  const accountId = newId('acc');
  const adminUserId = newId('usr');
  const teamId = newId('team');
  try {
    const token = await env.db.transaction().execute(async (trx) => {
      await trx.insertInto('accounts').values({ id: accountId, name, plan, settings: '{}', created_at: now }).execute();
      await trx.insertInto('teams').values({ id: teamId, account_id: accountId, name: 'Everyone', created_at: now }).execute();
      await trx
        .insertInto('users')
        .values({
          id: adminUserId,
          account_id: accountId,
          email: input.adminEmail.trim(),
          email_key: key,
          name: input.adminName?.trim() || input.adminEmail.trim().split('@')[0]!,
          password_hash: passwordHash,
          role: 'super_admin',
          seat: 'paid',
          state: 'active',
          perm_personal_email: 1,
          perm_account_access: 1,
          perm_availability: 1,
          primary_team_id: teamId,
          availability: 'available',
          working_hours: null,
          settings: '{}',
          created_at: now,
          state_changed_at: null,
        })
        .execute();
      await trx.insertInto('team_members').values({ team_id: teamId, user_id: adminUserId, account_id: accountId }).execute();
      await recordAudit(trx, {
        accountId,
        actorUserId: null,
        action: 'account.created',
        targetType: 'account',
        targetId: accountId,
        data: { plan: input.plan, adminUserId },
        at: now,
      });
      return issueApiToken(trx, { accountId, userId: adminUserId, name: 'initial admin token', now });
    });
    return { accountId, adminUserId, teamId, apiToken: token.token, ...(generatedPassword ? { generatedPassword } : {}) };
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw new AppError('email_taken', 409, `A user with the email ${input.adminEmail.trim()} already exists. Sign in with it, or use another email.`);
    }
    throw err;
  }
}
