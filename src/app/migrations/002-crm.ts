import type { Kysely } from 'kysely';
import { companySearchText, contactSearchText, contactSortName, foldText } from '../../features/crm/domain/contacts.js';

/**
 * CRM search and lists. Search text and sort keys are computed in the application (folded: lower case,
 * accents removed) and stored, so search and sorting behave the same on SQLite and PostgreSQL:
 * - contacts.search_text: names, emails and company name; contacts.sort_name: "last first" (or email);
 * - companies.name_key: folded name (import matches companies by it); companies.search_text: name and domains.
 * Indexes back the list orders (keyset pagination) and the owner/company filters.
 */
export async function up(db: Kysely<any>): Promise<void> {
  // One column per statement: SQLite's ALTER TABLE adds one column at a time.
  await db.schema.alterTable('contacts').addColumn('search_text', 'text', (c) => c.notNull().defaultTo('')).execute();
  await db.schema.alterTable('contacts').addColumn('sort_name', 'text', (c) => c.notNull().defaultTo('')).execute();
  await db.schema.alterTable('companies').addColumn('name_key', 'text', (c) => c.notNull().defaultTo('')).execute();
  await db.schema.alterTable('companies').addColumn('search_text', 'text', (c) => c.notNull().defaultTo('')).execute();

  await db.schema.createIndex('contacts_sort_idx').on('contacts').columns(['account_id', 'sort_name', 'id']).execute();
  await db.schema.createIndex('contacts_created_idx').on('contacts').columns(['account_id', 'created_at', 'id']).execute();
  await db.schema.createIndex('contacts_owner_idx').on('contacts').columns(['account_id', 'owner_id']).execute();
  await db.schema.createIndex('contacts_company_idx').on('contacts').columns(['company_id']).execute();
  await db.schema.createIndex('companies_name_key_idx').on('companies').columns(['account_id', 'name_key', 'id']).execute();
  await db.schema.createIndex('company_domains_company_idx').on('company_domains').columns(['company_id']).execute();
  await db.schema.createIndex('timeline_contact_order_idx').on('timeline_events').columns(['contact_id', 'occurred_at', 'id']).execute();

  // Backfill rows written before this migration (none in a new installation).
  const companies = await db.selectFrom('companies').select(['id', 'name']).execute();
  const domains = await db.selectFrom('company_domains').select(['company_id', 'domain']).execute();
  for (const c of companies as Array<{ id: string; name: string }>) {
    const ds = (domains as Array<{ company_id: string; domain: string }>).filter((d) => d.company_id === c.id).map((d) => d.domain);
    await db.updateTable('companies').set({ name_key: foldText(c.name), search_text: companySearchText({ name: c.name, domains: ds }) }).where('id', '=', c.id).execute();
  }
  const contacts = (await db.selectFrom('contacts').select(['id', 'first_name', 'last_name', 'company_id']).execute()) as Array<{ id: string; first_name: string; last_name: string; company_id: string | null }>;
  if (contacts.length) {
    const emails = (await db.selectFrom('contact_emails').select(['contact_id', 'email', 'email_key', 'is_primary']).execute()) as Array<{ contact_id: string; email: string; email_key: string; is_primary: number }>;
    const companyName = new Map((companies as Array<{ id: string; name: string }>).map((c) => [c.id, c.name]));
    for (const c of contacts) {
      const es = emails.filter((e) => e.contact_id === c.id).sort((a, b) => b.is_primary - a.is_primary);
      await db
        .updateTable('contacts')
        .set({
          search_text: contactSearchText({ firstName: c.first_name, lastName: c.last_name, emails: es.map((e) => ({ email: e.email, key: e.email_key })), companyName: c.company_id ? companyName.get(c.company_id) : null }),
          sort_name: contactSortName({ firstName: c.first_name, lastName: c.last_name, primaryEmail: es[0]?.email ?? null }),
        })
        .where('id', '=', c.id)
        .execute();
    }
  }
}
