/**
 * Shared pieces of the CRM commands (contacts, companies, timeline): loading rows of the actor's account,
 * checking owners and emails, automatic company association, search text upkeep and the API views.
 */
import { addressKey } from '../connections/index.js';
import {
  companySearchText,
  contactDisplayName,
  contactSearchText,
  contactSortName,
  domainCandidates,
  emailDomain,
  foldText,
  isFreemailDomain,
  matchCompanyByDomain,
  MAX_COMPANY_NAME_LENGTH,
  MAX_DOMAINS_PER_COMPANY,
  MAX_EMAILS_PER_CONTACT,
  MAX_NAME_LENGTH,
  normaliseDomain,
} from './domain/contacts.js';
import { AppError, invalidRequest, notFound } from '../../platform/errors.js';
import type { CompaniesTable, ContactEmailsTable, ContactsTable } from '../../platform/database/schema.js';
import type { Executor } from '../../platform/context.js';
import { emailKey } from '../accounts/index.js';
import { isoTime } from '../../platform/http/iso-time.js';
import { sql } from 'kysely';
import { compiledOnce } from '../../platform/database/compiled-once.js';

export type ContactRow = ContactsTable;
export type CompanyRow = CompaniesTable;
export type ContactEmailRow = ContactEmailsTable;

const CHUNK = 500;
export function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export async function loadContact(db: Executor, accountId: string, contactId: string): Promise<ContactRow> {
  const c = await db.selectFrom('contacts').selectAll().where('id', '=', contactId).where('account_id', '=', accountId).executeTakeFirst();
  if (!c) throw notFound('Contact');
  return c;
}

export async function loadCompany(db: Executor, accountId: string, companyId: string): Promise<CompanyRow> {
  const c = await db.selectFrom('companies').selectAll().where('id', '=', companyId).where('account_id', '=', accountId).executeTakeFirst();
  if (!c) throw notFound('Company');
  return c;
}

/** A contact owner must be an active user of the account (404 for unknown or foreign ids). */
export async function resolveOwner(db: Executor, accountId: string, ownerId: string): Promise<string> {
  const u = await db.selectFrom('users').select(['id', 'name', 'state']).where('id', '=', ownerId).where('account_id', '=', accountId).executeTakeFirst();
  if (!u || u.state === 'removed') throw notFound('User');
  if (u.state !== 'active') throw new AppError('owner_not_active', 400, `${u.name} is ${u.state} and cannot own contacts. Pick an active user.`, { field: 'ownerId' });
  return u.id;
}

/** A name part, trimmed and length-checked. */
export function cleanName(value: string | undefined, field: 'firstName' | 'lastName'): string | undefined {
  if (value === undefined) return undefined;
  const v = value.replace(/\s+/g, ' ').trim();
  if (v.length > MAX_NAME_LENGTH) throw invalidRequest(`The ${field === 'firstName' ? 'first' : 'last'} name is longer than ${MAX_NAME_LENGTH} characters.`, { field });
  return v;
}

export interface NormalEmail {
  email: string;
  key: string;
}

/** Validates a list of emails (400 naming the bad one), drops repeats of the same address, keeps order. */
export function normaliseEmails(inputs: readonly string[]): NormalEmail[] {
  const out: NormalEmail[] = [];
  for (const input of inputs) {
    const key = emailKey(input);
    const r = addressKey(input);
    if (!out.some((e) => e.key === key)) out.push({ email: r.ok ? r.display : input.trim(), key });
  }
  if (out.length > MAX_EMAILS_PER_CONTACT) throw invalidRequest(`A contact can have at most ${MAX_EMAILS_PER_CONTACT} emails.`, { field: 'emails' });
  return out;
}

/** Refuses (409 contact_email_taken, naming the holder) when an email already belongs to another contact. */
export async function assertEmailsFree(db: Executor, accountId: string, keys: readonly string[], exceptContactId?: string): Promise<void> {
  for (const part of chunks(keys)) {
    if (!part.length) continue;
    let q = db
      .selectFrom('contact_emails')
      .innerJoin('contacts', 'contacts.id', 'contact_emails.contact_id')
      .select(['contact_emails.email', 'contacts.id', 'contacts.first_name', 'contacts.last_name'])
      .where('contact_emails.account_id', '=', accountId)
      .where('contact_emails.email_key', 'in', part);
    if (exceptContactId) q = q.where('contact_emails.contact_id', '!=', exceptContactId);
    const taken = await q.executeTakeFirst();
    if (taken) {
      const name = contactDisplayName({ firstName: taken.first_name, lastName: taken.last_name, primaryEmail: taken.email });
      throw new AppError(
        'contact_email_taken',
        409,
        `${taken.email} already belongs to the contact ${name}. An email can belong to one contact only: remove it from ${name} first, or edit that contact instead.`,
        { field: 'emails', email: taken.email, contactId: taken.id, contactName: name },
      );
    }
  }
}

/** Company ids by domain, for the domains (and parent domains) of the given emails. */
export async function companiesByDomain(db: Executor, accountId: string, emailKeys: readonly string[]): Promise<Map<string, string>> {
  const domains = [...new Set(emailKeys.map(emailDomain).filter((d) => !isFreemailDomain(d)).flatMap(domainCandidates))];
  const map = new Map<string, string>();
  for (const part of chunks(domains)) {
    if (!part.length) continue;
    const rows = await db.selectFrom('company_domains').select(['domain', 'company_id']).where('account_id', '=', accountId).where('domain', 'in', part).execute();
    for (const r of rows) map.set(r.domain, r.company_id);
  }
  return map;
}

/** The company a contact with these emails (primary first) belongs to by domain, if any. */
export async function companyForEmails(db: Executor, accountId: string, emailKeys: readonly string[]): Promise<string | null> {
  if (!emailKeys.length) return null;
  return matchCompanyByDomain(emailKeys, await companiesByDomain(db, accountId, emailKeys));
}

/**
 * Links contacts that have no company to `companyId` when one of their emails is at one of `domains`
 * (or a subdomain). Returns the ids of the contacts linked. Free mail domains never reach here: companies
 * cannot have them.
 */
export async function linkContactsToCompanyByDomain(db: Executor, accountId: string, companyId: string, domains: readonly string[], now: number): Promise<string[]> {
  if (!domains.length) return [];
  const rows = await db
    .selectFrom('contact_emails')
    .innerJoin('contacts', 'contacts.id', 'contact_emails.contact_id')
    .select(['contacts.id'])
    .where('contact_emails.account_id', '=', accountId)
    .where('contacts.company_id', 'is', null)
    .where((eb) => eb.or(domains.flatMap((d) => [eb('contact_emails.email_key', 'like', `%@${d}`), eb('contact_emails.email_key', 'like', `%.${d}`)])))
    .execute();
  const ids = [...new Set(rows.map((r) => r.id))];
  for (const part of chunks(ids)) {
    await db.updateTable('contacts').set({ company_id: companyId, updated_at: now }).where('account_id', '=', accountId).where('id', 'in', part).execute();
  }
  return ids;
}

/** Emails of contacts, primary first then by address. */
export async function emailsOf(db: Executor, accountId: string, contactIds: readonly string[]): Promise<Map<string, ContactEmailRow[]>> {
  const map = new Map<string, ContactEmailRow[]>();
  for (const part of chunks(contactIds)) {
    if (!part.length) continue;
    // By contact id alone (the account is checked on each row): with the account in the WHERE clause SQLite
    // walked every email of the account through the primary key instead of the contact index.
    const rows = await db.selectFrom('contact_emails').selectAll().where('contact_id', 'in', part).execute();
    for (const r of rows) addEmail(map, accountId, r);
  }
  return sortEmails(map);
}

/** Adds an email row to its contact's list (rows of another account are left out). */
function addEmail(map: Map<string, ContactEmailRow[]>, accountId: string, r: ContactEmailRow): void {
  if (r.account_id !== accountId) return;
  const list = map.get(r.contact_id);
  if (list) list.push(r);
  else map.set(r.contact_id, [r]);
}

/**
 * SQLite: the emails of a page of contacts by one statement text whatever the page's length (the ids as one
 * JSON array, `json_each`), so it is prepared once and never built again (an IN list of n placeholders was
 * built and compiled by Kysely on every call). Same rows as `emailsOf`.
 */
const pageEmailsQuery = compiledOnce<[ids: string], ContactEmailRow>('contactPageEmails', (db, arg) =>
  db.selectFrom('contact_emails').selectAll().where(sql<boolean>`${sql.ref('contact_id')} in (select value from json_each(${arg(0)}))`),
);

/** `emailsOf` for a page of contacts on SQLite (see pageEmailsQuery). */
export async function sqlitePageEmails(db: Executor, accountId: string, contactIds: readonly string[]): Promise<Map<string, ContactEmailRow[]>> {
  const map = new Map<string, ContactEmailRow[]>();
  if (contactIds.length) for (const r of await pageEmailsQuery(db, JSON.stringify(contactIds))) addEmail(map, accountId, r);
  return sortEmails(map);
}

/** Each contact's emails primary first, then by address (the order SQLite's primary-key walk gave). */
function sortEmails(map: Map<string, ContactEmailRow[]>): Map<string, ContactEmailRow[]> {
  for (const list of map.values()) if (list.length > 1) list.sort((a, b) => b.is_primary - a.is_primary || (a.email_key < b.email_key ? -1 : a.email_key > b.email_key ? 1 : 0));
  return map;
}

/**
 * A contact's emails as one JSON column of a select of `contacts` (PostgreSQL): `[[account_id, email_key,
 * email, is_primary, bounced_at, bounce_reason], ...]` or null, read back by `emailsFromColumn`. A list reads
 * its contacts' emails in its own statement this way instead of a second one (see listContacts).
 */
export const CONTACT_EMAILS_JSON = sql<ContactEmailsJson>`(select json_agg(json_build_array(${sql.ref('e.account_id')}, ${sql.ref('e.email_key')}, ${sql.ref('e.email')}, ${sql.ref('e.is_primary')}, ${sql.ref('e.bounced_at')}, ${sql.ref('e.bounce_reason')})) from ${sql.table('contact_emails')} as ${sql.id('e')} where ${sql.ref('e.contact_id')} = ${sql.ref('contacts.id')})`;
type ContactEmailsJson = Array<[string, string, string, number, number | null, string | null]> | null;

/** The emails of contacts read with CONTACT_EMAILS_JSON (column `emails_json`), as `emailsOf` gives them. */
export function emailsFromColumn(accountId: string, rows: ReadonlyArray<{ id: string; emails_json: ContactEmailsJson | string }>): Map<string, ContactEmailRow[]> {
  const map = new Map<string, ContactEmailRow[]>();
  for (const r of rows) {
    const list = typeof r.emails_json === 'string' ? (JSON.parse(r.emails_json) as ContactEmailsJson) : r.emails_json;
    for (const [account_id, email_key, email, is_primary, bounced_at, bounce_reason] of list ?? []) {
      addEmail(map, accountId, { account_id, email_key, email, contact_id: r.id, is_primary: Number(is_primary), bounced_at: bounced_at === null ? null : Number(bounced_at), bounce_reason });
    }
  }
  return sortEmails(map);
}

async function companyNames(db: Executor, accountId: string, companyIds: readonly string[]): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  for (const part of chunks([...new Set(companyIds)])) {
    if (!part.length) continue;
    const rows = await db.selectFrom('companies').select(['id', 'name']).where('account_id', '=', accountId).where('id', 'in', part).execute();
    for (const r of rows) map.set(r.id, r.name);
  }
  return map;
}

/** The stored search text and sort key of a contact, from its names, emails and company name. */
export function contactDerived(c: { firstName: string; lastName: string; emails: readonly NormalEmail[]; companyName: string | null }) {
  return {
    search_text: contactSearchText({ firstName: c.firstName, lastName: c.lastName, emails: c.emails, companyName: c.companyName }),
    sort_name: contactSortName({ firstName: c.firstName, lastName: c.lastName, primaryEmail: c.emails[0]?.email ?? null }),
  };
}

/** Recomputes the search text and sort key of contacts after their names, emails or company changed. */
export async function refreshContactSearch(db: Executor, accountId: string, contactIds: readonly string[]): Promise<void> {
  for (const part of chunks([...new Set(contactIds)])) {
    if (!part.length) continue;
    const rows = await db.selectFrom('contacts').select(['id', 'first_name', 'last_name', 'company_id']).where('account_id', '=', accountId).where('id', 'in', part).execute();
    const emails = await emailsOf(db, accountId, part);
    const names = await companyNames(db, accountId, rows.flatMap((r) => (r.company_id ? [r.company_id] : [])));
    for (const r of rows) {
      const derived = contactDerived({
        firstName: r.first_name,
        lastName: r.last_name,
        emails: (emails.get(r.id) ?? []).map((e) => ({ email: e.email, key: e.email_key })),
        companyName: r.company_id ? (names.get(r.company_id) ?? null) : null,
      });
      await db.updateTable('contacts').set(derived).where('id', '=', r.id).execute();
    }
  }
}

/** Updates the stored name key and search text of a company. */
export async function refreshCompanySearch(db: Executor, company: { id: string; name: string }, domains: readonly string[]): Promise<void> {
  await db.updateTable('companies').set({ name_key: foldText(company.name), search_text: companySearchText({ name: company.name, domains }) }).where('id', '=', company.id).execute();
}

/** A company name, trimmed and checked. */
export function cleanCompanyName(value: string | undefined): string {
  const v = (value ?? '').replace(/\s+/g, ' ').trim();
  if (!v) throw invalidRequest('A company needs a name.', { field: 'name' });
  if (v.length > MAX_COMPANY_NAME_LENGTH) throw invalidRequest(`The company name is longer than ${MAX_COMPANY_NAME_LENGTH} characters.`, { field: 'name' });
  return v;
}

/** Company domains made comparable (see `normaliseDomain`), repeats dropped; free mail domains refused. */
export function normaliseCompanyDomains(inputs: readonly string[]): string[] {
  const out: string[] = [];
  for (const input of inputs) {
    const r = normaliseDomain(input);
    if (!r.ok) throw invalidRequest(r.message, { field: 'domains', domain: input });
    if (isFreemailDomain(r.domain)) {
      throw new AppError('freemail_domain', 400, `${r.domain} is a free mail provider: people of many companies use it, so it cannot be a company's domain. Enter the company's own domain.`, {
        field: 'domains',
        domain: r.domain,
      });
    }
    if (!out.includes(r.domain)) out.push(r.domain);
  }
  if (out.length > MAX_DOMAINS_PER_COMPANY) throw invalidRequest(`A company can have at most ${MAX_DOMAINS_PER_COMPANY} domains.`, { field: 'domains' });
  return out;
}

/** Refuses (409 company_domain_taken, naming the holder) when a domain already belongs to another company. */
export async function assertDomainsFree(db: Executor, accountId: string, domains: readonly string[], exceptCompanyId?: string): Promise<void> {
  if (!domains.length) return;
  let q = db
    .selectFrom('company_domains')
    .innerJoin('companies', 'companies.id', 'company_domains.company_id')
    .select(['company_domains.domain', 'companies.id', 'companies.name'])
    .where('company_domains.account_id', '=', accountId)
    .where('company_domains.domain', 'in', [...domains]);
  if (exceptCompanyId) q = q.where('company_domains.company_id', '!=', exceptCompanyId);
  const taken = await q.executeTakeFirst();
  if (taken) {
    throw new AppError('company_domain_taken', 409, `${taken.domain} already belongs to the company ${taken.name}. A domain can belong to one company only: remove it there first.`, {
      field: 'domains',
      domain: taken.domain,
      companyId: taken.id,
      companyName: taken.name,
    });
  }
}

const iso = (ms: number | null) => (ms === null ? null : isoTime(ms));

/** What a contact's API shape reads of its row (lists leave out the long search text). */
export type ContactViewRow = Omit<ContactRow, 'search_text'>;
/** The contact columns of `ContactViewRow`. */
export const CONTACT_VIEW_COLUMNS = ['id', 'account_id', 'first_name', 'last_name', 'owner_id', 'company_id', 'source', 'created_at', 'updated_at', 'sort_name', 'time_zone'] as const satisfies ReadonlyArray<keyof ContactViewRow>;

/** The public shape of a contact in the API. */
export function contactView(c: ContactViewRow, emails: readonly ContactEmailRow[], company: { id: string; name: string } | null) {
  const primary = emails.find((e) => e.is_primary === 1) ?? emails[0] ?? null;
  return {
    id: c.id,
    firstName: c.first_name,
    lastName: c.last_name,
    name: contactDisplayName({ firstName: c.first_name, lastName: c.last_name, primaryEmail: primary?.email ?? null }),
    primaryEmail: primary?.email ?? null,
    emails: emails.map((e) => ({ email: e.email, primary: e === primary, bouncedAt: iso(e.bounced_at), bounceReason: e.bounce_reason })),
    ownerId: c.owner_id,
    companyId: c.company_id,
    company,
    source: c.source,
    timeZone: c.time_zone ?? null,
    createdAt: isoTime(c.created_at),
    updatedAt: isoTime(c.updated_at),
  };
}
export type ContactView = ReturnType<typeof contactView>;

/** Views of several contacts, loading their emails (unless given: `emailsFromColumn`) and companies in a few queries. */
export async function contactViews(db: Executor, accountId: string, rows: readonly ContactViewRow[], loaded?: Map<string, ContactEmailRow[]>): Promise<ContactView[]> {
  const emails =
    loaded ??
    (await emailsOf(
      db,
      accountId,
      rows.map((r) => r.id),
    ));
  const names = await companyNames(db, accountId, rows.flatMap((r) => (r.company_id ? [r.company_id] : [])));
  return rows.map((r) => contactView(r, emails.get(r.id) ?? [], r.company_id && names.has(r.company_id) ? { id: r.company_id, name: names.get(r.company_id)! } : null));
}

export async function contactViewById(db: Executor, accountId: string, contactId: string): Promise<ContactView> {
  const row = await loadContact(db, accountId, contactId);
  const [view] = await contactViews(db, accountId, [row]);
  return view!;
}

/** The public shape of a company in the API. */
export function companyView(c: CompanyRow, domains: readonly string[], contactsCount: number) {
  return {
    id: c.id,
    name: c.name,
    domains: [...domains].sort(),
    contactsCount,
    createdAt: new Date(c.created_at).toISOString(),
    updatedAt: new Date(c.updated_at).toISOString(),
  };
}
export type CompanyView = ReturnType<typeof companyView>;

/** Views of several companies with their domains and contact counts. */
export async function companyViews(db: Executor, accountId: string, rows: readonly CompanyRow[]): Promise<CompanyView[]> {
  const ids = rows.map((r) => r.id);
  const domains = new Map<string, string[]>();
  const counts = new Map<string, number>();
  for (const part of chunks(ids)) {
    if (!part.length) continue;
    const ds = await db.selectFrom('company_domains').select(['company_id', 'domain']).where('account_id', '=', accountId).where('company_id', 'in', part).execute();
    for (const d of ds) domains.set(d.company_id, [...(domains.get(d.company_id) ?? []), d.domain]);
    const cs = await db
      .selectFrom('contacts')
      .select(['company_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('account_id', '=', accountId)
      .where('company_id', 'in', part)
      .groupBy('company_id')
      .execute();
    for (const c of cs) counts.set(c.company_id!, Number(c.n));
  }
  return rows.map((r) => companyView(r, domains.get(r.id) ?? [], counts.get(r.id) ?? 0));
}

export async function companyViewById(db: Executor, accountId: string, companyId: string): Promise<CompanyView> {
  const row = await loadCompany(db, accountId, companyId);
  const [view] = await companyViews(db, accountId, [row]);
  return view!;
}
