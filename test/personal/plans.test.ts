/**
 * SQLite plans of the personal feature without planner statistics (a new install during its first sync,
 * before the hourly `optimize`): a personal reply's parents are looked up by (connection_id, message_id) in
 * the user's personal mailboxes (logPersonalMail, loggedByParents), and a user's personal conversations are
 * read by their mailboxes (listPersonalConversations). As joins with connections, both statements read every
 * message, or every conversation, of the database.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { usingPostgres } from '../support/db.js';
import { sqlitePlan } from '../support/plan.js';
import { loggedByParents } from '../../src/features/personal/commands/logPersonalMail.js';
import { personalConversationsQuery } from '../../src/features/personal/commands/getPersonalConversation.js';

describe.skipIf(usingPostgres)('SQLite plans of personal mail, without statistics', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it("a reply's parents: searches the messages index by mailbox and Message-ID", async () => {
    expect((await sql<{ n: number }>`select count(*) as n from sqlite_master where name = 'sqlite_stat1'`.execute(t.env.db)).rows[0]!.n).toBe(0);
    const rows = await sqlitePlan(t.env.db, loggedByParents(t.env.db, { accountId: 'acc_x', userId: 'usr_x', parents: ['<a@example.org>', '<b@example.org>'] }).compile());
    expect(rows).toContain('SEARCH messages USING INDEX messages_connection_msgid_idx (connection_id=? AND message_id=?)');
    expect(rows.filter((d) => /^SCAN messages/.test(d))).toEqual([]);
  });

  it("a user's conversations list: reads their mailboxes' conversations by index, not every conversation", async () => {
    const rows = await sqlitePlan(t.env.db, personalConversationsQuery(t.env.db, { accountId: 'acc_x', userId: 'usr_x', limit: 50 }).compile());
    expect(rows).toContain('SEARCH conversations USING INDEX conversations_connection_idx (connection_id=?)');
    expect(rows.filter((d) => /^SCAN conversations/.test(d))).toEqual([]);
  });
});
