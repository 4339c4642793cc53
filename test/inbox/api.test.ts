/**
 * The conversations API on SQLite or PostgreSQL: list views, filters, search and cursor pages;
 * membership (non-members get 404, admins who are not members view but do not act); assign, status,
 * move, comments with mentions; replies queued in the outbox; presence and server-sent events.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/mail/parse/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { insertConnection } from '../support/connections.js';
import { conversationRow, deliver, inboxFixture, ingestorOf, member, ok, rawMail, uniq } from './support.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

const list = async (token: string, inboxId: string, query = '') => (await ok(t, token, 'GET', `/api/v1/inboxes/${inboxId}/conversations${query ? `?${query}` : ''}`)).conversations.map((c: any) => c.id) as string[];

describe('list: views, filters, search, pages', () => {
  let s: Awaited<ReturnType<typeof inboxFixture>>;
  let other: Awaited<ReturnType<typeof insertConnection>>;
  let ana: Awaited<ReturnType<typeof member>>;
  const ids: Record<string, string> = {};
  const base = Date.UTC(2026, 0, 10, 12);

  beforeAll(async () => {
    s = await inboxFixture(t);
    ana = await member(t, s.a, { name: 'Ana' });
    other = await insertConnection(t, { accountId: s.a.accountId, userId: s.a.adminUserId, type: 'team', address: `sales-${uniq()}@acme.test`, inboxId: s.inbox.id });
    const contact = await ok(t, s.a.token, 'POST', '/api/v1/contacts', { firstName: 'Zoé', lastName: 'Zed', emails: ['zoe@zed.example'] });
    ids.contactId = contact.id;
    // Oldest first: their last message times are base + i hours.
    const mails: Array<[string, Parameters<typeof rawMail>[0], typeof s.conn]> = [
      ['refund', { subject: 'Refund for order 1001', from: 'Carla <carla@example.org>', body: 'Please refund me.' }, s.conn],
      ['shipping', { subject: 'Shipping delay', from: 'dan@example.net', body: 'Where is my parcel? Tracking number 7788.' }, s.conn],
      ['invoice', { subject: 'Invoice question', from: 'Zoé <zoe@zed.example>', body: 'Can I get an invoice with our VAT number?' }, other],
      ['accent', { subject: 'Où est ma commande', from: 'eve@example.fr', body: 'Bonjour, réponse rapide svp' }, s.conn],
      ['spam', { subject: 'Win money', from: 'spam@bad.example', body: 'Refund lottery' }, s.conn],
      ['closed', { subject: 'Thanks!', from: 'carla@example.org', body: 'All good' }, s.conn],
    ];
    for (const [i, [key, m, conn]] of mails.entries()) ids[key] = await deliver(t, conn, rawMail({ ...m, date: new Date(base + i * 3_600_000) }), base + i * 3_600_000);
    await ok(t, s.a.token, 'POST', `/api/v1/conversations/${ids.spam}/status`, { status: 'spam' });
    await ok(t, s.a.token, 'POST', `/api/v1/conversations/${ids.closed}/status`, { status: 'closed' });
    await ok(t, s.a.token, 'POST', `/api/v1/conversations/${ids.shipping}/assign`, { assigneeId: ana.user.id });
    await ok(t, s.a.token, 'POST', `/api/v1/conversations/${ids.invoice}/assign`, { assigneeId: s.a.adminUserId });
  });

  it('views', async () => {
    expect(await list(s.a.token, s.inbox.id)).toEqual([ids.accent, ids.invoice, ids.shipping, ids.refund]);
    expect(await list(ana.token, s.inbox.id, 'view=mine')).toEqual([ids.shipping]);
    expect(await list(s.a.token, s.inbox.id, 'view=mine')).toEqual([ids.invoice]);
    expect(await list(s.a.token, s.inbox.id, 'view=unassigned')).toEqual([ids.accent, ids.refund]);
    expect(await list(s.a.token, s.inbox.id, 'view=closed')).toEqual([ids.closed]);
    expect(await list(s.a.token, s.inbox.id, 'view=spam')).toEqual([ids.spam]);
    expect(await list(s.a.token, s.inbox.id, 'view=all')).toEqual([ids.closed, ids.accent, ids.invoice, ids.shipping, ids.refund]);
  });

  it('filters: assignee, team address (channel), contact, dates; the item shape', async () => {
    expect(await list(s.a.token, s.inbox.id, `assigneeId=${ana.user.id}`)).toEqual([ids.shipping]);
    expect(await list(s.a.token, s.inbox.id, 'view=all&assigneeId=unassigned')).toEqual([ids.closed, ids.accent, ids.refund]);
    expect(await list(s.a.token, s.inbox.id, `connectionId=${other.id}`)).toEqual([ids.invoice]);
    expect(await list(s.a.token, s.inbox.id, `contactId=${ids.contactId}`)).toEqual([ids.invoice]);
    expect(await list(s.a.token, s.inbox.id, `view=all&since=${new Date(base + 2 * 3_600_000).toISOString()}&until=${base + 4 * 3_600_000}`)).toEqual([ids.accent, ids.invoice]);
    const page = await ok(t, s.a.token, 'GET', `/api/v1/inboxes/${s.inbox.id}/conversations?connectionId=${other.id}`);
    expect(page.conversations[0]).toMatchObject({
      id: ids.invoice,
      inboxId: s.inbox.id,
      connectionId: other.id,
      subject: 'Invoice question',
      status: 'open',
      assignee: { id: s.a.adminUserId, name: 'Ada Admin', state: 'active' },
      contact: { id: ids.contactId, name: 'Zoé Zed' },
      messageCount: 1,
      snippet: 'Can I get an invoice with our VAT number?',
      lastMessageAt: new Date(base + 2 * 3_600_000).toISOString(),
    });
    const bad = await t.api(s.a.token, 'GET', `/api/v1/inboxes/${s.inbox.id}/conversations?since=yesterday`);
    expect(bad.statusCode).toBe(400);
  });

  it('search across subject, bodies and participants; prefixes, accents and case ignored; every word must match', async () => {
    expect(await list(s.a.token, s.inbox.id, 'q=refund')).toEqual([ids.refund]);
    expect(await list(s.a.token, s.inbox.id, 'view=all&q=refund')).toEqual([ids.refund]); // the spam one stays out of "all"
    expect(await list(s.a.token, s.inbox.id, 'view=spam&q=REFUND')).toEqual([ids.spam]);
    expect(await list(s.a.token, s.inbox.id, 'q=parcel')).toEqual([ids.shipping]);
    expect(await list(s.a.token, s.inbox.id, 'q=778')).toEqual([ids.shipping]);
    expect(await list(s.a.token, s.inbox.id, 'q=dan%40example.net')).toEqual([ids.shipping]);
    expect(await list(s.a.token, s.inbox.id, 'view=all&q=carla')).toEqual([ids.closed, ids.refund]);
    expect(await list(s.a.token, s.inbox.id, 'q=ou%20est%20reponse')).toEqual([ids.accent]);
    expect(await list(s.a.token, s.inbox.id, 'q=r%C3%A9PONSE')).toEqual([ids.accent]);
    expect(await list(s.a.token, s.inbox.id, 'q=zoe%20vat')).toEqual([ids.invoice]);
    expect(await list(s.a.token, s.inbox.id, 'q=zoe%20parcel')).toEqual([]);
    expect(await list(s.a.token, s.inbox.id, 'q=%22%27%29%28*%3A')).toEqual([ids.accent, ids.invoice, ids.shipping, ids.refund]); // punctuation only: no words
  });

  it('cursor pages cover everything once, with the same filters', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: any = await ok(t, s.a.token, 'GET', `/api/v1/inboxes/${s.inbox.id}/conversations?view=all&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.conversations.map((c: any) => c.id));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(seen).toEqual([ids.closed, ids.accent, ids.invoice, ids.shipping, ids.refund]);
    expect(pages).toBe(3);
    const bad = await t.api(s.a.token, 'GET', `/api/v1/inboxes/${s.inbox.id}/conversations?cursor=nonsense`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('invalid_cursor');
  });

  it('a snooze that ran out shows the conversation as open again', async () => {
    await ok(t, s.a.token, 'POST', `/api/v1/conversations/${ids.refund}/status`, { status: 'snoozed', snoozedUntil: new Date(Date.now() + 60_000).toISOString() });
    expect(await list(s.a.token, s.inbox.id, 'view=snoozed')).toEqual([ids.refund]);
    expect(await list(s.a.token, s.inbox.id)).not.toContain(ids.refund);
    await t.database.db.updateTable('conversations').set({ snoozed_until: Date.now() - 1 }).where('id', '=', ids.refund!).execute();
    expect(await list(s.a.token, s.inbox.id)).toContain(ids.refund);
    const th = await ok(t, s.a.token, 'GET', `/api/v1/conversations/${ids.refund}`);
    expect(th.status).toBe('open');
    expect(th.activity.at(-1).data.reason).toBe('snooze_ended');
  });
});

describe('membership', () => {
  it('non-members get 404; admins who are not members view but do not act; team members act', async () => {
    const s = await inboxFixture(t, { access: 'restricted' });
    const outsider = await member(t, s.a, { name: 'Otto Outsider' });
    const admin = await member(t, s.a, { name: 'Adam Admin', role: 'admin' });
    const team = await ok(t, s.a.token, 'POST', '/api/v1/teams', { name: `Support team ${uniq()}` });
    const insider = await member(t, s.a, { name: 'Ina Insider', teamIds: [team.id] });
    const viewer = await member(t, s.a, { name: 'Vic Viewonly', seat: 'view_only' });
    await ok(t, s.a.token, 'POST', `/api/v1/inboxes/${s.inbox.id}/members`, { teamId: team.id });
    await ok(t, s.a.token, 'POST', `/api/v1/inboxes/${s.inbox.id}/members`, { userId: viewer.user.id });
    const id = await deliver(t, s.conn, rawMail({ subject: 'Restricted' }));

    // The restricted inbox itself is hidden from outsiders, listed for members and admins.
    expect((await t.api(outsider.token, 'GET', `/api/v1/inboxes/${s.inbox.id}`)).statusCode).toBe(404);
    expect((await t.api(outsider.token, 'GET', '/api/v1/inboxes')).json().inboxes.map((i: { id: string }) => i.id)).not.toContain(s.inbox.id);
    expect((await t.api(insider.token, 'GET', '/api/v1/inboxes')).json().inboxes.map((i: { id: string }) => i.id)).toContain(s.inbox.id);
    expect((await t.api(admin.token, 'GET', `/api/v1/inboxes/${s.inbox.id}`)).statusCode).toBe(200);

    for (const [method, url, body] of [
      ['GET', `/api/v1/conversations/${id}`],
      ['GET', `/api/v1/inboxes/${s.inbox.id}/conversations`],
      ['GET', `/api/v1/inboxes/${s.inbox.id}/events`],
      ['POST', `/api/v1/conversations/${id}/replies`, { mode: 'reply', text: 'hi' }],
      ['POST', `/api/v1/conversations/${id}/comments`, { body: 'hi' }],
      ['POST', `/api/v1/conversations/${id}/assign`, { assigneeId: null }],
      ['POST', `/api/v1/conversations/${id}/status`, { status: 'closed' }],
      ['POST', `/api/v1/conversations/${id}/presence`, { activity: 'viewing' }],
    ] as Array<[string, string, unknown?]>) {
      const r = await t.api(outsider.token, method, url, body);
      expect(r.statusCode, `${method} ${url}`).toBe(404);
      expect(r.json().error.code).toBe('not_found');
    }

    const seen = await ok(t, admin.token, 'GET', `/api/v1/conversations/${id}`);
    expect(seen.access).toBe('view');
    expect(await list(admin.token, s.inbox.id)).toEqual([id]);
    for (const [url, body] of [
      [`/api/v1/conversations/${id}/assign`, { assigneeId: admin.user.id }],
      [`/api/v1/conversations/${id}/comments`, { body: 'hello' }],
      [`/api/v1/conversations/${id}/status`, { status: 'closed' }],
      [`/api/v1/conversations/${id}/replies`, { mode: 'reply', text: 'hi' }],
    ] as Array<[string, unknown]>) {
      const r = await t.api(admin.token, 'POST', url, body);
      expect(r.statusCode, url).toBe(403);
      expect(r.json().error.message).toMatch(/only its members/);
    }
    expect((await t.api(viewer.token, 'POST', `/api/v1/conversations/${id}/comments`, { body: 'x' })).statusCode).toBe(403);
    expect((await ok(t, viewer.token, 'GET', `/api/v1/conversations/${id}`)).access).toBe('view');

    expect((await ok(t, insider.token, 'GET', `/api/v1/conversations/${id}`)).access).toBe('act');
    const assigned = await ok(t, insider.token, 'POST', `/api/v1/conversations/${id}/assign`, { assigneeId: insider.user.id });
    expect(assigned.assignee).toMatchObject({ id: insider.user.id });
    // Assigning to someone who cannot act in the inbox is refused with a reason.
    const r1 = await t.api(insider.token, 'POST', `/api/v1/conversations/${id}/assign`, { assigneeId: outsider.user.id });
    expect(r1.json().error).toMatchObject({ code: 'assignee_not_member' });
    const r2 = await t.api(insider.token, 'POST', `/api/v1/conversations/${id}/assign`, { assigneeId: admin.user.id });
    expect(r2.json().error.message).toMatch(/can only view/);

    // Removing the team from the inbox: its members lose sight, and their open conversations are unassigned.
    await ok(t, s.a.token, 'DELETE', `/api/v1/inboxes/${s.inbox.id}/members/${team.id}`);
    expect((await t.api(insider.token, 'GET', `/api/v1/conversations/${id}`)).statusCode).toBe(404);
    expect((await conversationRow(t, id)).assignee_id).toBeNull();
    const members = await ok(t, s.a.token, 'GET', `/api/v1/inboxes/${s.inbox.id}/members`);
    expect(members).toMatchObject({ access: 'restricted', members: [{ type: 'user', id: viewer.user.id, name: 'Vic Viewonly', state: 'active' }] });
    // Only admins with account access change members.
    expect((await t.api(viewer.token, 'POST', `/api/v1/inboxes/${s.inbox.id}/members`, { userId: outsider.user.id })).statusCode).toBe(403);
  });
});

describe('acting on conversations', () => {
  it('assign, status (with snooze validation), move, comments with mentions (never sent)', async () => {
    const s = await inboxFixture(t);
    const ana = await member(t, s.a, { name: 'Ana' });
    const bob = await member(t, s.a, { name: 'Bob' });
    const id = await deliver(t, s.conn, rawMail({ subject: 'Act on me' }));

    const a1 = await ok(t, ana.token, 'POST', `/api/v1/conversations/${id}/assign`, { assigneeId: bob.user.id });
    expect(a1.assignee.name).toBe('Bob');
    expect((await ok(t, bob.token, 'GET', '/api/v1/notifications')).notifications.map((n: any) => n.kind)).toContain('conversation.assigned');
    expect((await ok(t, ana.token, 'POST', `/api/v1/conversations/${id}/assign`, { assigneeId: null })).assignee).toBeNull();

    expect((await t.api(ana.token, 'POST', `/api/v1/conversations/${id}/status`, { status: 'snoozed' })).json().error.details.field).toBe('snoozedUntil');
    expect((await t.api(ana.token, 'POST', `/api/v1/conversations/${id}/status`, { status: 'snoozed', snoozedUntil: '2001-01-01T00:00:00Z' })).statusCode).toBe(400);
    const snoozed = await ok(t, ana.token, 'POST', `/api/v1/conversations/${id}/status`, { status: 'snoozed', snoozedUntil: '2099-01-01T09:00:00Z' });
    expect(snoozed).toMatchObject({ status: 'snoozed', snoozedUntil: '2099-01-01T09:00:00.000Z' });
    expect((await ok(t, ana.token, 'POST', `/api/v1/conversations/${id}/status`, { status: 'closed' })).status).toBe('closed');

    const c = await ok(t, ana.token, 'POST', `/api/v1/conversations/${id}/comments`, { body: `@${bob.user.id} can you check the refund?`, mentions: [] });
    expect(c).toMatchObject({ kind: 'comment', actor: { id: ana.user.id, name: 'Ana' }, data: { mentions: [{ id: bob.user.id, name: 'Bob' }] } });
    expect((await ok(t, bob.token, 'GET', '/api/v1/notifications')).notifications.map((n: any) => n.kind)).toContain('conversation.mentioned');
    expect(await t.database.db.selectFrom('outbox').select('id').where('conversation_id', '=', id).execute()).toEqual([]);
    const badMention = await t.api(ana.token, 'POST', `/api/v1/conversations/${id}/comments`, { body: 'hey', mentions: ['usr_nobody'] });
    expect(badMention.json().error.code).toBe('invalid_mention');

    // Move: to a restricted inbox where Bob is not a member -> unassigned there.
    await ok(t, ana.token, 'POST', `/api/v1/conversations/${id}/assign`, { assigneeId: bob.user.id });
    const billing = await ok(t, s.a.token, 'POST', '/api/v1/inboxes', { name: 'Billing', access: 'restricted' });
    await ok(t, s.a.token, 'POST', `/api/v1/inboxes/${billing.id}/members`, { userId: ana.user.id });
    const moved = await ok(t, ana.token, 'POST', `/api/v1/conversations/${id}/move`, { inboxId: billing.id });
    expect(moved).toMatchObject({ inboxId: billing.id, assignee: null });
    expect(await list(ana.token, billing.id, 'view=all')).toEqual([id]);
    expect(await list(ana.token, s.inbox.id, 'view=all')).toEqual([]);
    expect((await t.api(bob.token, 'GET', `/api/v1/conversations/${id}`)).statusCode).toBe(404);
    const th = await ok(t, ana.token, 'GET', `/api/v1/conversations/${id}`);
    expect(th.activity.map((x: any) => x.kind)).toEqual(['assignment', 'assignment', 'status', 'status', 'comment', 'assignment', 'move']);
    expect(th.activity.at(-1).data.summary).toBe('Ana moved this from Support to Billing (unassigned: the assignee is not a member there).');
    // A new message in the moved conversation stays in its new inbox.
    const mid = (await t.database.db.selectFrom('messages').select('message_id').where('conversation_id', '=', id).executeTakeFirstOrThrow()).message_id!;
    await deliver(t, s.conn, rawMail({ subject: 'Re: Act on me', inReplyTo: mid }));
    expect(await conversationRow(t, id)).toMatchObject({ inbox_id: billing.id, status: 'open' });
  });
});

describe('replies (queued in the outbox)', () => {
  it('reply-all from the team address with the sender name, signature and threading headers; assigns the replier', async () => {
    const s = await inboxFixture(t);
    await t.database.db.updateTable('connections').set({ sender_name_mode: 'agent_at_inbox', signature: '{agent_first_name}\n{inbox_name} at {company_name}' }).where('id', '=', s.conn.id).execute();
    await t.database.db.updateTable('accounts').set({ name: 'Acme' }).where('id', '=', s.a.accountId).execute();
    const ana = await member(t, s.a, { name: 'Ana Alves' });
    const first = `q-${uniq()}@example.org`;
    const id = await deliver(t, s.conn, rawMail({ id: first, subject: 'Broken widget', to: `Support <${s.conn.address}>`, cc: `Dan <dan@example.org>, ${s.conn.address.toUpperCase()}`, body: 'It broke.' }));
    const sent = await ok(t, ana.token, 'POST', `/api/v1/conversations/${id}/replies`, { mode: 'reply_all', text: 'We are on it.' });
    expect(sent).toMatchObject({ from: { name: 'Ana at Support', address: s.conn.address }, to: [{ name: 'Carla Customer', address: 'carla@example.org' }], cc: [{ name: 'Dan', address: 'dan@example.org' }], subject: 'Re: Broken widget' });
    expect(sent.conversation.assignee).toMatchObject({ id: ana.user.id });
    const row = await t.database.db.selectFrom('outbox').selectAll().where('id', '=', sent.outboxId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ state: 'queued', conversation_id: id, connection_id: s.conn.id, user_id: ana.user.id });
    const mail = await parseMessage(await ingestorOf(t).blobs.get(row.raw_sha256));
    expect(mail.from).toEqual({ name: 'Ana at Support', address: s.conn.address });
    expect(mail.inReplyTo).toBe(first);
    expect(mail.references).toEqual([first]);
    expect(mail.text).toContain('We are on it.\n\n-- \nAna\nSupport at Acme\n\nOn ');
    expect(mail.text).toContain('> It broke.');
    const th = await ok(t, ana.token, 'GET', `/api/v1/conversations/${id}`);
    expect(th.outgoing).toMatchObject([{ id: sent.outboxId, state: 'queued', mode: 'reply_all' }]);
    expect(th.activity.at(-1).data).toMatchObject({ by: 'replied', summary: 'Ana Alves replied, so the conversation is now assigned to them.' });
    // A second reply by someone else does not take the conversation away.
    const bob = await member(t, s.a, { name: 'Bob' });
    const again = await ok(t, bob.token, 'POST', `/api/v1/conversations/${id}/replies`, { mode: 'reply', text: 'Also...' });
    expect(again.conversation.assignee.id).toBe(ana.user.id);
    // Forwarding needs recipients; compose starts a new conversation assigned to its author.
    expect((await t.api(ana.token, 'POST', `/api/v1/conversations/${id}/replies`, { mode: 'forward', text: 'FYI' })).json().error.details.field).toBe('to');
    const fwd = await ok(t, ana.token, 'POST', `/api/v1/conversations/${id}/replies`, { mode: 'forward', text: 'FYI', to: [{ address: 'expert@example.com' }] });
    expect(fwd.subject).toBe('Fwd: Broken widget');
    const composed = await t.api(ana.token, 'POST', `/api/v1/inboxes/${s.inbox.id}/conversations`, { to: [{ address: 'lead@example.com', name: 'Lee' }], subject: 'Welcome', text: 'Hello Lee' });
    expect(composed.statusCode, composed.body).toBe(201);
    expect(composed.json().conversation).toMatchObject({ subject: 'Welcome', status: 'open', assignee: { id: ana.user.id }, messageCount: 0 });
    const bad = await t.api(ana.token, 'POST', `/api/v1/inboxes/${s.inbox.id}/conversations`, { to: [{ address: 'not an address' }], subject: 'x', text: 'y' });
    expect(bad.statusCode).toBe(400);
  });
});

describe('live updates', () => {
  it('server-sent events carry new conversations, assignments and presence; presence lists other viewers', async () => {
    const s = await inboxFixture(t);
    const ana = await member(t, s.a, { name: 'Ana' });
    const bob = await member(t, s.a, { name: 'Bob' });
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const events: any[] = [];
    let buffer = '';
    const req = http.get(`${address}/api/v1/inboxes/${s.inbox.id}/events`, { headers: { authorization: `Bearer ${ana.token}` } });
    const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
      req.on('response', resolve);
      req.on('error', reject);
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      buffer += chunk;
      let i: number;
      while ((i = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        const data = block.split('\n').find((l) => l.startsWith('data: '));
        if (data) events.push(JSON.parse(data.slice(6)));
      }
    });
    const waitFor = async (pred: (e: any) => boolean) => {
      for (let k = 0; k < 100; k++) {
        const e = events.find(pred);
        if (e) return e;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no such event; got ${JSON.stringify(events.map((e) => e.type))}`);
    };
    try {
      const id = await deliver(t, s.conn, rawMail({ subject: 'Live!' }));
      expect(await waitFor((e) => e.type === 'conversation.created' && e.conversationId === id)).toMatchObject({ inboxId: s.inbox.id, data: { status: 'open' } });
      await waitFor((e) => e.type === 'message.created' && e.conversationId === id);
      await ok(t, bob.token, 'POST', `/api/v1/conversations/${id}/assign`, { assigneeId: bob.user.id });
      expect(await waitFor((e) => e.type === 'conversation.updated' && e.data?.assigneeId === bob.user.id)).toBeTruthy();
      await ok(t, bob.token, 'POST', `/api/v1/conversations/${id}/status`, { status: 'closed' });
      await waitFor((e) => e.type === 'conversation.updated' && e.data?.status === 'closed');

      const hb = await ok(t, bob.token, 'POST', `/api/v1/conversations/${id}/presence`, { activity: 'replying' });
      expect(hb.viewers).toEqual([]);
      expect(await waitFor((e) => e.type === 'presence')).toMatchObject({ conversationId: id, data: { userId: bob.user.id, name: 'Bob', activity: 'replying' } });
      await new Promise((r) => setTimeout(r, 100)); // PostgreSQL: the heartbeat comes back through LISTEN
      expect((await ok(t, ana.token, 'POST', `/api/v1/conversations/${id}/presence`, { activity: 'viewing' })).viewers).toEqual([{ userId: bob.user.id, name: 'Bob', activity: 'replying' }]);
      await new Promise((r) => setTimeout(r, 100));
      expect((await ok(t, bob.token, 'GET', `/api/v1/conversations/${id}`)).viewers).toEqual([{ userId: ana.user.id, name: 'Ana', activity: 'viewing' }]);
      await ok(t, bob.token, 'POST', `/api/v1/conversations/${id}/presence`, { activity: 'left' });
      await new Promise((r) => setTimeout(r, 100));
      expect((await ok(t, ana.token, 'GET', `/api/v1/conversations/${id}`)).viewers).toEqual([]);
    } finally {
      req.destroy();
    }
  });
});

describe('attachments', () => {
  it('lists and downloads attachments of the thread; other hashes are 404', async () => {
    const s = await inboxFixture(t);
    const raw = rawMail({ id: `att-${uniq()}@example.org`, subject: 'Photo', from: 'carla@example.org', body: 'See attached.', attachment: { filename: 'note.txt', content: 'the broken part' } });
    const id = await deliver(t, s.conn, raw);
    const th = await ok(t, s.a.token, 'GET', `/api/v1/conversations/${id}`);
    const att = th.messages[0].attachments[0];
    expect(att).toMatchObject({ filename: 'note.txt', contentType: 'text/plain' });
    const r = await t.api(s.a.token, 'GET', att.url);
    expect(r.statusCode).toBe(200);
    expect(r.body).toContain('the broken part');
    expect(r.headers['content-disposition']).toMatch(/^attachment; filename="note.txt"/);
    expect((await t.api(s.a.token, 'GET', `/api/v1/conversations/${id}/attachments/${'0'.repeat(64)}`)).statusCode).toBe(404);
  });

  it('serves HTML bodies sanitised, with remote images held back and cid images pointed at the download', async () => {
    const s = await inboxFixture(t);
    const raw = [
      'From: carla@example.org',
      'To: support@acme.test',
      'Subject: Pretty mail',
      `Message-ID: <html-${uniq()}@example.org>`,
      'MIME-Version: 1.0',
      'Content-Type: multipart/related; boundary="rr"',
      '',
      '--rr',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<p onclick="steal()">Hello <b>there</b></p><script>alert(1)</script><img src="https://tracker.example/p.gif"><img src="cid:logo@x">',
      '--rr',
      'Content-Type: image/png',
      'Content-ID: <logo@x>',
      'Content-Transfer-Encoding: base64',
      '',
      'iVBORw0KGgo=',
      '--rr--',
      '',
    ].join('\r\n');
    const id = await deliver(t, s.conn, raw);
    const th = await ok(t, s.a.token, 'GET', `/api/v1/conversations/${id}`);
    expect(th.messages[0].hasHtml).toBe(true);
    const h = await ok(t, s.a.token, 'GET', `/api/v1/conversations/${id}/messages/${th.messages[0].id}/html`);
    expect(h.html).toContain('<b>there</b>');
    expect(h.html).not.toMatch(/script|onclick| src="https:\/\/tracker/);
    expect(h.html).toContain('data-blocked-src="https://tracker.example/p.gif"');
    expect(h.blockedRemoteImages).toBe(1);
    expect(h.html).toMatch(new RegExp(`src="/api/v1/conversations/${id}/attachments/[0-9a-f]{64}"`));
  });
});
