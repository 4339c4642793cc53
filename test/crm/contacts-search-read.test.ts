/**
 * The contacts search on PostgreSQL reads each contact's emails and company name in the search statement
 * (src/features/crm/commands/listContacts.ts); SQLite reads them in further queries (contactViews). Both
 * reads of the same contacts (several emails, primary or not, bounced, addresses whose order differs between
 * code units and a collation, companies, one of another account) give the same pages. Runs in the
 * PostgreSQL pass of the suite (on SQLite there is only the one read).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listContacts } from '../../src/features/crm/commands/listContacts.js';
import type { Actor } from '../../src/platform/context.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { usingPostgres } from '../support/db.js';

describe.runIf(usingPostgres)('contacts search read on PostgreSQL', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers as the read through contactViews does', async () => {
    const a = await t.account('enterprise');
    const other = await t.account('enterprise');
    const post = async (token: string, url: string, body: unknown) => {
      const r = await t.api(token, 'POST', url, body);
      expect(r.statusCode, r.body).toBe(201);
      return r.json();
    };
    const acme = await post(a.token, '/api/v1/companies', { name: 'Acme Tools', domains: ['acme.test'] });
    const foreign = await post(other.token, '/api/v1/companies', { name: 'Foreign' });
    await post(a.token, '/api/v1/contacts', { firstName: 'Ada', lastName: 'Byron', emails: ['ab@acme.test', 'a.b@acme.test', 'A_b@home.test', 'a-b@home.test'] });
    await post(a.token, '/api/v1/contacts', { firstName: 'Ben', lastName: 'Okafor', emails: ['ben@client.test'], companyId: acme.id });
    await post(a.token, '/api/v1/contacts', { firstName: 'Cleo', lastName: '', emails: [] });
    await post(a.token, '/api/v1/contacts', { firstName: 'Dmitri', lastName: 'Novak', emails: ['dn@acme.test', 'dmitri@novak.test'] });
    for (let i = 0; i < 6; i++) await post(a.token, '/api/v1/contacts', { firstName: `Eve${i}`, lastName: 'Ab', emails: [`eve${i}@x${i % 2}.test`] });
    await post(other.token, '/api/v1/contacts', { firstName: 'Ada', lastName: 'Elsewhere', emails: ['ab@acme.test'], companyId: foreign.id });
    // A bounced address; a contact of this account put in the other account's company (as a stale row might be).
    await t.database.db.updateTable('contact_emails').set({ bounced_at: 1_700_000_000_123, bounce_reason: '550 "no such user" \\ gone' }).where('account_id', '=', a.accountId).where('email_key', '=', 'dn@acme.test').execute();
    const stray = await post(a.token, '/api/v1/contacts', { firstName: 'Stray', lastName: 'Ab', emails: ['stray@acme.test'] });
    await t.database.db.updateTable('contacts').set({ company_id: foreign.id }).where('id', '=', stray.id).execute();

    const admin = await t.database.db.selectFrom('users').selectAll().where('id', '=', a.adminUserId).executeTakeFirstOrThrow();
    const actor: Actor = { user: admin, accountId: a.accountId, plan: 'enterprise' };
    // Words under three characters: the other read then has no SQLite trigram table to ask.
    const queries = [{}, { q: 'ab' }, { q: 'ab', limit: 3 }, { sort: 'newest' as const, limit: 4 }, { companyId: acme.id }, { q: 'a' }, { q: 'zz' }];
    let compared = 0;
    for (const query of queries) {
      let cursor: string | undefined;
      do {
        const one = await listContacts(t.env, actor, { ...query, ...(cursor ? { cursor } : {}) });
        const other = await listContacts({ ...t.env, dialect: 'sqlite' }, actor, { ...query, ...(cursor ? { cursor } : {}) });
        expect(one).toEqual(other);
        expect(JSON.stringify(one)).toBe(JSON.stringify(other));
        compared += one.contacts.length;
        cursor = one.nextCursor ?? undefined;
      } while (cursor);
    }
    expect(compared).toBeGreaterThan(20);
    const ada = (await listContacts(t.env, actor, { q: 'ad' })).contacts[0]!;
    expect(ada.emails.map((e) => e.email)).toEqual(['ab@acme.test', 'a-b@home.test', 'a.b@acme.test', 'A_b@home.test']);
    const ben = (await listContacts(t.env, actor, { q: 'be' })).contacts[0]!;
    expect(ben.company).toEqual({ id: acme.id, name: 'Acme Tools' });
    const strayView = (await listContacts(t.env, actor, { q: 'st' })).contacts[0]!;
    expect(strayView.company).toBeNull();
  });
});
