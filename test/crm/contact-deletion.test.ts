/**
 * Deleting a contact leaves nothing pointing at it. References are made by every feature that keeps a
 * contact id, through the real paths (API commands and the ingest pipeline): a team conversation linked
 * by ingest, a logged personal conversation (account rule "log all email with known contacts"), emails
 * written from the contact's record (scheduled and queued) and from another contact's record with it in
 * copy. After the deletion no row of any table holds its id (the audit log excepted: it records the
 * deletion itself), the conversations and emails still exist, and the unsent emails from its record are
 * cancelled with their author told.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../support/app.js';
import { insertConnection } from '../support/connections.js';
import { deliver, ingestorOf, ok, rawMail, uniq } from '../inbox/support.js';
import { ingestBatch } from '../../src/features/ingest/index.js';
import { unlinkStatement } from '../../src/features/ingest/unlink-contact.js';
import { usingPostgres } from '../support/db.js';
import { sqlitePlan } from '../support/plan.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

/** Every row of every table (but the audit log) that mentions `id` anywhere, as "table: row". */
async function rowsMentioning(id: string): Promise<string[]> {
  // Like audit events, domain events (and their webhook deliveries) keep ids only, never personal data; the
  // contact.deleted event is how webhook receivers learn to erase their own copy.
  const idsOnly = ['audit_events', 'events', 'webhook_deliveries', 'webhook_attempts'];
  const tables = (await t.database.db.introspection.getTables()).map((x) => x.name).filter((n) => !n.startsWith('kysely_') && !n.startsWith('message_search_') && !idsOnly.includes(n));
  const found: string[] = [];
  for (const name of tables) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(t.database.db);
    for (const r of rows.rows) {
      const text = JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? String(v) : Buffer.isBuffer(v) ? v.toString('latin1') : v));
      if (text.includes(id)) found.push(`${name}: ${text}`);
    }
  }
  return found;
}

describe('deleting a contact', () => {
  it('clears every reference to it, in every feature, and cancels the unsent email from its record', async () => {
    const a = await t.account('enterprise');
    const domain = `client-${uniq()}.test`;
    const ann = await ok(t, a.token, 'POST', '/api/v1/contacts', { firstName: 'Ann', lastName: 'Lee', emails: [`ann@${domain}`] });
    const bob = await ok(t, a.token, 'POST', '/api/v1/contacts', { firstName: 'Bob', lastName: 'Roe', emails: [`bob@${domain}`] });
    await ok(t, a.token, 'POST', `/api/v1/contacts/${ann.id}/notes`, { text: 'Met at the fair' });

    // Inbox: a team conversation, linked to Ann by the ingest's contact matching.
    const inbox = await ok(t, a.token, 'POST', '/api/v1/inboxes', { name: 'Support' });
    const team = await insertConnection(t, { accountId: a.accountId, userId: a.adminUserId, type: 'team', address: `support-${uniq()}@acme.test`, inboxId: inbox.id });
    const teamConversation = await deliver(t, team, rawMail({ from: `Ann Lee <ann@${domain}>`, to: team.address, subject: 'Where is my order?' }));
    expect((await conversation(teamConversation)).contact_id).toBe(ann.id);

    // Personal: mail from Ann synced into the admin's mailbox, logged under "log all email with known contacts".
    const personal = await insertConnection(t, {
      accountId: a.accountId,
      userId: a.adminUserId,
      type: 'personal',
      address: `ada-${uniq()}@acme.test`,
      imap: { host: '127.0.0.1', port: 1, username: 'ada', password: 'pw' },
      smtp: { host: '127.0.0.1', port: 1, username: 'ada', password: 'pw' },
    });
    await ok(t, a.token, 'PATCH', '/api/v1/account/email-settings', { logRule: 'all_known_contacts' });
    const stored = await ingestBatch(ingestorOf(t), personal, [
      { raw: Buffer.from(rawMail({ from: `Ann Lee <ann@${domain}>`, to: personal.address, subject: 'Lunch next week?' })), source: 'imap', direction: 'inbound', receivedAt: Date.now() },
    ]);
    const personalConversation = (await t.database.db.selectFrom('messages').select('conversation_id').where('id', '=', stored.messageIds[0]!).executeTakeFirstOrThrow()).conversation_id!;
    expect((await conversation(personalConversation)).contact_id).toBe(ann.id);
    expect(await t.database.db.selectFrom('logged_conversations').select('contact_id').where('conversation_id', '=', personalConversation).execute()).toEqual([{ contact_id: ann.id }]);

    // Emails from Ann's record (one scheduled, one queued) and from Bob's with Ann in copy.
    const inAnHour = new Date(Date.now() + 3_600_000).toISOString();
    const scheduled = await ok(t, a.token, 'POST', `/api/v1/contacts/${ann.id}/emails`, { subject: 'Quote', html: '<p>Hi Ann</p>', sendAt: inAnHour });
    const queued = await ok(t, a.token, 'POST', `/api/v1/contacts/${ann.id}/emails`, { subject: 'Now', html: '<p>Hi again</p>' });
    const toBob = await ok(t, a.token, 'POST', `/api/v1/contacts/${bob.id}/emails`, { subject: 'Intro', html: '<p>Hi Bob</p>', cc: [`ann@${domain}`], sendAt: inAnHour });
    expect(scheduled).toMatchObject({ state: 'scheduled', contactId: ann.id, loggedContactIds: [ann.id] });
    expect(queued).toMatchObject({ state: 'queued', contactId: ann.id });
    expect(toBob.loggedContactIds).toEqual(expect.arrayContaining([bob.id, ann.id]));

    expect((await rowsMentioning(ann.id)).length).toBeGreaterThan(0);
    const del = await t.api(a.token, 'DELETE', `/api/v1/contacts/${ann.id}`);
    expect(del.statusCode, del.body).toBeLessThan(300);

    expect(await rowsMentioning(ann.id)).toEqual([]);

    // The conversations stay, unlinked.
    expect(await conversation(teamConversation)).toMatchObject({ contact_id: null, deleted_at: null });
    expect(await conversation(personalConversation)).toMatchObject({ contact_id: null, deleted_at: null });
    // The emails from Ann's record stay for their author, cancelled; the author is told.
    for (const e of [scheduled, queued]) {
      const view = await ok(t, a.token, 'GET', `/api/v1/personal-emails/${e.id}`);
      expect(view).toMatchObject({ contactId: null, state: 'cancelled', logged: false, loggedContactIds: [] });
    }
    const told = await t.database.db.selectFrom('notifications').select(['kind', 'message']).where('user_id', '=', a.adminUserId).where('kind', '=', 'personal_email.cancelled').execute();
    expect(told.map((n) => n.message).sort()).toEqual(['“Now” was not sent: the contact it was written to was deleted.', '“Quote” was not sent: the contact it was written to was deleted.']);
    // Bob's email still goes out, logged to Bob only.
    expect(await ok(t, a.token, 'GET', `/api/v1/personal-emails/${toBob.id}`)).toMatchObject({ contactId: bob.id, state: 'scheduled', logged: true, loggedContactIds: [bob.id] });
    // A cancelled email cannot be replaced any more.
    const replace = await t.api(a.token, 'PUT', `/api/v1/personal-emails/${scheduled.id}`, { subject: 'Quote v2', html: '<p>2</p>' });
    expect(replace.statusCode).toBe(409);
  });
});

const conversation = (id: string) => t.database.db.selectFrom('conversations').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

describe.skipIf(usingPostgres)('SQLite plan of unlinking a deleted contact from its conversations', () => {
  it('searches the linked conversations index, without statistics, instead of scanning every conversation', async () => {
    const plan = await sqlitePlan(t.database.db, unlinkStatement(t.database.db, { accountId: 'acc_x', contactId: 'con_x' }).compile());
    expect(plan).toEqual([expect.stringMatching(/^SEARCH conversations USING INDEX conversations_linked_contact_idx \(contact_id=\?\)$/)]);
  });
});
