/**
 * Outgoing mail is found by conversation through `outbox_conversation_idx` (migration 038), on both databases:
 * the thread's "not sent yet or failed" list (getConversation) and the merge that moves a conversation's mail
 * to the survivor (outbox, followMergedConversation). Before it, the first walked every pending and failed
 * email of every account (outbox_state_idx) and the second scanned the whole outbox, once per merge.
 */
import { sql, type CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { sqlitePlan } from '../support/plan.js';

describe('outbox by conversation', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
    // An outbox as a busy account's: 3,000 emails, a third failed (they stay), over 300 conversations.
    const states = ['sent', 'sent', 'failed'] as const;
    for (let at = 0; at < 3000; at += 250) {
      const rows = Array.from({ length: 250 }, (_, k) => {
        const i = at + k;
        return { id: `out_${i}`, account_id: `acc_${i % 3}`, connection_id: 'con_x', user_id: 'usr_x', conversation_id: `cnv_${i % 300}`, message_id: `<m${i}@test>`, envelope: '{}', raw_sha256: 'x', state: states[i % 3]!, send_at: i, attempts: 0, appended_to_sent: 0, meta: '{}', created_at: i };
      });
      await t.env.db.insertInto('outbox').values(rows).execute();
    }
    await sql.raw(t.env.dialect === 'postgres' ? 'analyze outbox' : 'analyze').execute(t.env.db);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** The plan's text, one line per node (both databases). */
  async function plan(query: CompiledQuery): Promise<string> {
    if (t.env.dialect !== 'postgres') return (await sqlitePlan(t.env.db, query)).join('\n');
    const rows = (await t.env.db.executeQuery<{ 'QUERY PLAN': string }>({ ...query, sql: `explain ${query.sql}` })).rows;
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  }

  it("a thread's pending and failed mail", async () => {
    const q = t.env.db
      .selectFrom('outbox')
      .select(['id', 'state', 'last_error', 'created_at', 'send_at', 'user_id', 'meta'])
      .where('conversation_id', '=', 'cnv_8')
      .where('state', 'in', ['queued', 'scheduled', 'sending', 'failed', 'uncertain'])
      .orderBy('created_at');
    expect(await plan(q.compile())).toContain('outbox_conversation_idx');
    // cnv_8's ten emails (8, 308, ... 2708) are all failed ones (i % 3 === 2), oldest first.
    expect((await q.execute()).map((r) => r.id)).toEqual(Array.from({ length: 10 }, (_, k) => `out_${8 + 300 * k}`));
  });

  it("a merged conversation's mail moving to the survivor", async () => {
    const q = t.env.db.updateTable('outbox').set({ conversation_id: 'cnv_10' }).where('conversation_id', '=', 'cnv_9').where('account_id', '=', 'acc_0');
    expect(await plan(q.compile())).toContain('outbox_conversation_idx');
  });
});
