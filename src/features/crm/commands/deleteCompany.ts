import { recordEvent } from '../../../platform/events.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { crmPolicies } from '../policies.js';
import { loadCompany, refreshContactSearch } from '../queries.js';
import { authorize } from '../../../platform/authorize.js';

/**
 * Deletes a company (admins only). Its contacts stay, without a company; its domains become free.
 * One transaction, one audit event.
 */
export async function deleteCompany(env: CommandEnv, actor: Actor, companyId: string): Promise<void> {
  authorize(actor, crmPolicies.deleteCompany);
  const now = env.now();
  await env.db.transaction().execute(async (trx) => {
    const company = await loadCompany(trx, actor.accountId, companyId);
    const contactIds = (await trx.selectFrom('contacts').select('id').where('account_id', '=', actor.accountId).where('company_id', '=', company.id).execute()).map((r) => r.id);
    await trx.updateTable('contacts').set({ company_id: null, updated_at: now }).where('account_id', '=', actor.accountId).where('company_id', '=', company.id).execute();
    await refreshContactSearch(trx, actor.accountId, contactIds);
    const domains = await trx.deleteFrom('company_domains').where('account_id', '=', actor.accountId).where('company_id', '=', company.id).returning('domain').execute();
    await trx.deleteFrom('companies').where('id', '=', company.id).where('account_id', '=', actor.accountId).execute();
    await recordAudit(trx, {
      accountId: actor.accountId,
      actorUserId: actor.user.id,
      action: 'company.deleted',
      targetType: 'company',
      targetId: company.id,
      data: { name: company.name, domains: domains.map((d) => d.domain), contactsUnlinked: contactIds.length },
      at: now,
    });
    await recordEvent(trx, { accountId: actor.accountId, type: 'company.deleted', subject: { type: 'company', id: company.id }, data: { companyId: company.id, contactsUnlinked: contactIds.length }, at: now });
  });
}
