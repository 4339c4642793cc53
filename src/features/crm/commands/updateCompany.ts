import { isUniqueViolation } from '../../../platform/database/database.js';
import { recordEvent } from '../../../platform/events.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import {
  assertDomainsFree,
  cleanCompanyName,
  companyViewById,
  linkContactsToCompanyByDomain,
  loadCompany,
  normaliseCompanyDomains,
  refreshCompanySearch,
  refreshContactSearch,
  type CompanyView,
} from '../queries.js';
import { crmPolicies } from '../policies.js';
import { authorize } from '../../../platform/authorize.js';

export interface UpdateCompanyInput {
  name?: string;
  /** The complete new list of domains (replaces the old list). */
  domains?: string[];
}

/**
 * Renames a company or changes its domains. Contacts without a company whose email is at a newly added
 * domain are linked to it; contacts already linked stay linked when a domain is removed (the link is the
 * contact's data now). One transaction, one audit event.
 */
export async function updateCompany(env: CommandEnv, actor: Actor, companyId: string, input: UpdateCompanyInput): Promise<CompanyView> {
  authorize(actor, crmPolicies.write);
  const name = input.name === undefined ? undefined : cleanCompanyName(input.name);
  const domains = input.domains === undefined ? undefined : normaliseCompanyDomains(input.domains);
  const now = env.now();
  try {
    await env.db.transaction().execute(async (trx) => {
      const company = await loadCompany(trx, actor.accountId, companyId);
      const current = (await trx.selectFrom('company_domains').select('domain').where('account_id', '=', actor.accountId).where('company_id', '=', company.id).execute()).map((d) => d.domain);
      const changed: string[] = [];
      const renamed = name !== undefined && name !== company.name;
      if (renamed) changed.push('name');
      let added: string[] = [];
      let removed: string[] = [];
      if (domains !== undefined) {
        added = domains.filter((d) => !current.includes(d));
        removed = current.filter((d) => !domains.includes(d));
        if (added.length || removed.length) changed.push('domains');
      }
      if (!changed.length) return;
      await assertDomainsFree(trx, actor.accountId, added, company.id);
      if (removed.length) await trx.deleteFrom('company_domains').where('account_id', '=', actor.accountId).where('domain', 'in', removed).execute();
      if (added.length) await trx.insertInto('company_domains').values(added.map((domain) => ({ account_id: actor.accountId, domain, company_id: company.id }))).execute();
      const finalName = name ?? company.name;
      await trx.updateTable('companies').set({ name: finalName, updated_at: now }).where('id', '=', company.id).execute();
      await refreshCompanySearch(trx, { id: company.id, name: finalName }, domains ?? current);
      const linked = await linkContactsToCompanyByDomain(trx, actor.accountId, company.id, added, now);
      const toRefresh = renamed
        ? (await trx.selectFrom('contacts').select('id').where('account_id', '=', actor.accountId).where('company_id', '=', company.id).execute()).map((r) => r.id)
        : linked;
      await refreshContactSearch(trx, actor.accountId, toRefresh);
      await recordAudit(trx, {
        accountId: actor.accountId,
        actorUserId: actor.user.id,
        action: 'company.updated',
        targetType: 'company',
        targetId: company.id,
        data: { changed, ...(renamed ? { name: finalName } : {}), domainsAdded: added, domainsRemoved: removed, contactsLinked: linked.length },
        at: now,
      });
      await recordEvent(trx, { accountId: actor.accountId, type: 'company.updated', subject: { type: 'company', id: company.id }, data: { companyId: company.id, changed, domainsAdded: added, domainsRemoved: removed }, at: now });
    });
  } catch (err) {
    if (isUniqueViolation(err) && domains) await assertDomainsFree(env.db, actor.accountId, domains, companyId);
    throw err;
  }
  return companyViewById(env.db, actor.accountId, companyId);
}
