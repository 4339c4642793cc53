import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('tenant isolation of the CRM', () => {
  it('answers 404 (never 403, never data) for every contact and company route called with another account’s ids', async () => {
    const a = await t.account();
    const b = await t.account();
    const company = (await t.api(a.token, 'POST', '/api/v1/companies', { name: 'Secret Co', domains: ['secret.test'] })).json();
    const contact = (await t.api(a.token, 'POST', '/api/v1/contacts', { name: 'Secret Person', emails: ['secret@secret.test'] })).json();
    expect(contact.companyId).toBe(company.id);

    const calls: Array<[string, string, unknown?]> = [
      ['GET', `/api/v1/contacts/${contact.id}`],
      ['PATCH', `/api/v1/contacts/${contact.id}`, { firstName: 'Hacked' }],
      ['DELETE', `/api/v1/contacts/${contact.id}`],
      ['GET', `/api/v1/contacts/${contact.id}/timeline`],
      ['POST', `/api/v1/contacts/${contact.id}/notes`, { text: 'hi' }],
      ['GET', `/api/v1/companies/${company.id}`],
      ['PATCH', `/api/v1/companies/${company.id}`, { name: 'Hacked' }],
      ['DELETE', `/api/v1/companies/${company.id}`],
      // Foreign ids inside bodies too.
      ['POST', '/api/v1/contacts', { name: 'Mine', companyId: company.id }],
      ['POST', '/api/v1/contacts', { name: 'Mine', ownerId: a.adminUserId }],
    ];
    for (const [method, url, body] of calls) {
      const r = await t.api(b.token, method, url, body);
      expect([method, url, r.statusCode]).toEqual([method, url, 404]);
      expect(r.json().error.code).toBe('not_found');
      expect(r.body).not.toContain('Secret');
    }
    const mine = (await t.api(b.token, 'POST', '/api/v1/contacts', { name: 'Mine' })).json();
    const patch = await t.api(b.token, 'PATCH', `/api/v1/contacts/${mine.id}`, { companyId: company.id });
    expect(patch.statusCode).toBe(404);
    expect((await t.api(b.token, 'PATCH', `/api/v1/contacts/${mine.id}`, { ownerId: a.adminUserId })).statusCode).toBe(404);

    // Lists, search, filters and domain matching never see the other account.
    expect((await t.api(b.token, 'GET', '/api/v1/contacts?q=secret')).json().contacts).toEqual([]);
    expect((await t.api(b.token, 'GET', `/api/v1/contacts?companyId=${company.id}`)).json().contacts).toEqual([]);
    expect((await t.api(b.token, 'GET', `/api/v1/contacts?ownerId=${a.adminUserId}`)).json().contacts).toEqual([]);
    expect((await t.api(b.token, 'GET', '/api/v1/companies?q=secret')).json().companies).toEqual([]);
    const sameDomain = (await t.api(b.token, 'POST', '/api/v1/contacts', { name: 'Other', emails: ['other@secret.test'] })).json();
    expect(sameDomain.companyId).toBeNull();
    // A's data is untouched.
    expect((await t.api(a.token, 'GET', `/api/v1/contacts/${contact.id}`)).json()).toMatchObject({ firstName: 'Secret', companyId: company.id });
    expect((await t.api(a.token, 'GET', `/api/v1/companies/${company.id}`)).json()).toMatchObject({ name: 'Secret Co', contactsCount: 1 });
  });
});
