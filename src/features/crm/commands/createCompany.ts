import { foldText, companySearchText } from '../domain/contacts.js';
import { isUniqueViolation } from '../../../platform/database/database.js';
import { newId } from '../../../platform/database/ids.js';
import { recordEvent } from '../../../platform/events.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import {
  assertDomainsFree,
  cleanCompanyName,
  companyViewById,
  linkContactsToCompanyByDomain,
  normaliseCompanyDomains,
  refreshContactSearch,
  type CompanyView,
} from '../queries.js';
import { crmPolicies } from '../policies.js';
import { authorize } from '../../../platform/authorize.js';

export interface CreateCompanyInput {
  name: string;
  /** Email domains of the company (acme.com; URLs like https://www.acme.com are accepted). Unique per account. */
  domains?: string[];
}

/**
 * Creates a company. Its domains are unique per account (409 company_domain_taken, naming the holder) and
 * cannot be free mail domains. Contacts without a company whose email is at one of the domains are linked
 * to it. One transaction, one audit event.
 */
export async function createCompany(env: CommandEnv, actor: Actor, input: CreateCompanyInput): Promise<CompanyView> {
  authorize(actor, crmPolicies.write);
  const name = cleanCompanyName(input.name);
  const domains = normaliseCompanyDomains(input.domains ?? []);
  const id = newId('cmp');
  const now = env.now();
  try {
    await env.db.transaction().execute(async (trx) => {
      await assertDomainsFree(trx, actor.accountId, domains);
      await trx
        .insertInto('companies')
        .values({ id, account_id: actor.accountId, name, created_at: now, updated_at: now, name_key: foldText(name), search_text: companySearchText({ name, domains }) })
        .execute();
      if (domains.length) await trx.insertInto('company_domains').values(domains.map((domain) => ({ account_id: actor.accountId, domain, company_id: id }))).execute();
      const linked = await linkContactsToCompanyByDomain(trx, actor.accountId, id, domains, now);
      await refreshContactSearch(trx, actor.accountId, linked);
      await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'company.created', targetType: 'company', targetId: id, data: { name, domains, contactsLinked: linked.length }, at: now });
      await recordEvent(trx, { accountId: actor.accountId, type: 'company.created', subject: { type: 'company', id }, data: { companyId: id, domains, contactsLinked: linked.length }, at: now });
    });
  } catch (err) {
    if (isUniqueViolation(err)) await assertDomainsFree(env.db, actor.accountId, domains);
    throw err;
  }
  return companyViewById(env.db, actor.accountId, id);
}
