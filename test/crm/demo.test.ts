import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { demoCrm } from '../../src/features/crm/demo.js';
import { actorOf, addUser } from './helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

it('seeds demo companies and contacts, matched by domain and by name', async () => {
  const a = await t.account();
  const alex = await addUser(t, a.token, { email: 'alex@demo.mailroom.local' });
  await addUser(t, a.token, { email: 'bea@demo.mailroom.local' });
  await demoCrm(t.env, await actorOf(t, a.adminUserId));
  const companies = (await t.api(a.token, 'GET', '/api/v1/companies')).json().companies;
  expect(companies.map((c: { name: string; contactsCount: number }) => [c.name, c.contactsCount])).toEqual([
    ['Acme Corporation', 2],
    ['Globex', 2],
    ['Initech', 2],
  ]);
  const contacts = (await t.api(a.token, 'GET', '/api/v1/contacts')).json().contacts;
  expect(contacts).toHaveLength(7);
  expect(contacts.find((c: { lastName: string }) => c.lastName === 'Doe').companyId).toBeNull();
  expect(contacts.find((c: { lastName: string }) => c.lastName === 'Coyote').ownerId).toBe(alex.userId);
});
