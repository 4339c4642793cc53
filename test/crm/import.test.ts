import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { formatImportReport, importContacts, importContactsFromFile } from '../../src/features/crm/commands/importContacts.js';
import { actorOf, addUser, auditOf } from './helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

const countContacts = async (accountId: string) =>
  Number((await t.env.db.selectFrom('contacts').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', accountId).executeTakeFirstOrThrow()).n);

describe('CSV import', () => {
  it('imports a messy file and reports every problem row by row', async () => {
    const a = await t.account();
    const member = await addUser(t, a.token, { name: 'Mia Member' });
    const gone = await addUser(t, a.token, { name: 'Dee Activated' });
    await t.api(a.token, 'POST', `/api/v1/users/${gone.userId}/deactivate`);
    const existing = (await t.api(a.token, 'POST', '/api/v1/contacts', { lastName: 'Known', emails: ['existing@acme.test'], ownerId: null })).json();
    const same = (await t.api(a.token, 'POST', '/api/v1/contacts', { firstName: 'Same', emails: ['same@acme.test'] })).json();

    const csv = [
      '\uFEFFE-mail,First Name,Last Name,Company,Owner Email,Phone',
      `ann@acme.test,Ann,Lee,"Acme, Inc.",${member.email.toUpperCase()},555-1234`,
      'bob@example.com,"Bob ""Bobby""",Jones,,,',
      'not-an-email,Carl,,,,',
      'dora@globex.test,Dora,,Globex,nobody@example.com,',
      'ANN@acme.test,Ann,Duplicate,,,',
      ',No,Email,,,',
      '',
      'eve@acme.test,"Eve, Second",,"acme, inc.",,',
      'existing@acme.test,Filled,,,,',
      'same@acme.test,,,,,',
      `fay@acme.test,Fay,,,${gone.email},`,
      '"gil@acme.test","Gil","Multi',
      'Line",,,',
    ].join('\r\n');

    const dry = await t.api(a.token, 'POST', '/api/v1/contacts/import', { csv, dryRun: true });
    expect(dry.statusCode).toBe(200);
    const expectedSummary = { created: 4, updated: 1, skipped: 1, failed: 5 };
    expect(dry.json()).toMatchObject({ dryRun: true, totalRows: 11, summary: expectedSummary, companiesCreated: 1 });
    expect(await countContacts(a.accountId)).toBe(2);
    expect(await auditOf(t, a.accountId, 'contacts.imported')).toEqual([]);

    const res = await t.api(a.token, 'POST', '/api/v1/contacts/import', { csv });
    expect(res.statusCode).toBe(200);
    const report = res.json();
    expect(report).toMatchObject({
      dryRun: false,
      totalRows: 11,
      columns: { email: 'E-mail', firstName: 'First Name', lastName: 'Last Name', company: 'Company', ownerEmail: 'Owner Email' },
      ignoredColumns: ['Phone'],
      summary: expectedSummary,
      companiesCreated: 1,
    });
    expect(report.errors).toEqual([
      { row: 4, field: 'email', code: 'invalid_email', message: expect.stringContaining('not-an-email') },
      {
        row: 5,
        field: 'ownerEmail',
        code: 'unknown_owner',
        message: 'No user of this account has the email nobody@example.com. Use the email of an active user, or leave the owner empty.',
      },
      {
        row: 6,
        field: 'email',
        code: 'duplicate_in_file',
        message: 'ann@acme.test is also on row 2; only the first row with an email is imported. Merge the two rows and import again.',
      },
      { row: 7, field: 'email', code: 'missing_email', message: 'This row has no email address. Every imported contact needs one.' },
      {
        row: 12,
        field: 'ownerEmail',
        code: 'owner_not_active',
        message: `Dee Activated (${gone.email}) is deactivated and cannot own contacts. Use the email of an active user.`,
      },
    ]);

    const list = (await t.api(a.token, 'GET', '/api/v1/contacts?limit=50')).json().contacts as Array<Record<string, any>>;
    const by = (email: string) => list.find((c) => c.primaryEmail === email)!;
    const acmeId = by('ann@acme.test').companyId;
    expect(by('ann@acme.test')).toMatchObject({ firstName: 'Ann', lastName: 'Lee', ownerId: member.userId, company: { name: 'Acme, Inc.' }, source: 'import' });
    expect(by('bob@example.com')).toMatchObject({ firstName: 'Bob "Bobby"', lastName: 'Jones', ownerId: a.adminUserId, companyId: null });
    expect(by('eve@acme.test')).toMatchObject({ firstName: 'Eve, Second', companyId: acmeId });
    expect(by('gil@acme.test')).toMatchObject({ firstName: 'Gil', lastName: 'Multi Line' });
    expect(by('existing@acme.test')).toMatchObject({ id: existing.id, firstName: 'Filled', lastName: 'Known', source: 'manual', ownerId: null });
    expect(by('same@acme.test')).toMatchObject({ id: same.id, firstName: 'Same' });
    expect(list.find((c) => c.primaryEmail === 'dora@globex.test')).toBeUndefined();
    expect((await t.api(a.token, 'GET', '/api/v1/companies')).json().companies.map((c: { name: string; contactsCount: number }) => [c.name, c.contactsCount])).toEqual([['Acme, Inc.', 2]]);
    // Imported contacts are searchable and have their creation on the timeline.
    expect((await t.api(a.token, 'GET', '/api/v1/contacts?q=bobby')).json().contacts).toHaveLength(1);
    const tl = (await t.api(a.token, 'GET', `/api/v1/contacts/${by('ann@acme.test').id}/timeline`)).json();
    expect(tl.events).toMatchObject([{ kind: 'contact_created', data: { source: 'import' }, actorUserId: a.adminUserId }]);

    const audits = await auditOf(t, a.accountId, 'contacts.imported');
    expect(audits).toHaveLength(1);
    expect(audits[0]!.data).toMatchObject({ importId: report.importId, rows: 11, ...expectedSummary, companiesCreated: 1, complete: true });
    expect(await auditOf(t, a.accountId, 'contact.created')).toHaveLength(2); // the two made by hand; none per imported row

    // The same file again changes nothing.
    const again = (await t.api(a.token, 'POST', '/api/v1/contacts/import', { csv })).json();
    expect(again.summary).toEqual({ created: 0, updated: 0, skipped: 6, failed: 5 });
    expect(again.companiesCreated).toBe(0);
    expect(await countContacts(a.accountId)).toBe(6);
  });

  it('reads semicolon files with a name column and other emails; updates add emails and fill only empty fields', async () => {
    const a = await t.account();
    const globex = (await t.api(a.token, 'POST', '/api/v1/companies', { name: 'Globex', domains: ['globex.test'] })).json();
    const old = (await t.api(a.token, 'POST', '/api/v1/contacts', { firstName: 'Hank', lastName: 'Old', emails: ['hank@globex.test'] })).json();
    const other = (await t.api(a.token, 'POST', '/api/v1/contacts', { firstName: 'Ida', emails: ['ida@elsewhere.test'] })).json();
    const csv = 'Full Name;EMAIL;Other Emails;Organization\n' + 'Lee, Ann;ann@globex.test;a.lee@gmail.com, ann2@globex.test;\n' + 'Hank New;HANK@globex.test;hank@gmail.com;Ignored Co\n' + 'Ida Two;ida2@elsewhere.test;hank@gmail.com ida@elsewhere.test;\n' + 'Jo;jo@gmail.com;;\n';
    const r = await importContacts(t.env, await actorOf(t, a.adminUserId), { csv });
    expect(r.columns).toEqual({ name: 'Full Name', email: 'EMAIL', otherEmails: 'Other Emails', company: 'Organization' });
    expect(r.summary).toEqual({ created: 2, updated: 1, skipped: 0, failed: 1 });
    expect(r.errors).toEqual([{ row: 4, field: 'otherEmails', code: 'duplicate_in_file', message: expect.stringContaining('hank@gmail.com is also on row 3') }]);
    const ann = (await t.api(a.token, 'GET', '/api/v1/contacts?q=ann')).json().contacts[0];
    expect(ann).toMatchObject({ firstName: 'Ann', lastName: 'Lee', companyId: globex.id, emails: [{ email: 'ann@globex.test', primary: true }, { email: 'a.lee@gmail.com' }, { email: 'ann2@globex.test' }] });
    const hank = (await t.api(a.token, 'GET', `/api/v1/contacts/${old.id}`)).json();
    expect(hank).toMatchObject({ firstName: 'Hank', lastName: 'Old', companyId: globex.id, primaryEmail: 'hank@globex.test' });
    expect(hank.emails.map((e: { email: string }) => e.email)).toEqual(['hank@globex.test', 'hank@gmail.com']);
    expect((await t.api(a.token, 'GET', '/api/v1/companies?q=ignored')).json().companies).toEqual([]);
    const jo = (await t.api(a.token, 'GET', '/api/v1/contacts?q=jo@gmail')).json().contacts[0];
    expect(jo).toMatchObject({ firstName: 'Jo', companyId: null });

    // A row whose emails belong to two different contacts fails.
    const clash = await importContacts(t.env, await actorOf(t, a.adminUserId), { csv: 'email,other emails\nida@elsewhere.test,hank@globex.test\n' });
    expect(clash.summary).toEqual({ created: 0, updated: 0, skipped: 0, failed: 1 });
    expect(clash.errors).toEqual([{ row: 2, field: 'otherEmails', code: 'contact_email_taken', message: expect.stringContaining('two different contacts') }]);
    expect((await t.api(a.token, 'GET', `/api/v1/contacts/${other.id}`)).json().emails).toHaveLength(1);
  });

  it('writes in batches with one audit event kept up to date, and gives the same result', async () => {
    const a = await t.account();
    const rows = Array.from({ length: 7 }, (_, i) => `p${i}@batch.test,Person ${i},Same Co`);
    const csv = ['email,name,company', ...rows, 'bad,Bad,'].join('\n');
    const actor = await actorOf(t, a.adminUserId);
    const dry = await importContacts(t.env, actor, { csv, dryRun: true }, { batchSize: 3 });
    const r = await importContacts(t.env, actor, { csv }, { batchSize: 3 });
    expect(r.summary).toEqual({ created: 7, updated: 0, skipped: 0, failed: 1 });
    expect(dry.summary).toEqual(r.summary);
    expect(r.companiesCreated).toBe(1);
    expect(dry.companiesCreated).toBe(1);
    const audits = await auditOf(t, a.accountId, 'contacts.imported');
    expect(audits).toHaveLength(1);
    expect(audits[0]!.data).toMatchObject({ created: 7, failed: 1, batches: 3, complete: true, companiesCreated: 1 });
    expect((await t.api(a.token, 'GET', '/api/v1/companies')).json().companies).toMatchObject([{ name: 'Same Co', contactsCount: 7 }]);
  });

  it('refuses files over the plan limit, without an email column, or unreadable; view-only users cannot import', async () => {
    const a = await t.account('free');
    const big = ['email', ...Array.from({ length: 1001 }, (_, i) => `x${i}@big.test`)].join('\n');
    const over = await t.api(a.token, 'POST', '/api/v1/contacts/import', { csv: big });
    expect(over.statusCode).toBe(409);
    expect(over.json().error).toMatchObject({ code: 'plan_limit_reached', details: { limit: { name: 'contactImportRows', max: 1000, plan: 'free' }, rows: 1001 } });
    expect(over.json().error.message).toContain('Starter');
    expect(await countContacts(a.accountId)).toBe(0);

    const noEmail = await t.api(a.token, 'POST', '/api/v1/contacts/import', { csv: 'name,company\nAnn,Acme\n' });
    expect(noEmail.statusCode).toBe(400);
    expect(noEmail.json().error.code).toBe('csv_no_email_column');
    const broken = await t.api(a.token, 'POST', '/api/v1/contacts/import', { csv: 'email,name\na@b.test,"unclosed\n' });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().error.code).toBe('csv_invalid');
    const missing = await t.api(a.token, 'POST', '/api/v1/contacts/import', {});
    expect(missing.statusCode).toBe(400);

    const viewer = await addUser(t, a.token, { seat: 'free' });
    await t.api(a.token, 'PATCH', `/api/v1/users/${viewer.userId}`, { seat: 'view_only' });
    expect((await t.api(viewer.token, 'POST', '/api/v1/contacts/import', { csv: 'email\nz@z.test\n' })).statusCode).toBe(403);

    // A file with nothing importable still records the import.
    const none = (await t.api(a.token, 'POST', '/api/v1/contacts/import', { csv: 'email\nbad\n' })).json();
    expect(none.summary).toEqual({ created: 0, updated: 0, skipped: 0, failed: 1 });
    expect((await auditOf(t, a.accountId, 'contacts.imported')).map((e) => e.data.complete)).toEqual([true]);
  });

  it('imports from a file for the CLI and formats the report for a terminal', async () => {
    const a = await t.account();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-import-'));
    try {
      const file = path.join(dir, 'contacts.csv');
      fs.writeFileSync(file, 'email,first name,notes\nkim@cli.test,Kim,x\noops,Oops,y\n');
      const r = await importContactsFromFile(t.env, await actorOf(t, a.adminUserId), file);
      expect(formatImportReport(r).split('\n')).toEqual([
        '2 rows: 1 created, 0 updated, 0 skipped, 1 failed.',
        'Columns: email ← "email", firstName ← "first name"; ignored: "notes".',
        expect.stringMatching(/^row 3, email: .*oops.* \[invalid_email\]$/),
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
