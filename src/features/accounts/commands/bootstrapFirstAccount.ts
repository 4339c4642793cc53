import type { CommandEnv } from '../../../platform/context.js';
import { createAccount } from './createAccount.js';

/**
 * On first start (no account yet) creates the first account and its super admin so a newcomer can sign
 * in at once. Credentials come from MAILROOM_ADMIN_EMAIL / MAILROOM_ADMIN_PASSWORD or are generated and
 * returned so the caller prints them once.
 */
export async function bootstrapFirstAccount(
  env: CommandEnv,
  opts: { adminEmail?: string; adminPassword?: string; accountName?: string; plan?: string },
): Promise<null | { accountId: string; adminUserId: string; email: string; password?: string; apiToken: string }> {
  const any = await env.db.selectFrom('accounts').select('id').limit(1).executeTakeFirst();
  if (any) return null;
  const email = opts.adminEmail ?? 'admin@mailroom.local';
  const r = await createAccount(env, {
    name: opts.accountName ?? 'My company',
    plan: opts.plan ?? 'professional',
    adminEmail: email,
    adminName: 'Admin',
    ...(opts.adminPassword ? { adminPassword: opts.adminPassword } : {}),
  });
  return { accountId: r.accountId, adminUserId: r.adminUserId, email, ...(r.generatedPassword ? { password: r.generatedPassword } : {}), apiToken: r.apiToken };
}
