/**
 * The hostile mail corpus (test/support/hostile-mail.ts) through the real ingest path (`ingestBatch`:
 * parser worker pool, blob store, threading, classification, inbox hooks) on a real test database
 * (SQLite, or PostgreSQL with DATABASE_URL): every message is stored with its raw bytes kept and the
 * flags it deserves, no parse worker crashes or times out, the main event loop keeps answering
 * (`monitorEventLoopDelay`; the issue's goal is 100 ms, asserted here at 250 ms so a loaded CI
 * machine does not fail it; `npm run bench -- hostile` reports the real p99 and max), and memory
 * stays bounded. A second delivery of the whole corpus stores nothing twice.
 *
 * The stall asserted is the loop delay NOT explained by the main thread waiting for a CPU (see
 * test/support/loop-stall.ts): several test processes share two cores here, and an idle loop is
 * seen hundreds of milliseconds late there. The raw monitorEventLoopDelay figures are printed.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { insertConnection } from '../support/connections.js';
import { checkStored, hostileCorpus, ingestHostile, type HostileRun } from '../support/hostile-mail.js';
import { createIngestor } from '../../src/app/engine.js';
import { ingestBatch, type Ingestor } from '../../src/features/ingest/ingest.js';
import { closeDefaultParsePool, getDefaultParsePool } from '../../src/mail/parse/index.js';
import { displayNameLooksLikeAddress } from '../../src/mail/message/message.js';
import type { Classification } from '../../src/features/ingest/domain/classify.js';

const STALL_LIMIT_MS = 250;
const MB = 1024 * 1024;

const corpus = hostileCorpus();
let t: TestApp;
let ingestor: Ingestor;
let conn: Awaited<ReturnType<typeof insertConnection>>;
let first: HostileRun;
let second: HostileRun;

beforeAll(async () => {
  t = await createTestApp();
  const a = await t.account();
  const inbox = (await t.api(a.token, 'POST', '/api/v1/inboxes', { name: 'Support' })).json();
  conn = await insertConnection(t, { accountId: a.accountId, userId: a.adminUserId, type: 'team', address: 'support@acme.test', inboxId: inbox.id });
  ingestor = createIngestor(t.env);
  await getDefaultParsePool().warm(); // loading the worker's code is not part of the measurement
  const ingest = (raw: Buffer) => ingestBatch(ingestor, conn, [{ raw, source: 'smtp', direction: 'inbound', receivedAt: Date.now() }]);
  first = await ingestHostile(corpus, ingest);
  second = await ingestHostile(corpus, ingest);
}, 300_000);

afterAll(async () => {
  await closeDefaultParsePool();
  await t?.close();
});

const rowOf = (id: string) => t.database.db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const resultOf = (name: string) => first.results.find((r) => r.case.name === name)!;
const describeStalls = (run: HostileRun) =>
  `own stall p99 ${run.stall.ownP99} ms, max ${run.stall.ownMax} ms (monitorEventLoopDelay p99 ${run.stall.p99} ms, max ${run.stall.max} ms); worst messages: ${[...run.results]
    .sort((a, b) => b.maxStallMs - a.maxStallMs)
    .slice(0, 3)
    .map((r) => `${r.case.name} ${r.maxStallMs} ms (raw ${r.rawMaxStallMs})`)
    .join(', ')}`;

describe('hostile mail through ingest', () => {
  it.each(corpus.map((c) => [c.name, c.about]))('%s (%s): stored, raw kept, flagged', async (name) => {
    const r = resultOf(name);
    expect(r.stored, 'stored once').toBe(1);
    const row = await rowOf(r.messageId);
    expect(checkStored(r.case, row, { length: r.bytes, sha256: r.sha256 })).toEqual([]);
    // The raw bytes are in the blob store, byte for byte.
    const blob = await ingestor.blobs.get(row.raw_sha256);
    expect(blob.length).toBe(r.bytes);
    expect(crypto.createHash('sha256').update(blob).digest('hex')).toBe(r.sha256);
    expect(row.conversation_id).toBeTruthy();
  });

  it('no parse worker crashed, timed out or fell back to parsing on the main thread', () => {
    const s = getDefaultParsePool().stats();
    expect({ crashes: s.crashes, timeouts: s.timeouts, inlineFallbacks: s.inlineFallbacks }).toEqual({ crashes: 0, timeouts: 0, inlineFallbacks: 0 });
  });

  it(`the main event loop keeps answering (max delay under ${STALL_LIMIT_MS} ms)`, () => {
    console.log(`hostile corpus: ${describeStalls(first)}; second pass ${describeStalls(second)}`);
    expect(first.stall.ownMax, describeStalls(first)).toBeLessThan(STALL_LIMIT_MS);
    expect(second.stall.ownMax, describeStalls(second)).toBeLessThan(STALL_LIMIT_MS);
  });

  it('memory stays bounded: the peak is well under the corpus held twice over, and a second pass keeps nothing', () => {
    const growth = (first.rss.peak - first.rss.start) / MB;
    const corpusMb = first.results.reduce((n, r) => n + r.bytes, 0) / MB;
    // What the main thread holds after a full garbage collection: the second pass (every message a
    // duplicate) must end holding what the first pass ended with. One that kept what it read would hold
    // the corpus again. Peak RSS depends on the collector's timing (Node 24 peaked +166 MB on a second
    // pass once, -10 MB the run before); the retained figure does not.
    const kept = (second.retained.end - first.retained.end) / MB;
    console.log(
      `hostile corpus (${Math.round(corpusMb)} MB): RSS ${Math.round(first.rss.start / MB)} MB at start, peak +${Math.round(growth)} MB, second pass peak ${Math.round((second.rss.peak - first.rss.peak) / MB)} MB; retained after GC: ${Math.round((first.retained.end - first.retained.start) / MB)} MB after the first pass (its input let go), ${kept >= 0 ? '+' : ''}${kept.toFixed(1)} MB after the second`,
    );
    expect(growth).toBeLessThan(512);
    expect(kept).toBeLessThan(Math.min(16, corpusMb / 4));
  });

  it('a second delivery of the whole corpus stores nothing twice', async () => {
    expect(second.results.every((r) => r.stored === 0 && r.duplicates === 1)).toBe(true);
    expect(second.results.map((r) => r.messageId)).toEqual(first.results.map((r) => r.messageId));
    const n = await t.database.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).where('connection_id', '=', conn.id).executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(corpus.length);
  });

  it('a display name that looks like an address is kept as a name, never as the sender', async () => {
    for (const name of ['from-encoded-address', 'from-encoded-angle', 'from-two-mailboxes']) {
      const row = await rowOf(resultOf(name).messageId);
      expect(row.from_address).not.toMatch(/bank\.example|acme\.test/);
      expect(displayNameLooksLikeAddress({ name: row.from_name ?? '', address: row.from_address ?? '' }), name).toBe(true);
    }
  });

  it('a garbled delivery report is still read as a bounce for the recipient it names clearly', async () => {
    const row = await rowOf(resultOf('dsn-garbage').messageId);
    expect(row.classification).toBe('bounce');
    const detail = JSON.parse(row.classification_detail) as Classification;
    expect(detail.bounce?.recipients.map((r) => r.address)).toContain('gone@customer.example');
    for (const r of detail.bounce!.recipients) expect(r.diagnostic === null || r.diagnostic.length <= 1000).toBe(true);
  });

  it('1,000 recipients are all kept on the message; the conversation keeps a bounded participant list', async () => {
    const row = await rowOf(resultOf('recipients-1000').messageId);
    expect((JSON.parse(row.to) as unknown[]).length).toBe(1000);
    const conv = await t.database.db.selectFrom('conversations').select('participants').where('id', '=', row.conversation_id!).executeTakeFirstOrThrow();
    expect((JSON.parse(conv.participants) as unknown[]).length).toBeLessThanOrEqual(200);
  });
});
