import { personalPolicies } from '../policies.js';
import type { Actor, CommandEnv, Executor } from '../../../platform/context.js';
import { loadAccountEmailSettings } from '../queries.js';
import { authorize } from '../../../platform/authorize.js';

export async function accountEmailSettingsView(db: Executor, accountId: string) {
  const s = await loadAccountEmailSettings(db, accountId);
  return { logRule: s.logRule, createContacts: s.createContacts, neverLog: s.neverLog.map((e) => e.value) };
}
export type AccountEmailSettingsView = Awaited<ReturnType<typeof accountEmailSettingsView>>;

/** The account's email logging rule, create-contacts setting and never-log list (admins). */
export async function getAccountEmailSettings(env: CommandEnv, actor: Actor): Promise<AccountEmailSettingsView> {
  authorize(actor, personalPolicies.readAccountEmailSettings);
  return accountEmailSettingsView(env.db, actor.accountId);
}
