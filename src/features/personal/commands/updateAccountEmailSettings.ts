import { invalidRequest } from '../../../platform/errors.js';
import { isLogRule, type LogRule } from '../domain/logging.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { personalPolicies } from '../policies.js';
import { loadAccountEmailSettings } from '../queries.js';
import { accountEmailSettingsView, type AccountEmailSettingsView } from './getAccountEmailSettings.js';
import { neverLogList } from './updateEmailPreferences.js';
import { authorize } from '../../../platform/authorize.js';

export interface UpdateAccountEmailSettingsInput {
  /** replies_only: email sent from the CRM and its replies; all_known_contacts: also any email with known contacts, from any client. */
  logRule?: LogRule;
  /** Let logged email create contacts for unknown recipients. */
  createContacts?: boolean;
  /** Addresses and domains whose mail is never logged by anyone in the account (replaces the list). */
  neverLog?: string[];
}

/** Admins: the account's logging rule, create-contacts setting and never-log list. Audited. */
export async function updateAccountEmailSettings(env: CommandEnv, actor: Actor, input: UpdateAccountEmailSettingsInput): Promise<AccountEmailSettingsView> {
  authorize(actor, personalPolicies.changeAccountEmailSettings);
  if (input.logRule !== undefined && !isLogRule(input.logRule)) throw invalidRequest('logRule must be replies_only or all_known_contacts.', { field: 'logRule' });
  const neverLog = input.neverLog ? neverLogList(input.neverLog, 'neverLog') : undefined;
  const now = env.now();
  return env.db.transaction().execute(async (trx) => {
    const current = await loadAccountEmailSettings(trx, actor.accountId);
    const patch = {
      log_rule: input.logRule ?? current.logRule,
      create_contacts: (input.createContacts ?? current.createContacts) ? 1 : 0,
      never_log: JSON.stringify(neverLog ?? current.neverLog),
      updated_at: now,
    };
    await trx
      .insertInto('account_email_settings')
      .values({ account_id: actor.accountId, ...patch })
      .onConflict((oc) => oc.column('account_id').doUpdateSet(patch))
      .execute();
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'account_email_settings.updated', targetType: 'account', targetId: actor.accountId, data: { changed: Object.keys(input), logRule: patch.log_rule }, at: now });
    return accountEmailSettingsView(trx, actor.accountId);
  });
}
