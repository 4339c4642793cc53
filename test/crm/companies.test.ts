import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { addUser, auditOf } from './helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('companies', () => {
  it('creates, reads, renames and deletes companies; domains are normalised and counted contacts shown', async () => {
    const a = await t.account();
    const r = await t.api(a.token, 'POST', '/api/v1/companies', { name: '  Acme   Corp ', domains: ['https://www.ACME.test/about', '@acme-corp.test', 'acme.test'] });
    expect(r.statusCode).toBe(201);
    const acme = r.json();
    expect(acme).toMatchObject({ name: 'Acme Corp', domains: ['acme-corp.test', 'acme.test'], contactsCount: 0 });
    expect(acme.id).toMatch(/^cmp_/);

    await t.api(a.token, 'POST', '/api/v1/contacts', { name: 'Ann', emails: ['ann@acme.test'] });
    await t.api(a.token, 'POST', '/api/v1/contacts', { name: 'Bob', emails: ['bob@acme-corp.test'] });
    const got = (await t.api(a.token, 'GET', `/api/v1/companies/${acme.id}`)).json();
    expect(got.contactsCount).toBe(2);

    const renamed = await t.api(a.token, 'PATCH', `/api/v1/companies/${acme.id}`, { name: 'Acme Inc', domains: ['acme.test', 'acme.example'] });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json()).toMatchObject({ name: 'Acme Inc', domains: ['acme.example', 'acme.test'], contactsCount: 2 });
    // acme-corp.test is free again.
    expect((await t.api(a.token, 'POST', '/api/v1/companies', { name: 'Other', domains: ['acme-corp.test'] })).statusCode).toBe(201);

    const list = (await t.api(a.token, 'GET', '/api/v1/companies')).json();
    expect(list.companies.map((c: { name: string }) => c.name)).toEqual(['Acme Inc', 'Other']);
    expect((await t.api(a.token, 'GET', '/api/v1/companies?q=example')).json().companies.map((c: { name: string }) => c.name)).toEqual(['Acme Inc']);

    const member = await addUser(t, a.token);
    expect((await t.api(member.token, 'DELETE', `/api/v1/companies/${acme.id}`)).statusCode).toBe(403);
    expect((await t.api(a.token, 'DELETE', `/api/v1/companies/${acme.id}`)).statusCode).toBe(204);
    expect((await t.api(a.token, 'GET', `/api/v1/companies/${acme.id}`)).statusCode).toBe(404);
    const contacts = (await t.api(a.token, 'GET', '/api/v1/contacts')).json().contacts;
    expect(contacts.map((c: { name: string; companyId: string | null }) => [c.name, c.companyId])).toEqual([
      ['Ann', null],
      ['Bob', null],
    ]);
    // The contacts are no longer found by the deleted company's name.
    expect((await t.api(a.token, 'GET', '/api/v1/contacts?q=acme%20inc')).json().contacts).toEqual([]);

    expect((await auditOf(t, a.accountId, 'company.created')).map((e) => e.data.name)).toEqual(['Acme Corp', 'Other']);
    expect((await auditOf(t, a.accountId, 'company.updated'))[0]!.data).toMatchObject({ changed: ['name', 'domains'], domainsAdded: ['acme.example'], domainsRemoved: ['acme-corp.test'] });
    expect((await auditOf(t, a.accountId, 'company.deleted'))[0]!.data).toMatchObject({ contactsUnlinked: 2 });
  });

  it('keeps domains unique per account (409 naming the holder) and refuses free mail domains', async () => {
    const a = await t.account();
    const acme = (await t.api(a.token, 'POST', '/api/v1/companies', { name: 'Acme', domains: ['acme.test'] })).json();
    const dup = await t.api(a.token, 'POST', '/api/v1/companies', { name: 'Copycat', domains: ['ACME.test'] });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error).toMatchObject({ code: 'company_domain_taken', details: { domain: 'acme.test', companyId: acme.id, companyName: 'Acme' } });
    const other = (await t.api(a.token, 'POST', '/api/v1/companies', { name: 'Other' })).json();
    const patch = await t.api(a.token, 'PATCH', `/api/v1/companies/${other.id}`, { domains: ['www.acme.test'] });
    expect(patch.statusCode).toBe(409);
    expect(patch.json().error.details.companyId).toBe(acme.id);

    const free = await t.api(a.token, 'POST', '/api/v1/companies', { name: 'Google?', domains: ['gmail.com'] });
    expect(free.statusCode).toBe(400);
    expect(free.json().error).toMatchObject({ code: 'freemail_domain', details: { domain: 'gmail.com' } });
    const bad = await t.api(a.token, 'POST', '/api/v1/companies', { name: 'Bad', domains: ['not a domain'] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.field).toBe('domains');
    expect((await t.api(a.token, 'POST', '/api/v1/companies', { name: '   ' })).statusCode).toBe(400);

    // Another account can use the same domain.
    const b = await t.account();
    expect((await t.api(b.token, 'POST', '/api/v1/companies', { name: 'Acme', domains: ['acme.test'] })).statusCode).toBe(201);
  });

  it('links existing contacts without a company when a company gets their domain', async () => {
    const a = await t.account();
    const ann = (await t.api(a.token, 'POST', '/api/v1/contacts', { name: 'Ann Lee', emails: ['ann@initech.test'] })).json();
    const sub = (await t.api(a.token, 'POST', '/api/v1/contacts', { name: 'Sue Sub', emails: ['sue@eu.initech.test'] })).json();
    const gmail = (await t.api(a.token, 'POST', '/api/v1/contacts', { name: 'Gus', emails: ['gus@gmail.com'] })).json();
    const taken = (await t.api(a.token, 'POST', '/api/v1/companies', { name: 'Taken' })).json();
    const already = (await t.api(a.token, 'POST', '/api/v1/contacts', { name: 'Al', emails: ['al@initech.test'], companyId: taken.id })).json();
    const notinitech = (await t.api(a.token, 'POST', '/api/v1/contacts', { name: 'Nina', emails: ['nina@notinitech.test'] })).json();

    const co = (await t.api(a.token, 'POST', '/api/v1/companies', { name: 'Initrode Global', domains: ['initech.test'] })).json();
    expect(co.contactsCount).toBe(2);
    const companyOf = async (id: string) => (await t.api(a.token, 'GET', `/api/v1/contacts/${id}`)).json().companyId;
    expect(await companyOf(ann.id)).toBe(co.id);
    expect(await companyOf(sub.id)).toBe(co.id);
    expect(await companyOf(gmail.id)).toBeNull();
    expect(await companyOf(already.id)).toBe(taken.id);
    expect(await companyOf(notinitech.id)).toBeNull();
    // The linked contacts are found by the company's name.
    expect((await t.api(a.token, 'GET', '/api/v1/contacts?q=global')).json().contacts.map((c: { name: string }) => c.name)).toEqual(['Ann Lee', 'Sue Sub']);

    const later = (await t.api(a.token, 'POST', '/api/v1/companies', { name: 'NotInitech' })).json();
    const patched = (await t.api(a.token, 'PATCH', `/api/v1/companies/${later.id}`, { domains: ['notinitech.test'] })).json();
    expect(patched.contactsCount).toBe(1);
    expect(await companyOf(notinitech.id)).toBe(later.id);
    expect((await auditOf(t, a.accountId, 'company.created')).find((e) => e.target_id === co.id)!.data.contactsLinked).toBe(2);
  });

  it('pages companies by name', async () => {
    const a = await t.account();
    for (const n of ['delta', 'Alpha', 'charlie', 'Bravo', 'Écho']) await t.api(a.token, 'POST', '/api/v1/companies', { name: n });
    const names: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { companies: Array<{ name: string }>; nextCursor: string | null } = (
        await t.api(a.token, 'GET', `/api/v1/companies?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
      ).json();
      names.push(...page.companies.map((c) => c.name));
      cursor = page.nextCursor;
    } while (cursor);
    expect(names).toEqual(['Alpha', 'Bravo', 'charlie', 'delta', 'Écho']);
    expect((await t.api(a.token, 'GET', '/api/v1/companies?cursor=xyz')).json().error.code).toBe('invalid_cursor');
  });
});
