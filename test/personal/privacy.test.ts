/**
 * Privacy of personal mail: a personal mailbox's content is visible only to its owner. Another user of
 * the same account (an admin too) gets 404 on every route that could expose it, lists never show it, and
 * contact timelines show logged email only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contact, deliverNow, rawMail, startWorld, syncSeller, timeline, uniq, type World } from './support.js';
import { addUser } from '../crm/helpers.js';

let w: World;
let other: { userId: string; token: string };
const ids = { contact: '', logged: '', unlogged: '', conversation: '', privateConversation: '' };

beforeAll(async () => {
  w = await startWorld();
  other = await addUser(w.t, w.adminToken, { role: 'member' });
  const annAddress = `ann-${uniq()}@client.test`;
  const ann = await contact(w, { firstName: 'Ann', emails: [annAddress] });
  ids.contact = ann.id;
  const logged = await w.t.api(w.seller.token, 'POST', `/api/v1/contacts/${ann.id}/emails`, { subject: 'Logged offer', html: '<p>The <a href="https://x.example/">offer</a></p>' });
  const unlogged = await w.t.api(w.seller.token, 'POST', `/api/v1/contacts/${ann.id}/emails`, { subject: 'Personal matter', html: '<p>Not for the CRM</p>', log: false });
  ids.logged = logged.json().id;
  ids.unlogged = unlogged.json().id;
  const d = await deliverNow(w, ids.logged);
  await deliverNow(w, ids.unlogged);
  await w.dovecot.deliver(w.seller.address, rawMail({ from: annAddress, to: w.seller.address, subject: 'Re: Logged offer', inReplyTo: d.messageId, references: d.messageId, body: 'Secret reply body that only the owner may read in full.' }));
  await w.dovecot.deliver(w.seller.address, rawMail({ from: `friend-${uniq()}@private.test`, to: w.seller.address, subject: 'Dinner on Friday?', body: 'Private.' }));
  await syncSeller(w);
  ids.conversation = (await w.t.database.db.selectFrom('personal_emails').select('conversation_id').where('id', '=', ids.logged).executeTakeFirstOrThrow()).conversation_id!;
  ids.privateConversation = (await w.t.database.db.selectFrom('conversations').select('id').where('subject', '=', 'Dinner on Friday?').executeTakeFirstOrThrow()).id;
}, 60_000);
afterAll(async () => {
  await w?.stop();
});

const body = { subject: 'x', html: 'y' };

describe('personal mail privacy', () => {
  it('the owner sees their emails and conversations', async () => {
    expect((await w.t.api(w.seller.token, 'GET', `/api/v1/personal-emails/${ids.logged}`)).statusCode).toBe(200);
    const conv = await w.t.api(w.seller.token, 'GET', `/api/v1/personal-conversations/${ids.conversation}`);
    expect(conv.statusCode).toBe(200);
    expect(conv.json().messages.map((m: { text: string }) => m.text).join('\n')).toContain('Secret reply body');
    expect((await w.t.api(w.seller.token, 'GET', `/api/v1/personal-conversations/${ids.privateConversation}`)).statusCode).toBe(200);
    // Their list has both, newest activity first.
    const listed = (await w.t.api(w.seller.token, 'GET', '/api/v1/personal-conversations')).json().conversations as Array<{ id: string; lastMessageAt: string }>;
    expect(listed.map((c) => c.id)).toEqual(expect.arrayContaining([ids.conversation, ids.privateConversation]));
    expect(listed.map((c) => c.lastMessageAt)).toEqual([...listed.map((c) => c.lastMessageAt)].sort().reverse());
  });

  it('every personal email route answers 404 to another user, an admin included', async () => {
    const doc = (await w.t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    const checked: string[] = [];
    for (const token of [other.token, w.adminToken]) {
      for (const [path, ops] of Object.entries<Record<string, unknown>>(doc.paths)) {
        const resource = path.split('/')[3];
        const targets = resource === 'personal-emails' ? [ids.logged, ids.unlogged] : resource === 'personal-conversations' ? [ids.conversation, ids.privateConversation] : [];
        if (!path.includes('{id}') || !targets.length) continue;
        for (const method of Object.keys(ops)) {
          for (const id of targets) {
            const url = path.replace('{id}', id);
            const r = await w.t.api(token, method.toUpperCase(), url, method === 'put' ? body : undefined);
            expect(r.statusCode, `${method.toUpperCase()} ${url}: ${r.body}`).toBe(404);
            expect(r.body).not.toContain('Secret');
            checked.push(`${method} ${path}`);
          }
        }
      }
    }
    expect(new Set(checked).size).toBeGreaterThanOrEqual(5);
    // Nothing changed for the owner.
    expect((await w.t.api(w.seller.token, 'GET', `/api/v1/personal-emails/${ids.logged}`)).json().state).toBe('sent');
  });

  it('lists show another user nothing of someone else\'s personal mail', async () => {
    for (const token of [other.token, w.adminToken]) {
      expect((await w.t.api(token, 'GET', '/api/v1/personal-emails')).json().emails).toEqual([]);
      expect((await w.t.api(token, 'GET', '/api/v1/personal-conversations')).json().conversations).toEqual([]);
      expect((await w.t.api(token, 'GET', `/api/v1/personal-emails?contactId=${ids.contact}`)).json().emails).toEqual([]);
    }
  });

  it('no conversation route of the inbox opens, changes or replies in a personal conversation', async () => {
    const doc = (await w.t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    const msg = await w.t.database.db.selectFrom('messages').select(['raw_sha256']).where('conversation_id', '=', ids.conversation).executeTakeFirstOrThrow();
    const example = (schema: any): unknown => {
      const content = schema?.requestBody?.content?.['application/json']?.schema;
      if (!content) return undefined;
      const out: Record<string, unknown> = {};
      for (const name of content.required ?? []) {
        const p = content.properties?.[name] ?? {};
        out[name] = p.enum ? p.enum[0] : p.type === 'integer' || p.type === 'number' ? 1 : p.type === 'boolean' ? true : p.type === 'array' ? [] : p.type === 'object' ? {} : 'privacy@example.org';
      }
      return out;
    };
    let checked = 0;
    for (const token of [other.token, w.adminToken]) {
      for (const [path, ops] of Object.entries<Record<string, unknown>>(doc.paths)) {
        if (!path.startsWith('/api/v1/conversations/{id}')) continue;
        for (const [method, op] of Object.entries(ops)) {
          const url = path.replace('{id}', ids.conversation).replace('{sha256}', msg.raw_sha256);
          const r = await w.t.api(token, method.toUpperCase(), url, example(op));
          expect(r.statusCode, `${method.toUpperCase()} ${url}: ${r.body}`).toBe(404);
          expect(r.body).not.toContain('Secret');
          checked += 1;
        }
      }
    }
    const sent = await w.t.database.db.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '!=', w.seller.userId).executeTakeFirstOrThrow();
    expect(Number(sent.n), 'nobody else queued mail from the personal mailbox').toBe(0);
    if (checked === 0) console.warn('no /conversations/{id} routes in this build: nothing to check');
  });

  it('contact timelines show logged email only, as subject and snippet', async () => {
    const events = await timeline(w, ids.contact, other.token);
    const subjects = events.map((e) => e.data.subject).filter(Boolean);
    expect(subjects).toContain('Logged offer');
    expect(subjects).toContain('Re: Logged offer');
    expect(subjects).not.toContain('Personal matter');
    expect(subjects).not.toContain('Dinner on Friday?');
    for (const e of events) expect(Object.keys(e.data)).not.toContain('text');
  });
});
