/**
 * The thread view on PostgreSQL reads the conversation, its messages, pending outgoing mail and activity in
 * one statement (JSON arrays, src/features/inbox/commands/getConversation.ts); SQLite reads them in three
 * queries. Both reads of one rich thread (replies, attachments, cc, an auto-reply, pending and failed
 * outgoing mail, comments, assignment, status changes) give the same answer, serialised to the same JSON.
 * Runs in the PostgreSQL pass of the suite (on SQLite there is only the one read).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getConversation } from '../../src/features/inbox/commands/getConversation.js';
import type { Actor } from '../../src/platform/context.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { usingPostgres } from '../support/db.js';
import { deliver, inboxFixture, member, ok, rawMail, uniq } from './support.js';

describe.runIf(usingPostgres)('thread read on PostgreSQL', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers as the three-query read does', async () => {
    const s = await inboxFixture(t);
    const ana = await member(t, s.a, { name: 'Ana' });
    const first = `${uniq()}@example.org`;
    const id = await deliver(t, s.conn, rawMail({ id: first, subject: 'Broken parcel', from: 'Carla <carla@example.org>', cc: 'Dan <dan@example.net>, eve@example.com', body: 'It arrived "broken" \\ café\nline two' }), Date.now() - 60_000);
    const attachment = rawMail({ subject: 'Re: Broken parcel', from: 'carla@example.org', inReplyTo: first, references: `<${first}>`, body: 'Photo attached.', attachment: { filename: 'note.txt', content: 'the broken part' } });
    expect(await deliver(t, s.conn, attachment, Date.now() - 50_000)).toBe(id);
    expect(await deliver(t, s.conn, rawMail({ subject: 'Auto: Re: Broken parcel', inReplyTo: first, references: `<${first}>`, headers: { 'Auto-Submitted': 'auto-replied' }, body: 'I am away.' }), Date.now() - 40_000)).toBe(id);
    await ok(t, s.a.token, 'POST', `/api/v1/conversations/${id}/assign`, { assigneeId: ana.user.id });
    await ok(t, s.a.token, 'POST', `/api/v1/conversations/${id}/comments`, { body: `@Ana please look at this` });
    await ok(t, s.a.token, 'POST', `/api/v1/conversations/${id}/replies`, { mode: 'reply', text: 'Sorry about that.' });
    await ok(t, s.a.token, 'POST', `/api/v1/conversations/${id}/replies`, { mode: 'reply_all', text: 'Replacement on its way.' });
    // One of the outgoing mails failed (the thread lists failed ones too).
    const [queued] = await t.database.db.selectFrom('outbox').select('id').where('conversation_id', '=', id).orderBy('created_at').execute();
    await t.database.db.updateTable('outbox').set({ state: 'failed', last_error: 'mailbox "full" \\ 552' }).where('id', '=', queued!.id).execute();
    await ok(t, s.a.token, 'POST', `/api/v1/conversations/${id}/status`, { status: 'closed' });

    const admin = await t.database.db.selectFrom('users').selectAll().where('id', '=', s.a.adminUserId).executeTakeFirstOrThrow();
    const actor: Actor = { user: admin, accountId: s.a.accountId, plan: 'enterprise' };
    const one = await getConversation(t.env, actor, id);
    const three = await getConversation({ ...t.env, dialect: 'sqlite' }, actor, id);
    expect(one.messages).toHaveLength(3);
    expect(one.messages.some((m) => m.attachments.length === 1 && m.cc.length === 0)).toBe(true);
    expect(one.messages[0]!.cc).toHaveLength(2);
    expect(one.outgoing.map((o) => o.state).sort()).toEqual(['failed', 'queued']);
    expect(one.activity.map((a) => a.kind)).toEqual(expect.arrayContaining(['assignment', 'comment', 'status']));
    expect(one).toEqual(three);
    expect(JSON.stringify(one)).toBe(JSON.stringify(three));
  });
});
