/**
 * The events of the catalogue that the features record in the transaction of their change (SQLite, or
 * PostgreSQL with DATABASE_URL): company.*, conversation.snoozed|closed, email.sent (a send confirmed),
 * email.replied (a reply to an email Mailroom sent), email.bounced, email.opened|clicked (coalesced,
 * bots left out). Each is recorded exactly when its change commits: a failure injected inside the
 * change's transaction (when the event's publication job is queued, after the event row is written)
 * rolls back the change and leaves no event.
 *
 * Real peers: a private Dovecot and submission server (test/personal/support.ts), the real ingest path.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandEnv } from '../../src/platform/context.js';
import { ingestBatch } from '../../src/features/ingest/ingest.js';
import { sendOutboxMessage } from '../../src/features/outbox/sender.js';
import { flushTrackingHits } from '../../src/features/personal/routes/tracking.js';
import { processTrackingHits } from '../../src/features/personal/commands/processTrackingHits.js';
import { signTrackingId } from '../../src/platform/security/tracking-signature.js';
import { contact, deliverNow, dsn, rawMail, startWorld, uniq, type World } from '../personal/support.js';
import { deliver as deliverToInbox, inboxFixture, rawMail as teamMail } from '../inbox/support.js';

/**
 * Runs `fn` with the database refusing, by a trigger, the insert of a domain event's publication job: after
 * the event row, inside the same transaction, whichever way the job is written (a Kysely insert, or a
 * batch's multi-row insert).
 */
async function withEventFailure<T>(env: CommandEnv, fn: () => Promise<T>): Promise<T> {
  const db = env.db;
  if (env.dialect === 'postgres') {
    await sql`create or replace function mr_fail_publish() returns trigger language plpgsql as $$ begin if new.kind = 'events.publish' then raise exception 'injected failure'; end if; return new; end $$`.execute(db);
    await sql`create trigger mr_fail_publish before insert on jobs for each row execute function mr_fail_publish()`.execute(db);
  } else {
    await sql`create trigger mr_fail_publish before insert on jobs when new.kind = 'events.publish' begin select raise(abort, 'injected failure'); end`.execute(db);
  }
  try {
    return await fn();
  } finally {
    if (env.dialect === 'postgres') await sql`drop trigger mr_fail_publish on jobs`.execute(db);
    else await sql`drop trigger mr_fail_publish`.execute(db);
  }
}

let w: World;
beforeAll(async () => {
  w = await startWorld();
}, 60_000);
afterAll(async () => {
  await w?.stop();
});

async function eventsOf(accountId: string, types?: string[]) {
  let q = w.t.database.db.selectFrom('events').select(['type', 'subject_type', 'subject_id', 'data']).where('account_id', '=', accountId);
  if (types) q = q.where('type', 'in', types);
  const rows = await q.orderBy('seq').execute();
  return rows.map((r) => ({ type: r.type, subject: `${r.subject_type}:${r.subject_id}`, data: JSON.parse(r.data) as Record<string, any> }));
}
const typesOf = async (accountId: string, types?: string[]) => (await eventsOf(accountId, types)).map((e) => e.type);

describe('company events', () => {
  it('company.created, updated (only on a change), deleted; none when the change rolls back', async () => {
    const a = await w.t.account();
    const domain = `acme-${uniq()}.test`;
    const c = await w.t.api(a.token, 'POST', '/api/v1/companies', { name: 'Acme', domains: [domain] });
    expect(c.statusCode, c.body).toBe(201);
    const id = c.json().id as string;
    expect(await eventsOf(a.accountId)).toEqual([{ type: 'company.created', subject: `company:${id}`, data: { companyId: id, domains: [domain], contactsLinked: 0 } }]);

    expect((await w.t.api(a.token, 'PATCH', `/api/v1/companies/${id}`, { name: 'Acme' })).statusCode).toBe(200); // no change
    expect((await w.t.api(a.token, 'PATCH', `/api/v1/companies/${id}`, { name: 'Acme Inc' })).statusCode).toBe(200);
    // A refused change (the domain is taken) records nothing.
    const other = await w.t.api(a.token, 'POST', '/api/v1/companies', { name: 'Other', domains: [domain] });
    expect(other.statusCode).toBe(409);
    // An injected failure inside the transaction rolls the change and its event back together.
    const failed = await withEventFailure(w.t.env, () => w.t.api(a.token, 'PATCH', `/api/v1/companies/${id}`, { name: 'Never' }));
    expect(failed.statusCode).toBe(500);
    expect((await w.t.api(a.token, 'GET', `/api/v1/companies/${id}`)).json().name).toBe('Acme Inc');
    const failedCreate = await withEventFailure(w.t.env, () => w.t.api(a.token, 'POST', '/api/v1/companies', { name: 'Ghost' }));
    expect(failedCreate.statusCode).toBe(500);
    expect((await w.t.database.db.selectFrom('companies').select('id').where('account_id', '=', a.accountId).where('name', '=', 'Ghost').execute()).length).toBe(0);

    expect((await w.t.api(a.token, 'DELETE', `/api/v1/companies/${id}`)).statusCode).toBe(204);
    const events = await eventsOf(a.accountId);
    expect(events.map((e) => e.type)).toEqual(['company.created', 'company.updated', 'company.deleted']);
    expect(events[1]!.data).toEqual({ companyId: id, changed: ['name'], domainsAdded: [], domainsRemoved: [] });
    expect(events[2]!.data).toEqual({ companyId: id, contactsUnlinked: 0 });
  });
});

describe('conversation.snoozed and conversation.closed', () => {
  it('follow their status_changed; a reopen sends only status_changed; a rolled-back close sends nothing', async () => {
    const s = await inboxFixture(w.t);
    const conversationId = await deliverToInbox(w.t, s.conn, teamMail({ subject: `Order ${uniq()}` }));
    const status = (body: Record<string, unknown>) => w.t.api(s.a.token, 'POST', `/api/v1/conversations/${conversationId}/status`, body);
    const until = new Date(Date.now() + 3_600_000).toISOString();
    expect((await status({ status: 'snoozed', snoozedUntil: until })).statusCode).toBe(200);
    expect((await status({ status: 'open' })).statusCode).toBe(200);
    expect((await withEventFailure(w.t.env, () => status({ status: 'closed' }))).statusCode).toBe(500);
    expect((await w.t.database.db.selectFrom('conversations').select('status').where('id', '=', conversationId).executeTakeFirstOrThrow()).status).toBe('open');
    expect((await status({ status: 'closed' })).statusCode).toBe(200);
    const kinds = ['conversation.status_changed', 'conversation.snoozed', 'conversation.closed'];
    const events = await eventsOf(s.a.accountId, kinds);
    expect(events.map((e) => e.type)).toEqual(['conversation.status_changed', 'conversation.snoozed', 'conversation.status_changed', 'conversation.status_changed', 'conversation.closed']);
    expect(events[1]).toEqual({ type: 'conversation.snoozed', subject: `conversation:${conversationId}`, data: { conversationId, inboxId: s.inbox.id, from: 'open', snoozedUntil: Date.parse(until) } });
    expect(events[4]!.data).toEqual({ conversationId, inboxId: s.inbox.id, from: 'open' });
  });
});

describe('email events', () => {
  const send = async (contactId: string, body: Record<string, unknown>) => {
    const r = await w.t.api(w.seller.token, 'POST', `/api/v1/contacts/${contactId}/emails`, body);
    expect(r.statusCode, r.body).toBe(201);
    return r.json() as { id: string };
  };
  const sellerConnection = () => w.t.database.db.selectFrom('connections').selectAll().where('id', '=', w.seller.connectionId).executeTakeFirstOrThrow();
  const ingestInbound = async (raw: string) => ingestBatch(w.ingestor, await sellerConnection(), [{ raw: Buffer.from(raw), source: 'imap', direction: 'inbound', receivedAt: Date.now() }]);

  let ann: { id: string };
  let annAddress: string;
  let ourMessageId: string;
  let outboxId: string;

  it('email.sent when the send is confirmed, in the conversation of the stored copy; not when that transaction fails', async () => {
    annAddress = `ann-${uniq()}@client.test`;
    ann = await contact(w, { firstName: 'Ann', emails: [annAddress], mailbox: true });
    // The send's confirming transaction fails: no email.sent (the row is left for a person to check).
    const failing = await send(ann.id, { subject: 'First try', html: '<p>Hi</p>' });
    const pe = await w.t.database.db.selectFrom('personal_emails').select('outbox_id').where('id', '=', failing.id).executeTakeFirstOrThrow();
    await expect(withEventFailure(w.t.env, () => sendOutboxMessage(w.ingestor, pe.outbox_id))).rejects.toThrow('injected failure');
    expect(await typesOf(w.accountId, ['email.sent'])).toEqual([]);

    const sent = await send(ann.id, { subject: 'Quote', html: '<p>Hi {{contact.firstName}}</p>' });
    const d = await deliverNow(w, sent.id);
    expect(d.outcome).toBe('sent');
    ourMessageId = d.messageId;
    outboxId = d.outbox.id;
    const message = await w.t.database.db.selectFrom('messages').select(['id', 'conversation_id']).where('outbox_id', '=', outboxId).executeTakeFirstOrThrow();
    const events = await eventsOf(w.accountId, ['email.sent', 'conversation.message.created']);
    expect(events.slice(-2).map((e) => e.type)).toEqual(['conversation.message.created', 'email.sent']);
    expect(events.at(-1)).toEqual({
      type: 'email.sent',
      subject: `conversation:${message.conversation_id}`,
      data: { outboxId, messageId: message.id, conversationId: message.conversation_id, connectionId: w.seller.connectionId, userId: w.seller.userId },
    });
  });

  it('email.replied for a reply to our email (not for an automatic reply, nor other mail); none when ingest rolls back', async () => {
    const reply = (body: string, headers: string[] = []) => rawMail({ from: annAddress, to: w.seller.address, subject: 'Re: Quote', inReplyTo: ourMessageId, references: ourMessageId, body, headers });
    const failed = withEventFailure(w.t.env, () => ingestInbound(reply('Rolled back.')));
    await expect(failed).rejects.toThrow('injected failure');
    expect(await typesOf(w.accountId, ['email.replied'])).toEqual([]);

    const r = await ingestInbound(reply('Looks good.'));
    await ingestInbound(reply('Out of office.', ['Auto-Submitted: auto-replied', 'X-Autoreply: yes']));
    await ingestInbound(rawMail({ from: annAddress, to: w.seller.address, subject: 'Unrelated', body: 'Hello' }));
    const replied = await eventsOf(w.accountId, ['email.replied']);
    expect(replied).toHaveLength(1);
    expect(replied[0]!.data).toMatchObject({ messageId: r.messageIds[0], outboxId, from: annAddress, connectionId: w.seller.connectionId });
    expect(await typesOf(w.accountId, ['email.received'])).toHaveLength(3);
  });

  it('email.bounced for a failure report of our email (not for a delay); none when ingest rolls back', async () => {
    const bounce = dsn({ to: w.seller.address, recipient: annAddress, originalMessageId: ourMessageId });
    await expect(withEventFailure(w.t.env, () => ingestInbound(bounce))).rejects.toThrow('injected failure');
    expect(await typesOf(w.accountId, ['email.bounced'])).toEqual([]);
    const r = await ingestInbound(bounce);
    await ingestInbound(dsn({ to: w.seller.address, recipient: annAddress, originalMessageId: ourMessageId, status: '4.4.1' }).replace('Action: failed', 'Action: delayed'));
    const bounced = await eventsOf(w.accountId, ['email.bounced']);
    expect(bounced).toHaveLength(1);
    expect(bounced[0]!.data).toMatchObject({ messageId: r.messageIds[0], type: 'failure', permanent: true, outboxId, recipients: [{ address: annAddress, status: '5.1.1', action: 'failed' }] });
    expect(await typesOf(w.accountId, ['email.replied'])).toHaveLength(1); // a bounce is not a reply
  });

  it('email.bounced names our email found by a Message-ID without a reply token, once per bounce of a batch', async () => {
    // An outbox entry whose Message-ID carries no token of ours (looked up for the whole batch at once).
    const plain = `plain-${uniq()}@seller.test`;
    await w.t.database.db.updateTable('outbox').set({ message_id: plain }).where('id', '=', outboxId).execute();
    const before = (await eventsOf(w.accountId, ['email.bounced'])).length;
    const conn = await sellerConnection();
    const item = (raw: string) => ({ raw: Buffer.from(raw), source: 'imap' as const, direction: 'inbound' as const, receivedAt: Date.now() });
    const r = await ingestBatch(w.ingestor, conn, [
      item(dsn({ to: w.seller.address, recipient: annAddress, originalMessageId: `<${plain.toUpperCase()}>` })),
      item(dsn({ to: w.seller.address, recipient: `other-${annAddress}`, originalMessageId: `<unknown-${uniq()}@elsewhere.test>` })),
    ]);
    const bounced = (await eventsOf(w.accountId, ['email.bounced'])).slice(before);
    expect(bounced.map((e) => e.data)).toEqual([
      expect.objectContaining({ messageId: r.messageIds[0], outboxId }),
      expect.objectContaining({ messageId: r.messageIds[1], outboxId: null }),
    ]);
  });

  it('email.opened (indicative, coalesced) and email.clicked, without bots; none when the digest rolls back', async () => {
    const r = await w.t.api(w.seller.token, 'POST', `/api/v1/contacts/${ann.id}/emails`, { subject: `Tracked ${uniq()}`, html: '<p><a href="https://e.example/">e</a></p>' });
    expect(r.statusCode, r.body).toBe(201);
    const pe = await w.t.database.db.selectFrom('personal_emails').selectAll().where('id', '=', r.json().id).executeTakeFirstOrThrow();
    await w.t.database.db.updateTable('outbox').set({ state: 'sent', sent_at: Date.now() - 120_000 }).where('id', '=', pe.outbox_id).execute();
    const link = await w.t.database.db.selectFrom('tracking_links').selectAll().where('personal_email_id', '=', pe.id).executeTakeFirstOrThrow();
    await processTrackingHits(w.t.env, w.seller.userId, { settleMs: 0 }); // earlier tests' hits (an implied open)
    const before = (await eventsOf(w.accountId, ['email.opened', 'email.clicked'])).length;
    const secret = w.t.env.secrets.derive('tracking');
    const chrome = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';
    const hit = (url: string, ua = chrome) => w.t.app.inject({ method: 'GET', url, headers: { 'user-agent': ua }, remoteAddress: '203.0.113.9' });
    for (let i = 0; i < 3; i++) await hit(`/t/o/${signTrackingId('open', pe.id, secret)}`);
    await hit(`/t/o/${signTrackingId('open', pe.id, secret)}`, 'Mozilla/5.0 (compatible; Barracuda Sentinel)'); // a scanner: flagged
    await hit(`/t/c/${signTrackingId('click', link.id, secret)}`);
    await flushTrackingHits(w.t.env);

    await expect(withEventFailure(w.t.env, () => processTrackingHits(w.t.env, w.seller.userId, { settleMs: 0 }))).rejects.toThrow('injected failure');
    expect(await eventsOf(w.accountId, ['email.opened', 'email.clicked'])).toHaveLength(before);
    expect((await processTrackingHits(w.t.env, w.seller.userId, { settleMs: 0 })).processed).toBe(5);
    const events = (await eventsOf(w.accountId, ['email.opened', 'email.clicked'])).slice(before);
    expect(events.map((e) => e.type)).toEqual(['email.opened', 'email.clicked']);
    expect(events[0]).toMatchObject({ subject: `personal_email:${pe.id}`, data: { personalEmailId: pe.id, contactId: ann.id, opens: 3, indicative: true, impliedBy: null } });
    expect(events[1]!.data).toMatchObject({ personalEmailId: pe.id, url: 'https://e.example/', clicks: 1 });
    // Processed once: nothing more.
    await processTrackingHits(w.t.env, w.seller.userId, { settleMs: 0 });
    expect((await eventsOf(w.accountId, ['email.opened', 'email.clicked'])).slice(before)).toHaveLength(2);
  });
});
