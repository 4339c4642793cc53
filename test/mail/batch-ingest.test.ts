/**
 * The ingest writer places a whole batch in memory (dedupe, threading, orphans, contact matching) from
 * state loaded once per batch, then writes it with multi-row statements. These tests hold it to the
 * meaning of "one message at a time": random mixtures of threads (replies by In-Reply-To, by References
 * only, by subject only, replies before their parents, resends) are ingested once as ONE batch and once
 * as one batch PER message, on two connections of the same account, and must end up with the same
 * conversations, counts and contacts. Real database (SQLite, or PostgreSQL with DATABASE_URL).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createTestApp, type TestApp } from '../support/app.js';
import { insertConnection } from '../support/connections.js';
import { createIngestor } from '../../src/app/engine.js';
import { ingestBatch, type IngestItem, type Ingestor } from '../../src/features/ingest/ingest.js';
import type { ConnectionsTable } from '../../src/platform/database/schema.js';

let t: TestApp;
let ingestor: Ingestor;
let a: Awaited<ReturnType<TestApp['account']>>;
let run = 0;

beforeAll(async () => {
  t = await createTestApp();
  ingestor = createIngestor(t.env);
  a = await t.account();
  expect((await t.api(a.token, 'POST', '/api/v1/contacts', { firstName: 'Known', lastName: 'Customer', emails: ['known@example.org'] })).statusCode).toBe(201);
});
afterAll(async () => {
  await t?.close();
});

type ReplyKind = 'in_reply_to' | 'references_only' | 'subject_only';
interface Scenario {
  /** Messages per thread, and how each reply points at its parent. */
  threads: Array<{ replies: ReplyKind[]; from: number }>;
  /** Order of arrival: a permutation of all messages (indexes), with some sent twice. */
  order: number[];
  resend: number[];
}

const FROMS = ['known@example.org', 'carla@example.org', 'dan@example.org'];
const BASE = Date.UTC(2026, 10, 20, 9, 0, 0);

function buildMessages(s: Scenario, prefix: string): Array<{ raw: Buffer; at: number; mid: string }> {
  const out: Array<{ raw: Buffer; at: number; mid: string }> = [];
  s.threads.forEach((thread, ti) => {
    const kinds: Array<ReplyKind | 'first'> = ['first', ...thread.replies];
    kinds.forEach((kind, k) => {
      const mid = `${prefix}-t${ti}-m${k}@example.org`;
      const parent = `<${prefix}-t${ti}-m${k - 1}@example.org>`;
      const root = `<${prefix}-t${ti}-m0@example.org>`;
      const at = BASE + ti * 3_600_000 + k * 60_000;
      const headers = [
        `From: Customer <${FROMS[thread.from % FROMS.length]}>`,
        'To: support@acme.test',
        `Subject: ${kind === 'first' ? '' : 'Re: '}Thread ${ti} about order ${ti * 7}`,
        `Message-ID: <${mid}>`,
        ...(kind === 'in_reply_to' ? [`In-Reply-To: ${parent}`, `References: ${root}${k > 1 ? ` ${parent}` : ''}`] : []),
        ...(kind === 'references_only' ? [`References: ${root}${k > 1 ? ` ${parent}` : ''}`] : []),
        `Date: ${new Date(at).toUTCString()}`,
        'Content-Type: text/plain; charset=utf-8',
      ];
      out.push({ raw: Buffer.from(`${headers.join('\r\n')}\r\n\r\nMessage ${k} of thread ${ti}.\r\n`), at, mid: mid.toLowerCase() });
    });
  });
  return out;
}

async function ingestScenario(s: Scenario, mode: 'one_batch' | 'per_message') {
  run += 1;
  const inbox = (await t.api(a.token, 'POST', '/api/v1/inboxes', { name: `Batch ${run}` })).json() as { id: string };
  const conn = (await insertConnection(t, { accountId: a.accountId, userId: a.adminUserId, type: 'team', address: `batch${run}@acme.test`, inboxId: inbox.id })) as ConnectionsTable;
  const messages = buildMessages(s, `r${run}`);
  const items: IngestItem[] = [...s.order, ...s.resend].map((i) => ({ raw: messages[i]!.raw, source: 'smtp', direction: 'inbound', receivedAt: messages[i]!.at + 1000 }));
  let stored = 0;
  let duplicates = 0;
  if (mode === 'one_batch') {
    const r = await ingestBatch(ingestor, conn, items);
    stored += r.stored;
    duplicates += r.duplicates;
  } else {
    for (const item of items) {
      const r = await ingestBatch(ingestor, conn, [item]);
      stored += r.stored;
      duplicates += r.duplicates;
    }
  }
  const rows = await t.database.db.selectFrom('messages').select(['message_id', 'conversation_id']).where('connection_id', '=', conn.id).execute();
  const convs = await t.database.db.selectFrom('conversations').selectAll().where('connection_id', '=', conn.id).execute();
  // Conversations named by the (thread, message) labels of their messages: comparable across runs.
  const label = (mid: string | null) => (mid ?? '').replace(/^r\d+-/, '');
  const byConv = new Map<string, string[]>();
  for (const r of rows) byConv.set(r.conversation_id!, [...(byConv.get(r.conversation_id!) ?? []), label(r.message_id)].sort());
  const live = convs.filter((c) => c.deleted_at === null);
  return {
    stored,
    duplicates,
    partition: [...byConv.values()].map((l) => l.join(' ')).sort(),
    live: live
      .map((c) => ({
        messages: (byConv.get(c.id) ?? []).join(' '),
        count: c.message_count,
        contact: c.contact_id !== null,
        participants: (JSON.parse(c.participants) as string[]).sort().join(' '),
        lastMessageAt: c.last_message_at,
        lastInboundAt: c.last_inbound_at,
      }))
      .sort((x, y) => x.messages.localeCompare(y.messages)),
    emptied: convs.length - live.length,
    countsMatch: live.every((c) => c.message_count === (byConv.get(c.id) ?? []).length),
  };
}

const scenario: fc.Arbitrary<Scenario> = fc
  .array(fc.record({ replies: fc.array(fc.constantFrom<ReplyKind>('in_reply_to', 'references_only', 'subject_only'), { maxLength: 4 }), from: fc.nat(5) }), { minLength: 1, maxLength: 4 })
  .chain((threads) => {
    const n = threads.reduce((sum, th) => sum + 1 + th.replies.length, 0);
    const all = [...Array(n).keys()];
    return fc.record({ threads: fc.constant(threads), order: fc.shuffledSubarray(all, { minLength: n, maxLength: n }), resend: fc.subarray(all, { maxLength: Math.min(3, n) }) });
  });

describe('batch ingest', () => {
  it('a whole batch at once ends exactly like one message at a time', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const once = await ingestScenario(s, 'one_batch');
        const each = await ingestScenario(s, 'per_message');
        expect(once.countsMatch).toBe(true);
        expect(each.countsMatch).toBe(true);
        expect(once).toEqual(each);
      }),
      { numRuns: 25, seed: 20261129 },
    );
  }, 120_000);

  it('a reply stored before its parent, in the same batch, ends in one conversation', async () => {
    const s: Scenario = { threads: [{ replies: ['in_reply_to', 'in_reply_to'], from: 1 }], order: [2, 1, 0], resend: [] };
    const r = await ingestScenario(s, 'one_batch');
    expect(r.partition).toEqual(['t0-m0@example.org t0-m1@example.org t0-m2@example.org']);
    expect(r.live).toHaveLength(1);
    expect(r.live[0]!.count).toBe(3);
  });

  it('a resend in the same batch is a duplicate, not a second message', async () => {
    const s: Scenario = { threads: [{ replies: [], from: 2 }], order: [0], resend: [0] };
    const r = await ingestScenario(s, 'one_batch');
    expect(r).toMatchObject({ stored: 1, duplicates: 1 });
  });

  it('links the conversation to the first participant who is a contact', async () => {
    const s: Scenario = { threads: [{ replies: ['in_reply_to'], from: 0 }, { replies: [], from: 1 }], order: [0, 1, 2], resend: [] };
    const r = await ingestScenario(s, 'one_batch');
    expect(r.live.map((c) => c.contact)).toEqual([true, false]);
  });
});
