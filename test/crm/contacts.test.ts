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

describe('contacts CRUD', () => {
  it('creates, reads, updates and deletes a contact, with an audit event for each change', async () => {
    const a = await t.account();
    const created = await t.api(a.token, 'POST', '/api/v1/contacts', { name: 'Lee, Ann', emails: ['Ann@Example.ORG', 'ann.lee@example.org'] });
    expect(created.statusCode).toBe(201);
    const c = created.json();
    expect(c).toMatchObject({
      firstName: 'Ann',
      lastName: 'Lee',
      name: 'Ann Lee',
      primaryEmail: 'Ann@example.org',
      emails: [
        { email: 'Ann@example.org', primary: true, bouncedAt: null },
        { email: 'ann.lee@example.org', primary: false },
      ],
      ownerId: a.adminUserId,
      companyId: null,
      company: null,
      source: 'manual',
    });
    expect(c.id).toMatch(/^con_/);

    const got = await t.api(a.token, 'GET', `/api/v1/contacts/${c.id}`);
    expect(got.statusCode).toBe(200);
    expect(got.json()).toEqual(c);

    const patched = await t.api(a.token, 'PATCH', `/api/v1/contacts/${c.id}`, { firstName: 'Annie', emails: ['ann.lee@example.org', 'annie@example.org'] });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({
      firstName: 'Annie',
      lastName: 'Lee',
      primaryEmail: 'ann.lee@example.org',
      emails: [
        { email: 'ann.lee@example.org', primary: true },
        { email: 'annie@example.org', primary: false },
      ],
    });
    const primary = await t.api(a.token, 'PATCH', `/api/v1/contacts/${c.id}`, { primaryEmail: 'ANNIE@example.org' });
    expect(primary.json().primaryEmail).toBe('annie@example.org');
    const notOwn = await t.api(a.token, 'PATCH', `/api/v1/contacts/${c.id}`, { primaryEmail: 'other@example.org' });
    expect(notOwn.statusCode).toBe(400);
    expect(notOwn.json().error.details.field).toBe('primaryEmail');

    // The old primary address is free again.
    const reuse = await t.api(a.token, 'POST', '/api/v1/contacts', { emails: ['ann@example.org'] });
    expect(reuse.statusCode).toBe(201);

    const del = await t.api(a.token, 'DELETE', `/api/v1/contacts/${c.id}`);
    expect(del.statusCode).toBe(204);
    expect((await t.api(a.token, 'GET', `/api/v1/contacts/${c.id}`)).statusCode).toBe(404);
    expect((await t.api(a.token, 'GET', `/api/v1/contacts/${c.id}/timeline`)).statusCode).toBe(404);
    const again = await t.api(a.token, 'POST', '/api/v1/contacts', { emails: ['annie@example.org'] });
    expect(again.statusCode).toBe(201);

    expect((await auditOf(t, a.accountId, 'contact.created')).length).toBe(3);
    const updates = await auditOf(t, a.accountId, 'contact.updated');
    expect(updates.map((u) => u.data.changed)).toEqual([['firstName', 'emails'], ['primaryEmail']]);
    const deleted = await auditOf(t, a.accountId, 'contact.deleted');
    expect(deleted).toHaveLength(1);
    expect(deleted[0]!.target_id).toBe(c.id);
    expect(deleted[0]!.data).toEqual({ emails: 2, timelineEvents: 1 });
    expect(JSON.stringify(deleted[0]!.data)).not.toContain('example.org');
  });

  it('refuses an email that belongs to another contact, naming that contact (409)', async () => {
    const a = await t.account();
    const ann = (await t.api(a.token, 'POST', '/api/v1/contacts', { firstName: 'Ann', lastName: 'Lee', emails: ['ann@example.net'] })).json();
    const r = await t.api(a.token, 'POST', '/api/v1/contacts', { firstName: 'Bob', emails: ['bob@example.net', ' ANN@example.net '] });
    expect(r.statusCode).toBe(409);
    expect(r.json().error).toMatchObject({ code: 'contact_email_taken', details: { email: 'ann@example.net', contactId: ann.id, contactName: 'Ann Lee' } });
    expect(r.json().error.message).toContain('Ann Lee');
    // Nothing of the refused contact was written.
    expect((await t.api(a.token, 'GET', '/api/v1/contacts?q=bob')).json().contacts).toEqual([]);

    const bob = (await t.api(a.token, 'POST', '/api/v1/contacts', { firstName: 'Bob', emails: ['bob@example.net'] })).json();
    const p = await t.api(a.token, 'PATCH', `/api/v1/contacts/${bob.id}`, { emails: ['bob@example.net', 'ann@example.net'] });
    expect(p.statusCode).toBe(409);
    expect(p.json().error.details.contactId).toBe(ann.id);

    // Another account may have the same address.
    const b = await t.account();
    expect((await t.api(b.token, 'POST', '/api/v1/contacts', { emails: ['ann@example.net'] })).statusCode).toBe(201);
  });

  it('lets exactly one of several racing creates with the same email win; the others get the 409', async () => {
    const a = await t.account();
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => t.api(a.token, 'POST', '/api/v1/contacts', { firstName: `Racer ${i}`, emails: ['race@example.com'] })));
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes).toEqual([201, 409, 409, 409, 409]);
    const winner = results.find((r) => r.statusCode === 201)!.json();
    for (const r of results.filter((x) => x.statusCode === 409)) expect(r.json().error).toMatchObject({ code: 'contact_email_taken', details: { contactId: winner.id } });
  });

  it('validates input with a field and a message', async () => {
    const a = await t.account();
    const bad = await t.api(a.token, 'POST', '/api/v1/contacts', { firstName: 'X', emails: ['not-an-email'] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'invalid_request', details: { field: 'email' } });
    expect(bad.json().error.message).toContain('not-an-email');
    const empty = await t.api(a.token, 'POST', '/api/v1/contacts', {});
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error.message).toContain('name or an email');
    const c = (await t.api(a.token, 'POST', '/api/v1/contacts', { emails: ['only@example.com'] })).json();
    expect(c.name).toBe('only@example.com');
    const strip = await t.api(a.token, 'PATCH', `/api/v1/contacts/${c.id}`, { emails: [] });
    expect(strip.statusCode).toBe(400);
    const unknown = await t.api(a.token, 'POST', '/api/v1/contacts', { firstName: 'X', extra: 1 });
    expect(unknown.statusCode).toBe(400);
  });

  it('sets the owner: the creator by default, a user of the account, or none', async () => {
    const a = await t.account();
    const m = await addUser(t, a.token);
    const mine = (await t.api(m.token, 'POST', '/api/v1/contacts', { firstName: 'Mine' })).json();
    expect(mine.ownerId).toBe(m.userId);
    const nobody = (await t.api(a.token, 'POST', '/api/v1/contacts', { firstName: 'Nobody', ownerId: null })).json();
    expect(nobody.ownerId).toBeNull();
    const given = (await t.api(a.token, 'PATCH', `/api/v1/contacts/${nobody.id}`, { ownerId: m.userId })).json();
    expect(given.ownerId).toBe(m.userId);

    await t.api(a.token, 'POST', `/api/v1/users/${m.userId}/deactivate`);
    const inactive = await t.api(a.token, 'POST', '/api/v1/contacts', { firstName: 'X', ownerId: m.userId });
    expect(inactive.statusCode).toBe(400);
    expect(inactive.json().error.code).toBe('owner_not_active');
    expect((await t.api(a.token, 'POST', '/api/v1/contacts', { firstName: 'X', ownerId: 'usr_nope' })).statusCode).toBe(404);
  });

  it('lets view-only users read but not write, and only admins and owners delete', async () => {
    const a = await t.account();
    const viewer = await addUser(t, a.token, { seat: 'view_only' });
    const m1 = await addUser(t, a.token);
    const m2 = await addUser(t, a.token);
    const c = (await t.api(m1.token, 'POST', '/api/v1/contacts', { firstName: 'Owned' })).json();
    expect((await t.api(viewer.token, 'GET', `/api/v1/contacts/${c.id}`)).statusCode).toBe(200);
    const w = await t.api(viewer.token, 'POST', '/api/v1/contacts', { firstName: 'X' });
    expect(w.statusCode).toBe(403);
    expect(w.json().error.code).toBe('permission_denied');
    expect((await t.api(viewer.token, 'PATCH', `/api/v1/contacts/${c.id}`, { firstName: 'Y' })).statusCode).toBe(403);
    expect((await t.api(m2.token, 'PATCH', `/api/v1/contacts/${c.id}`, { firstName: 'Edited' })).statusCode).toBe(200);
    expect((await t.api(m2.token, 'DELETE', `/api/v1/contacts/${c.id}`)).statusCode).toBe(403);
    expect((await t.api(m1.token, 'DELETE', `/api/v1/contacts/${c.id}`)).statusCode).toBe(204);
    const c2 = (await t.api(m1.token, 'POST', '/api/v1/contacts', { firstName: 'Other' })).json();
    expect((await t.api(a.token, 'DELETE', `/api/v1/contacts/${c2.id}`)).statusCode).toBe(204);
  });
});

describe('a contact\'s time zone', () => {
  it('is set (an IANA name), refused when it is not a zone (400 invalid_time_zone), and cleared with null', async () => {
    const a = await t.account();
    const created = await t.api(a.token, 'POST', '/api/v1/contacts', { name: 'Ram Thapa', emails: ['ram@example.np'], timeZone: 'Asia/Kathmandu' });
    expect(created.statusCode, created.body).toBe(201);
    const c = created.json();
    expect(c.timeZone).toBe('Asia/Kathmandu');
    expect((await t.api(a.token, 'GET', `/api/v1/contacts/${c.id}`)).json().timeZone).toBe('Asia/Kathmandu');
    const listed = (await t.api(a.token, 'GET', '/api/v1/contacts?q=thapa')).json().contacts;
    expect(listed.map((x: { timeZone: string | null }) => x.timeZone)).toEqual(['Asia/Kathmandu']);
    // Without one: null.
    expect((await t.api(a.token, 'POST', '/api/v1/contacts', { name: 'No Zone' })).json().timeZone).toBeNull();

    for (const bad of ['Mars/Olympus_Mons', '+05:45', 'EST']) {
      const r = await t.api(a.token, 'PATCH', `/api/v1/contacts/${c.id}`, { timeZone: bad });
      expect(r.statusCode, bad).toBe(400);
      expect(r.json().error).toMatchObject({ code: 'invalid_time_zone', message: expect.stringContaining('Use an IANA name such as Europe/Paris'), details: { field: 'timeZone', value: bad } });
    }
    const refusedCreate = await t.api(a.token, 'POST', '/api/v1/contacts', { name: 'Bad Zone', timeZone: 'Nowhere/Land' });
    expect(refusedCreate.statusCode).toBe(400);
    expect(refusedCreate.json().error.code).toBe('invalid_time_zone');
    // Refusals changed nothing.
    expect((await t.api(a.token, 'GET', `/api/v1/contacts/${c.id}`)).json().timeZone).toBe('Asia/Kathmandu');

    const moved = await t.api(a.token, 'PATCH', `/api/v1/contacts/${c.id}`, { timeZone: 'America/New_York' });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json().timeZone).toBe('America/New_York');
    const cleared = await t.api(a.token, 'PATCH', `/api/v1/contacts/${c.id}`, { timeZone: null });
    expect(cleared.statusCode, cleared.body).toBe(200);
    expect(cleared.json().timeZone).toBeNull();
    expect((await t.api(a.token, 'GET', `/api/v1/contacts/${c.id}`)).json().timeZone).toBeNull();
    const changes = (await auditOf(t, a.accountId, 'contact.updated')).filter((x) => x.target_id === c.id).map((x) => x.data.changed);
    expect(changes).toEqual([['timeZone'], ['timeZone']]);
  });
});

describe('company association by email domain', () => {
  it('links new contacts to the company with their domain (or a parent domain), never by free mail', async () => {
    const a = await t.account();
    const acme = (await t.api(a.token, 'POST', '/api/v1/companies', { name: 'Acme', domains: ['acme.test'] })).json();
    const ann = (await t.api(a.token, 'POST', '/api/v1/contacts', { name: 'Ann', emails: ['ann@acme.test'] })).json();
    expect(ann.company).toEqual({ id: acme.id, name: 'Acme' });
    const eu = (await t.api(a.token, 'POST', '/api/v1/contacts', { name: 'Eve', emails: ['gmail-eve@gmail.com', 'eve@eu.acme.test'] })).json();
    expect(eu.companyId).toBe(acme.id);
    const gmail = (await t.api(a.token, 'POST', '/api/v1/contacts', { name: 'Gus', emails: ['gus@gmail.com'] })).json();
    expect(gmail.companyId).toBeNull();
    const none = (await t.api(a.token, 'POST', '/api/v1/contacts', { name: 'No', emails: ['no@acme.test'], companyId: null })).json();
    expect(none.companyId).toBeNull();
    const globex = (await t.api(a.token, 'POST', '/api/v1/companies', { name: 'Globex' })).json();
    const explicit = (await t.api(a.token, 'POST', '/api/v1/contacts', { name: 'Zed', emails: ['zed@acme.test'], companyId: globex.id })).json();
    expect(explicit.companyId).toBe(globex.id);

    // A contact without a company joins one when it gets an email at its domain.
    const later = (await t.api(a.token, 'PATCH', `/api/v1/contacts/${gmail.id}`, { emails: ['gus@gmail.com', 'gus@acme.test'] })).json();
    expect(later.companyId).toBe(acme.id);
    // ...and keeps its company when it loses it.
    const kept = (await t.api(a.token, 'PATCH', `/api/v1/contacts/${later.id}`, { emails: ['gus@gmail.com'] })).json();
    expect(kept.companyId).toBe(acme.id);
    expect((await t.api(a.token, 'PATCH', `/api/v1/contacts/${later.id}`, { companyId: null })).json().companyId).toBeNull();
    expect((await t.api(a.token, 'GET', `/api/v1/companies/${acme.id}`)).json().contactsCount).toBe(2);
  });
});

describe('search and pagination', () => {
  it('finds contacts by any word of their names, emails or company, ignoring case and accents', async () => {
    const a = await t.account();
    await t.api(a.token, 'POST', '/api/v1/companies', { name: 'Initech Bücher', domains: ['initech.test'] });
    const jose = (await t.api(a.token, 'POST', '/api/v1/contacts', { firstName: 'José', lastName: 'Núñez', emails: ['jose@initech.test'] })).json();
    const ann = (await t.api(a.token, 'POST', '/api/v1/contacts', { firstName: 'Ann', lastName: 'Lee', emails: ['ann_lee@other.test'] })).json();
    const percent = (await t.api(a.token, 'POST', '/api/v1/contacts', { firstName: '100%', lastName: 'Sure', emails: ['annex@other.test'] })).json();
    const search = async (q: string) => (await t.api(a.token, 'GET', `/api/v1/contacts?q=${encodeURIComponent(q)}`)).json().contacts.map((c: { id: string }) => c.id);
    expect(await search('jose')).toEqual([jose.id]);
    expect(await search('NUNEZ JOSÉ')).toEqual([jose.id]);
    expect(await search('bucher')).toEqual([jose.id]);
    expect(await search('initech.test')).toEqual([jose.id]);
    expect(await search('ann')).toEqual([ann.id, percent.id]);
    expect(await search('ann lee')).toEqual([ann.id]);
    expect(await search('ann_lee')).toEqual([ann.id]);
    // LIKE wildcards are escaped: "_" is not "any character" ("nunez" would match n_z).
    expect(await search('n_z')).toEqual([]);
    expect(await search('100%')).toEqual([percent.id]);
    expect(await search('%')).toHaveLength(3);
    expect(await search('nobody')).toEqual([]);

    // Renaming the company changes what finds its contacts.
    const co = (await t.api(a.token, 'GET', '/api/v1/companies?q=initech')).json().companies[0];
    await t.api(a.token, 'PATCH', `/api/v1/companies/${co.id}`, { name: 'Umbrella' });
    expect(await search('umbrella')).toEqual([jose.id]);
    expect(await search('bucher')).toEqual([]);
  });

  it("lists each contact with its emails as the contact's own page shows them: primary first, then by address, bounces, nothing of another account", async () => {
    const a = await t.account();
    const other = await t.account();
    // The primary is not the first address in order; one address bounced; one contact has no email.
    const many = (await t.api(a.token, 'POST', '/api/v1/contacts', { firstName: 'Multi', lastName: 'Mail', emails: ['zed@multi.test', 'Bea@multi.test', 'amy@multi.test'] })).json();
    const single = (await t.api(a.token, 'POST', '/api/v1/contacts', { firstName: 'Multi', lastName: 'One', emails: ['one@multi.test'] })).json();
    const none = (await t.api(a.token, 'POST', '/api/v1/contacts', { firstName: 'Multi', lastName: 'None' })).json();
    await t.env.db.updateTable('contact_emails').set({ bounced_at: 1_700_000_000_123, bounce_reason: '550 no such user' }).where('contact_id', '=', many.id).where('email_key', '=', 'amy@multi.test').execute();
    // A row of another account under this contact's id (never written by Mailroom) stays out of its emails.
    await t.env.db.insertInto('contact_emails').values({ account_id: other.accountId, email_key: 'intruder@multi.test', email: 'intruder@multi.test', contact_id: many.id, is_primary: 0, bounced_at: null, bounce_reason: null }).execute();
    const listed = (await t.api(a.token, 'GET', '/api/v1/contacts?q=multi')).json().contacts;
    expect(listed.map((c: { id: string }) => c.id)).toEqual([many.id, none.id, single.id]);
    for (const c of listed) expect(c).toEqual((await t.api(a.token, 'GET', `/api/v1/contacts/${c.id}`)).json());
    expect(listed[0].emails).toEqual([
      { email: 'zed@multi.test', primary: true, bouncedAt: null, bounceReason: null },
      { email: 'amy@multi.test', primary: false, bouncedAt: '2023-11-14T22:13:20.123Z', bounceReason: '550 no such user' },
      { email: 'Bea@multi.test', primary: false, bouncedAt: null, bounceReason: null },
    ]);
    expect(listed[1].emails).toEqual([]);
  });

  it('pages through contacts by name and by newest with opaque cursors, with filters', async () => {
    let clock = 1_700_000_000_000;
    const t2 = await createTestApp({ now: () => (clock += 1000) });
    try {
      const a = await t2.account();
      const m = await addUser(t2, a.token);
      const co = (await t2.api(a.token, 'POST', '/api/v1/companies', { name: 'Paged' })).json();
      const names = ['Zoe Adams', 'Yan Brown', 'Xia Clark', 'Will Davis', 'Val Evans', 'Uma Fox', 'Ted Green'];
      const ids: string[] = [];
      for (const [i, name] of names.entries()) {
        const c = await t2.api(a.token, 'POST', '/api/v1/contacts', { name, ownerId: i % 2 ? m.userId : a.adminUserId, companyId: i < 3 ? co.id : null });
        ids.push(c.json().id);
      }
      const all = async (query: string) => {
        const seen: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const r = await t2.api(a.token, 'GET', `/api/v1/contacts?limit=3${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
          expect(r.statusCode).toBe(200);
          const body = r.json();
          expect(body.contacts.length).toBeLessThanOrEqual(3);
          seen.push(...body.contacts.map((c: { name: string }) => c.name));
          cursor = body.nextCursor;
          pages += 1;
        } while (cursor && pages < 10);
        return { seen, pages };
      };
      const byName = await all('');
      expect(byName.seen).toEqual(['Zoe Adams', 'Yan Brown', 'Xia Clark', 'Will Davis', 'Val Evans', 'Uma Fox', 'Ted Green']);
      expect(byName.pages).toBe(3);
      expect((await all('&sort=newest')).seen).toEqual([...names].reverse());
      expect((await all(`&ownerId=${m.userId}`)).seen).toEqual(['Yan Brown', 'Will Davis', 'Uma Fox']);
      expect((await all(`&companyId=${co.id}&sort=newest`)).seen).toEqual(['Xia Clark', 'Yan Brown', 'Zoe Adams']);
      expect((await all(`&companyId=${co.id}&q=brown`)).seen).toEqual(['Yan Brown']);

      const bad = await t2.api(a.token, 'GET', '/api/v1/contacts?cursor=garbage');
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.code).toBe('invalid_cursor');
      const first = (await t2.api(a.token, 'GET', '/api/v1/contacts?limit=1')).json();
      const wrongSort = await t2.api(a.token, 'GET', `/api/v1/contacts?sort=newest&cursor=${first.nextCursor}`);
      expect(wrongSort.json().error.code).toBe('invalid_cursor');
      const exact = (await t2.api(a.token, 'GET', '/api/v1/contacts?limit=7')).json();
      expect(exact.contacts).toHaveLength(7);
      expect(exact.nextCursor).toBeNull();
    } finally {
      await t2.close();
    }
  });
});
