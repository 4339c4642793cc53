/**
 * PostgreSQL plans of the inbox list's prepared statements (issue 20, API under 50 agents): every view's
 * statement settles on its generic plan after PostgreSQL's five custom ones, instead of being planned afresh
 * on every call. With the row limit bound as a parameter PostgreSQL guessed a tenth of the rows for it, the
 * generic plan looked dearer than the custom ones, and the open, unassigned and all views were planned on
 * every call (listConversations.ts, buildList). Runs in the PostgreSQL pass of the suite.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { usingPostgres } from '../support/db.js';
import { deliver, inboxFixture, ok, rawMail, uniq } from './support.js';

describe.runIf(usingPostgres)('inbox list on PostgreSQL', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('reuses the generic plan of each view', async () => {
    const s = await inboxFixture(t);
    for (let i = 0; i < 60; i++) await deliver(t, s.conn, rawMail({ subject: `Question ${i} ${uniq()}`, from: `c${i}@example.org`, body: `Body ${i}` }), Date.now() - (60 - i) * 60_000);
    await sql`analyze`.execute(t.database.db);
    const views = ['open', 'unassigned', 'all', 'mine'];
    // Sequential calls: the pool hands the connection released last to the next query, so they all run on one.
    // Pages of one row: a guessed tenth of the inbox's 60 rows costs more than the two read.
    for (let round = 0; round < 8; round++) {
      for (const view of views) expect((await ok(t, s.a.token, 'GET', `/api/v1/inboxes/${s.inbox.id}/conversations?view=${view}&limit=1`)).conversations.length).toBe(view === 'mine' ? 0 : 1);
    }
    const rows = (
      await sql<{ statement: string; generic_plans: string; custom_plans: string }>`select statement, generic_plans, custom_plans from pg_prepared_statements where statement like ${'%from "conversations"%order by "conversations"."last_message_at" desc%'}`.execute(t.database.db)
    ).rows;
    expect(rows).toHaveLength(views.length);
    for (const r of rows) {
      expect(Number(r.custom_plans), r.statement).toBe(5);
      expect(Number(r.generic_plans), r.statement).toBe(3);
    }
  });

  it('reads the inbox and its page in one statement, the same page as when read apart', async () => {
    const s = await inboxFixture(t);
    for (let i = 0; i < 3; i++) await deliver(t, s.conn, rawMail({ subject: `One trip ${i} ${uniq()}`, from: `d${i}@example.org`, body: `Body ${i}` }), Date.now() - (3 - i) * 60_000);
    const page = await ok(t, s.a.token, 'GET', `/api/v1/inboxes/${s.inbox.id}/conversations?view=all&limit=2`);
    expect(page.conversations.map((c: { subject: string }) => c.subject)).toEqual([expect.stringMatching(/^One trip 2 /), expect.stringMatching(/^One trip 1 /)]);
    const next = await ok(t, s.a.token, 'GET', `/api/v1/inboxes/${s.inbox.id}/conversations?view=all&limit=2&cursor=${encodeURIComponent(page.nextCursor)}`);
    expect(next.conversations.map((c: { subject: string }) => c.subject)).toEqual([expect.stringMatching(/^One trip 0 /)]);
    expect(next.nextCursor).toBeNull();
    // The inbox's own statement (requireInboxForList) is not run by a list: its read is part of the page's.
    const texts = (await sql<{ statement: string }>`select statement from pg_prepared_statements where statement like ${'%next_snooze_end%'}`.execute(t.database.db)).rows.map((r) => r.statement);
    expect(texts.length).toBeGreaterThan(0);
    for (const text of texts) expect(text).toContain('json_agg');
  });
});
