import type { CommandEnv, Actor } from '../platform/context.js';
import { createAccount } from '../features/accounts/commands/createAccount.js';
import { createTeam } from '../features/accounts/commands/createTeam.js';
import { createUser } from '../features/accounts/commands/createUser.js';
import { demoSteps } from './features.js';

export const DEMO_ADMIN_EMAIL = 'admin@demo.mailroom.local';
export const DEMO_PASSWORD = 'demo-password';


/**
 * Seeds a demo account so a newcomer can explore without a mail server: users in two teams, and whatever
 * the features declare (src/app/features.ts: contacts and companies, an inbox with conversations). Safe to run twice.
 */
export async function seedDemo(env: CommandEnv): Promise<{ created: boolean; accountId: string; adminEmail: string; password: string }> {
  const existing = await env.db.selectFrom('users').select(['account_id']).where('email_key', '=', DEMO_ADMIN_EMAIL).executeTakeFirst();
  if (existing) return { created: false, accountId: existing.account_id, adminEmail: DEMO_ADMIN_EMAIL, password: DEMO_PASSWORD };
  const acc = await createAccount(env, { name: 'Demo Co', plan: 'professional', adminEmail: DEMO_ADMIN_EMAIL, adminName: 'Dana Admin', adminPassword: DEMO_PASSWORD });
  const adminRow = await env.db.selectFrom('users').selectAll().where('id', '=', acc.adminUserId).executeTakeFirstOrThrow();
  const admin: Actor = { user: adminRow, accountId: acc.accountId, plan: 'professional' };
  const support = await createTeam(env, admin, { name: 'Support' });
  const sales = await createTeam(env, admin, { name: 'Sales' });
  const people: Array<[string, string, string, 'admin' | 'member', 'paid' | 'free']> = [
    ['sam@demo.mailroom.local', 'Sam Support', support.id, 'member', 'paid'],
    ['sue@demo.mailroom.local', 'Sue Service', support.id, 'member', 'paid'],
    ['alex@demo.mailroom.local', 'Alex Account-Exec', sales.id, 'member', 'paid'],
    ['bea@demo.mailroom.local', 'Bea Business', sales.id, 'admin', 'paid'],
    ['viv@demo.mailroom.local', 'Viv Viewer', sales.id, 'member', 'free'],
  ];
  const users: Record<string, string> = { admin: acc.adminUserId };
  for (const [email, name, team, role, seat] of people) {
    const u = await createUser(env, admin, { email, name, role, seat, primaryTeamId: team, password: DEMO_PASSWORD });
    users[email.split('@')[0]!] = u.user.id;
  }
  for (const step of demoSteps()) await step(env, admin);
  return { created: true, accountId: acc.accountId, adminEmail: DEMO_ADMIN_EMAIL, password: DEMO_PASSWORD };
}

