/**
 * SQLite: a personal reply's parents are looked up by (connection_id, message_id) in the user's personal
 * mailboxes even without planner statistics (a new install during its first sync, before the hourly
 * `optimize`). As a join of messages and connections, the statement scanned every message of the database
 * for each reply (logPersonalMail, loggedByParents).
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { usingPostgres } from '../support/db.js';
import { loggedByParents } from '../../src/features/personal/commands/logPersonalMail.js';

describe.skipIf(usingPostgres)('SQLite plan of the logged conversations of a reply\'s parents', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('searches the messages index by mailbox and Message-ID, without statistics', async () => {
    expect((await sql<{ n: number }>`select count(*) as n from sqlite_master where name = 'sqlite_stat1'`.execute(t.env.db)).rows[0]!.n).toBe(0);
    const q = loggedByParents(t.env.db, { accountId: 'acc_x', userId: 'usr_x', parents: ['<a@example.org>', '<b@example.org>'] }).compile();
    const rows = (await t.env.db.executeQuery<{ detail: string }>({ sql: `explain query plan ${q.sql}`, parameters: q.parameters, query: q.query, queryId: q.queryId })).rows.map((r) => r.detail);
    expect(rows).toContain('SEARCH messages USING INDEX messages_connection_msgid_idx (connection_id=? AND message_id=?)');
    expect(rows.filter((d) => /^SCAN messages/.test(d))).toEqual([]);
  });
});
