/**
 * Templates and snippets: saved privately or shared by an admin, tokens checked when saving, a preview per
 * contact that names the tokens without a value, and an email sent from a template through the real
 * outbox to the contact's Dovecot mailbox.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contact, deliverNow, mailboxOf, startWorld, uniq, type World } from './support.js';
import { addUser } from '../crm/helpers.js';

let w: World;
beforeAll(async () => {
  w = await startWorld();
}, 60_000);
afterAll(async () => {
  await w?.stop();
});

const api = (token: string, method: string, url: string, body?: unknown) => w.t.api(token, method, url, body);

describe('templates and snippets', () => {
  it('saves a private template; others in the account cannot see, use or change it', async () => {
    const r = await api(w.seller.token, 'POST', '/api/v1/email-templates', { kind: 'template', name: 'Follow-up', subject: 'Following up, {{ contact.firstName | "there" }}', html: '<p>Hi {{ contact.firstName | "there" }}</p>' });
    expect(r.statusCode, r.body).toBe(201);
    const id = r.json().id as string;
    expect(r.json()).toMatchObject({ kind: 'template', shared: false, editable: true, owner: { name: 'Sam Seller' } });
    const other = await addUser(w.t, w.adminToken, { name: 'Olga Other' });
    expect((await api(other.token, 'GET', '/api/v1/email-templates')).json().templates.map((t: { id: string }) => t.id)).not.toContain(id);
    // An admin does not see a member's private template either: it is theirs.
    expect((await api(w.adminToken, 'GET', '/api/v1/email-templates')).json().templates.map((t: { id: string }) => t.id)).not.toContain(id);
    for (const [method, url, body] of [
      ['PATCH', `/api/v1/email-templates/${id}`, { name: 'Mine now' }],
      ['DELETE', `/api/v1/email-templates/${id}`, undefined],
      ['GET', `/api/v1/email-templates/${id}/preview?contactId=x`, undefined],
    ] as const) {
      const res = await api(other.token, method, url, body);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
    }
    const ann = await contact(w, { firstName: 'Ann', emails: [`ann-${uniq()}@client.test`] });
    expect((await api(other.token, 'POST', `/api/v1/contacts/${ann.id}/emails`, { templateId: id })).statusCode).toBe(404);
  });

  it('refuses unknown tokens when saving, and a second snippet with the same shortcut', async () => {
    const bad = await api(w.seller.token, 'POST', '/api/v1/email-templates', { kind: 'template', name: 'Bad', subject: 'Hi {{ contact.nickname }}', html: 'x' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'invalid_request', details: { field: 'subject' }, message: expect.stringMatching(/^Not saved: contact\.nickname is not a personalization token/) });
    const shortcut = `p${uniq()}`.slice(0, 20);
    const first = await api(w.seller.token, 'POST', '/api/v1/email-templates', { kind: 'snippet', name: 'Pricing', html: 'Our pricing: {{ company.name | "us" }}', shortcut });
    expect(first.statusCode, first.body).toBe(201);
    const again = await api(w.seller.token, 'POST', '/api/v1/email-templates', { kind: 'snippet', name: 'Pricing 2', html: 'x', shortcut: `/${shortcut.toUpperCase()}` });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({ code: 'shortcut_in_use', details: { field: 'shortcut' } });
    const snippets = (await api(w.seller.token, 'GET', '/api/v1/email-templates?kind=snippet')).json().templates;
    expect(snippets.filter((s: { shortcut: string }) => s.shortcut === shortcut)).toHaveLength(1);
    // A snippet is not a template to send from.
    const ann = await contact(w, { firstName: 'Ann', emails: [`ann-${uniq()}@client.test`] });
    expect((await api(w.seller.token, 'POST', `/api/v1/contacts/${ann.id}/emails`, { templateId: first.json().id })).statusCode).toBe(404);
  });

  it('only admins share; a shared template is usable by all and editable by its owner and admins only', async () => {
    const refused = await api(w.seller.token, 'POST', '/api/v1/email-templates', { kind: 'template', name: 'Team intro', subject: 's', html: 'x', shared: true });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('permission_denied');
    const shared = await api(w.adminToken, 'POST', '/api/v1/email-templates', { kind: 'template', name: 'Team intro', subject: 'Meet {{ sender.firstName }}', html: '<p>Hello from {{ sender.fullName }}</p>', shared: true });
    expect(shared.statusCode, shared.body).toBe(201);
    const id = shared.json().id as string;
    const seen = (await api(w.seller.token, 'GET', '/api/v1/email-templates?q=team')).json().templates.find((t: { id: string }) => t.id === id);
    expect(seen).toMatchObject({ shared: true, editable: false });
    expect((await api(w.seller.token, 'PATCH', `/api/v1/email-templates/${id}`, { name: 'Hijacked' })).statusCode).toBe(403);
    const admin2 = await addUser(w.t, w.adminToken, { role: 'admin', name: 'Ada Admin' });
    const renamed = await api(admin2.token, 'PATCH', `/api/v1/email-templates/${id}`, { name: 'Team introduction' });
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect(renamed.json()).toMatchObject({ name: 'Team introduction', owner: { id: w.adminUserId } });
    const audit = await w.t.database.db.selectFrom('audit_events').select('action').where('target_id', '=', id).orderBy('created_at').orderBy('id').execute();
    expect(audit.map((a) => a.action)).toEqual(['email_template.created', 'email_template.updated']);
  });

  it('previews for a contact, naming the tokens without a value; sends from the template to the contact\'s mailbox', async () => {
    const t = await api(w.seller.token, 'POST', '/api/v1/email-templates', { kind: 'template', name: 'Welcome', subject: 'Welcome, {{ contact.firstName }}', html: '<p>Dear {{ contact.firstName }} {{ contact.lastName }},</p><p>welcome.</p>' });
    const id = t.json().id as string;
    const annAddress = `ann-${uniq()}@client.test`;
    const ann = await contact(w, { firstName: 'Ann', lastName: 'Lee', emails: [annAddress], mailbox: true });
    const nameless = await contact(w, { emails: [`x-${uniq()}@client.test`] });

    const good = await api(w.seller.token, 'GET', `/api/v1/email-templates/${id}/preview?contactId=${ann.id}`);
    expect(good.statusCode, good.body).toBe(200);
    expect(good.json()).toMatchObject({ subject: 'Welcome, Ann', problems: [], message: null });
    expect(good.json().html).toContain('Dear Ann Lee,');
    const missing = await api(w.seller.token, 'GET', `/api/v1/email-templates/${id}/preview?contactId=${nameless.id}`);
    expect(missing.json().problems.map((p: { name: string }) => p.name)).toEqual(['contact.firstName', 'contact.firstName', 'contact.lastName']);
    expect(missing.json().message).toMatch(/^This email could not be sent yet: contact\.firstName, contact\.lastName have no value/);
    expect((await api(w.seller.token, 'GET', `/api/v1/email-templates/${id}/preview`)).json().error).toMatchObject({ code: 'invalid_request', details: { field: 'contactId' } });

    // Sending from the template to the nameless contact is refused, never sent with raw tokens.
    const refused = await api(w.seller.token, 'POST', `/api/v1/contacts/${nameless.id}/emails`, { templateId: id });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().error.code).toBe('unresolved_tokens');

    // The subject can be overridden; the body comes from the template.
    const sent = await api(w.seller.token, 'POST', `/api/v1/contacts/${ann.id}/emails`, { templateId: id, subject: 'Hello {{ contact.firstName }}', trackOpens: false, trackClicks: false });
    expect(sent.statusCode, sent.body).toBe(201);
    await deliverNow(w, sent.json().id);
    const inbox = await mailboxOf(w, annAddress);
    expect(inbox).toHaveLength(1);
    expect(inbox[0]!.parsed.subject).toBe('Hello Ann');
    expect(inbox[0]!.parsed.html).toContain('Dear Ann Lee,');
    expect(inbox[0]!.parsed.html).not.toContain('{{');

    // Deleting the template leaves the sent email as it was.
    expect((await api(w.seller.token, 'DELETE', `/api/v1/email-templates/${id}`)).json()).toEqual({ deleted: true, id });
    expect((await api(w.seller.token, 'GET', `/api/v1/personal-emails/${sent.json().id}`)).json().subject).toBe('Hello Ann');
    expect((await api(w.seller.token, 'POST', `/api/v1/contacts/${ann.id}/emails`, { templateId: id })).statusCode).toBe(404);
    expect((await api(w.seller.token, 'POST', `/api/v1/contacts/${ann.id}/emails`, {})).json().error).toMatchObject({ code: 'invalid_request', details: { field: 'subject' } });
  });
});
