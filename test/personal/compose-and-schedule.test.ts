/**
 * Composing from a contact's record: refusals before anything is queued (tokens without values, too many
 * attachment bytes, another user's from-address, tracking outside the plan), attachments, scheduling,
 * cancel and replace (only by the scheduler, only before it leaves), the send-limit message on the
 * timeline, preferences and the account rule (admins only).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contact, deliverNow, mailboxOf, startWorld, timeline, uniq, type World } from './support.js';
import { addUser } from '../crm/helpers.js';
import { sendOutboxMessage } from '../../src/features/outbox/sender.js';

let w: World;
let ann: { id: string };
let annAddress: string;
beforeAll(async () => {
  w = await startWorld();
  annAddress = `ann-${uniq()}@client.test`;
  ann = await contact(w, { firstName: 'Ann', emails: [annAddress], mailbox: true });
}, 60_000);
afterAll(async () => {
  await w?.stop();
});

const compose = (body: Record<string, unknown>, contactId = ann.id, token = w.seller.token) => w.t.api(token, 'POST', `/api/v1/contacts/${contactId}/emails`, body);
const count = async () => Number((await w.t.database.db.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

describe('compose refusals', () => {
  it('refuses a token without a value or fallback, and unknown tokens, before anything is queued', async () => {
    const nameless = await contact(w, { emails: [`x-${uniq()}@client.test`] });
    const before = await count();
    const r = await compose({ subject: 'Hi {{ contact.firstName }}', html: '<p>{{ company.name }} and {{ contact.nickname }}</p>' }, nameless.id);
    expect(r.statusCode).toBe(422);
    expect(r.json().error).toMatchObject({ code: 'unresolved_tokens', message: expect.stringMatching(/^Nothing was sent: contact\.firstName, company\.name have no value/) });
    expect(r.json().error.details.problems.map((p: { reason: string }) => p.reason)).toEqual(['missing_value', 'missing_value', 'unknown_token']);
    expect(await count()).toBe(before);
    const ok = await compose({ subject: 'Hi {{ contact.firstName | "there" }}', html: '<p>Hello {{ contact.firstName | "there" }}</p>' }, nameless.id);
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json().subject).toBe('Hi there');
  });

  it('refuses more than 20 MB of attachments; sends smaller ones', async () => {
    const half = Buffer.alloc(10.5 * 1024 * 1024, 7).toString('base64');
    const r = await compose({ subject: 'Files', html: '<p>x</p>', attachments: [{ filename: 'a.bin', contentBase64: half }, { filename: 'b.bin', contentBase64: half }] });
    expect(r.statusCode).toBe(413);
    expect(r.json().error).toMatchObject({ code: 'attachments_too_large', details: { field: 'attachments', maxBytes: 20 * 1024 * 1024 } });
    const ok = await compose({ subject: 'Small file', html: '<p>see attached</p>', attachments: [{ filename: 'terms.txt', contentType: 'text/plain', contentBase64: Buffer.from('The terms.').toString('base64') }] });
    expect(ok.statusCode, ok.body).toBe(201);
    expect((await deliverNow(w, ok.json().id)).outcome).toBe('sent');
    const got = (await mailboxOf(w, annAddress)).find((m) => m.parsed.subject === 'Small file');
    expect(got?.parsed.attachments.map((a) => a.filename)).toEqual(['terms.txt']);
  });

  it('sends only from the actor\'s own personal connections', async () => {
    const other = await addUser(w.t, w.adminToken, { role: 'member' });
    const r = await compose({ subject: 's', html: 'h' }, ann.id, other.token);
    expect(r.statusCode).toBe(409);
    expect(r.json().error.code).toBe('no_personal_connection');
    const foreign = await compose({ subject: 's', html: 'h', fromConnectionId: w.seller.connectionId }, ann.id, other.token);
    expect(foreign.statusCode).toBe(404);
    const prefs = (await w.t.api(w.seller.token, 'GET', '/api/v1/email-preferences')).json();
    expect(prefs.fromAddresses).toEqual([{ connectionId: w.seller.connectionId, address: w.seller.address, isDefault: true }]);
  });

  it('refuses bad recipients and bad preferences with the field named', async () => {
    const r = await compose({ subject: 's', html: 'h', cc: ['not an address'] });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.details.field).toBe('cc');
    const f = await w.t.api(w.seller.token, 'PATCH', '/api/v1/email-preferences', { font: { family: 'arial', sizePx: 14, color: 'red;x:y' } });
    expect(f.statusCode).toBe(400);
    const n = await w.t.api(w.seller.token, 'PATCH', '/api/v1/email-preferences', { neverLog: ['ok.example', 'bad@@x'] });
    expect(n.statusCode).toBe(400);
    expect(n.json().error.details.entry).toBe('bad@@x');
  });
});

describe('scheduling', () => {
  const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();

  it('schedules; only the scheduler can cancel, and only before it leaves', async () => {
    const r = await compose({ subject: 'Later', html: '<p>later</p>', sendAt: inAnHour() });
    expect(r.statusCode, r.body).toBe(201);
    const e = r.json();
    expect(e.state).toBe('scheduled');
    const listed = (await w.t.api(w.seller.token, 'GET', '/api/v1/personal-emails?state=scheduled')).json().emails;
    expect(listed.map((x: { id: string }) => x.id)).toContain(e.id);

    expect((await w.t.api(w.adminToken, 'DELETE', `/api/v1/personal-emails/${e.id}`)).statusCode).toBe(404);
    const cancelled = await w.t.api(w.seller.token, 'DELETE', `/api/v1/personal-emails/${e.id}`);
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json().state).toBe('cancelled');
    const again = await w.t.api(w.seller.token, 'DELETE', `/api/v1/personal-emails/${e.id}`);
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('email_not_cancellable');
    const outbox = await w.t.database.db.selectFrom('personal_emails').select('outbox_id').where('id', '=', e.id).executeTakeFirstOrThrow();
    expect(await sendOutboxMessage(w.ingestor, outbox.outbox_id)).toBe('skipped');
  });

  it('replaces a scheduled email; exactly one version can leave; a sent one cannot be replaced', async () => {
    const first = (await compose({ subject: 'Draft 1', html: '<p>1</p>', sendAt: inAnHour() })).json();
    const r = await w.t.api(w.seller.token, 'PUT', `/api/v1/personal-emails/${first.id}`, { subject: 'Draft 2', html: '<p>2</p>' });
    expect(r.statusCode, r.body).toBe(200);
    const second = r.json();
    expect(second).toMatchObject({ subject: 'Draft 2', state: 'queued', contactId: ann.id });
    expect((await w.t.api(w.seller.token, 'GET', `/api/v1/personal-emails/${first.id}`)).json()).toMatchObject({ state: 'cancelled', replacedBy: second.id });
    expect((await w.t.api(w.adminToken, 'PUT', `/api/v1/personal-emails/${second.id}`, { subject: 'x', html: 'y' })).statusCode).toBe(404);
    expect((await deliverNow(w, second.id)).outcome).toBe('sent');
    const late = await w.t.api(w.seller.token, 'PUT', `/api/v1/personal-emails/${second.id}`, { subject: 'Draft 3', html: '<p>3</p>' });
    expect(late.statusCode).toBe(409);
    const subjects = (await mailboxOf(w, annAddress)).map((m) => m.parsed.subject);
    expect(subjects.filter((s) => s.startsWith('Draft'))).toEqual(['Draft 2']);
  });
});

describe('send limits', () => {
  it('shows "not sent because you reached your send limit" on the timeline, with when it resets', async () => {
    const bo = await contact(w, { firstName: 'Bo', emails: [`bo-${uniq()}@client.test`] });
    await w.t.database.db.updateTable('connections').set({ send_limit_day: 1 }).where('id', '=', w.seller.connectionId).execute();
    try {
      // The seller already sent today in this file: the cap of 1 is reached.
      const e = (await compose({ subject: 'Over the cap', html: '<p>x</p>' }, bo.id)).json();
      expect((await deliverNow(w, e.id)).outcome).toBe('limit_reached');
      const failed = (await timeline(w, bo.id)).find((ev) => ev.kind === 'send_failed');
      expect(failed?.data).toMatchObject({ reason: 'send_limit', personalEmailId: e.id, resetsAt: expect.any(String) });
      expect(failed?.data.message).toMatch(/^This email was not sent because you reached your send limit; it resets at /);
      const view = (await w.t.api(w.seller.token, 'GET', `/api/v1/personal-emails/${e.id}`)).json();
      expect(view).toMatchObject({ state: 'failed', sendLimitResetsAt: expect.any(String) });
      const notes = (await w.t.api(w.seller.token, 'GET', '/api/v1/notifications')).json().notifications;
      expect(notes.some((n: { kind: string }) => n.kind === 'send_limit_reached')).toBe(true);
    } finally {
      await w.t.database.db.updateTable('connections').set({ send_limit_day: null }).where('id', '=', w.seller.connectionId).execute();
    }
  });
});

describe('preferences and account rule', () => {
  it('keeps per-user defaults, which each email may override', async () => {
    const p = await w.t.api(w.seller.token, 'PATCH', '/api/v1/email-preferences', { log: false, trackOpens: false, font: { family: 'verdana', sizePx: 13, color: '#123' } });
    expect(p.json()).toMatchObject({ log: false, trackOpens: false, trackClicks: true, font: { family: 'verdana', sizePx: 13, color: '#112233', css: 'Verdana, Geneva, sans-serif' } });
    const quiet = (await compose({ subject: 'Default off', html: '<p>x</p>' })).json();
    expect(quiet).toMatchObject({ logged: false, tracking: { opensTracked: false, clicksTracked: true } });
    const loud = (await compose({ subject: 'Override on', html: '<p>x</p>', log: true, trackOpens: true })).json();
    expect(loud).toMatchObject({ logged: true, tracking: { opensTracked: true } });
    await w.t.api(w.seller.token, 'PATCH', '/api/v1/email-preferences', { log: true, trackOpens: true, font: null });
  });

  it('respects the user\'s own never-log list', async () => {
    const p = await w.t.api(w.seller.token, 'PATCH', '/api/v1/email-preferences', { neverLog: ['client.test'] });
    expect(p.json().neverLog).toEqual(['client.test']);
    const e = (await compose({ subject: 'Not logged', html: '<p>x</p>' })).json();
    expect(e).toMatchObject({ logged: false, loggedContactIds: [] });
    await w.t.api(w.seller.token, 'PATCH', '/api/v1/email-preferences', { neverLog: [] });
    // Another user's list does not apply to the seller.
    const other = await addUser(w.t, w.adminToken, { role: 'member' });
    await w.t.api(other.token, 'PATCH', '/api/v1/email-preferences', { neverLog: ['client.test'] });
    expect((await compose({ subject: 'Logged', html: '<p>x</p>' })).json().logged).toBe(true);
  });

  it('lets only admins read and change the account rule', async () => {
    expect((await w.t.api(w.seller.token, 'GET', '/api/v1/account/email-settings')).statusCode).toBe(403);
    expect((await w.t.api(w.seller.token, 'PATCH', '/api/v1/account/email-settings', { logRule: 'all_known_contacts' })).statusCode).toBe(403);
    const r = await w.t.api(w.adminToken, 'PATCH', '/api/v1/account/email-settings', { logRule: 'all_known_contacts', createContacts: true, neverLog: ['@Lawyers.Example', 'hr@acme.example'] });
    expect(r.json()).toEqual({ logRule: 'all_known_contacts', createContacts: true, neverLog: ['lawyers.example', 'hr@acme.example'] });
    expect((await w.t.api(w.seller.token, 'GET', '/api/v1/email-preferences')).json().accountRule).toEqual({ logRule: 'all_known_contacts', createContacts: true });
    await w.t.api(w.adminToken, 'PATCH', '/api/v1/account/email-settings', { logRule: 'replies_only', createContacts: false, neverLog: [] });
  });
});

describe('plans', () => {
  it('refuses tracking on a plan without it, and sends untracked by default there', async () => {
    const a = await w.t.account('free');
    const c = (await w.t.api(a.token, 'POST', '/api/v1/contacts', { firstName: 'F', emails: [`f-${uniq()}@client.test`] })).json();
    await w.t.database.db
      .insertInto('connections')
      .values({
        ...(await w.t.database.db.selectFrom('connections').selectAll().where('id', '=', w.seller.connectionId).executeTakeFirstOrThrow()),
        id: `con_free_${uniq()}`,
        account_id: a.accountId,
        user_id: a.adminUserId,
        address: `free-${uniq()}@sales.test`,
        address_key: `free-${uniq()}@sales.test`,
      })
      .execute();
    const refused = await w.t.api(a.token, 'POST', `/api/v1/contacts/${c.id}/emails`, { subject: 's', html: '<a href="https://x.example/">x</a>', trackClicks: true });
    expect(refused.statusCode).toBe(403);
    const plain = await w.t.api(a.token, 'POST', `/api/v1/contacts/${c.id}/emails`, { subject: 's', html: '<a href="https://x.example/">x</a>' });
    expect(plain.statusCode, plain.body).toBe(201);
    expect(plain.json().tracking).toMatchObject({ opensTracked: false, clicksTracked: false, links: 0 });
  });
});
