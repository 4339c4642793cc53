/**
 * Hostile mail through the real ingest path (issue 8): the corpus of test/support/hostile-mail.ts (2 MB
 * format=flowed body, 5,000 parts, 500-deep nesting, a 25 MB attachment, broken encodings...) is
 * ingested one message per batch on SQLite while the main event loop is watched. The baseline is the
 * same watch over as many ordinary messages in the same run. Goal (issue 8): no event-loop stall over
 * 100 ms, memory bounded. "Own" stall is lateness not explained by waiting for a CPU
 * (test/support/loop-stall.ts); the raw monitorEventLoopDelay max is in the note.
 */
import { createTestApp } from '../test/support/app.js';
import { insertConnection } from '../test/support/connections.js';
import { hostileCorpus, ingestHostile, checkStored, type HostileCase } from '../test/support/hostile-mail.js';
import { sampleMessage } from '../test/support/fill-mailbox.js';
import { createIngestor } from '../src/app/engine.js';
import { ingestBatch } from '../src/features/ingest/ingest.js';
import type { BenchRow } from './report.js';

export async function benchHostileMail(): Promise<BenchRow[]> {
  const t = await createTestApp();
  try {
    const a = await t.account();
    const inbox = (await t.api(a.token, 'POST', '/api/v1/inboxes', { name: 'Support' })).json() as { id: string };
    const conn = await insertConnection(t, { accountId: a.accountId, userId: a.adminUserId, type: 'team', address: 'support@acme.test', inboxId: inbox.id });
    const ingestor = createIngestor(t.env);
    const ingest = (raw: Buffer) => ingestBatch(ingestor, conn, [{ raw, source: 'smtp', direction: 'inbound', receivedAt: Date.now() }]);

    const corpus = hostileCorpus();
    const ordinary: HostileCase[] = corpus.map((_, i) => ({ name: `ordinary-${i}`, about: 'an ordinary message', build: () => sampleMessage(i, 'hostile-baseline'), expect: {} }));
    const base = await ingestHostile(ordinary, ingest);
    const run = await ingestHostile(corpus, ingest);

    const problems: string[] = [];
    for (const r of run.results) {
      const row = await t.database.db.selectFrom('messages').selectAll().where('id', '=', r.messageId).executeTakeFirst();
      if (!row) problems.push(`${r.case.name}: not stored`);
      else problems.push(...checkStored(r.case, row, { length: r.bytes, sha256: r.sha256 }).map((p) => `${r.case.name}: ${p}`));
    }
    if (problems.length) throw new Error(`hostile corpus not stored as expected:\n${problems.join('\n')}`);
    const worst = [...run.results].sort((x, y) => y.maxStallMs - x.maxStallMs)[0]!;
    const mb = (n: number) => Math.round(n / 1e6);
    return [
      {
        name: 'hostile mail: worst main event-loop stall, ms',
        figure: run.stall.ownMax,
        baseline: base.stall.ownMax,
        baselineName: `same count of ordinary messages, ms`,
        ratio: null,
        goal: '<= 100 ms',
        ok: run.stall.ownMax <= 100,
        note: `${corpus.length} messages, ${mb(run.results.reduce((n, r) => n + r.bytes, 0))} MB, worst: ${worst.case.name}; raw monitorEventLoopDelay max ${run.stall.max} ms${run.stall.corrected ? '' : ' (no run-queue correction here)'}`,
      },
      {
        name: 'hostile mail: main event-loop delay p99, ms',
        figure: run.stall.ownP99,
        baseline: base.stall.ownP99,
        baselineName: 'ordinary messages, ms',
        ratio: null,
        goal: 'informational',
        ok: null,
        note: `raw p99 ${run.stall.p99} ms`,
      },
      {
        name: 'hostile mail: peak memory above start, MB (process incl. parse workers)',
        figure: mb(run.rss.peak - run.rss.start),
        baseline: mb(base.rss.peak - base.rss.start),
        baselineName: 'ordinary messages, MB',
        ratio: null,
        goal: 'bounded',
        ok: run.rss.peak - run.rss.start < 1024 * 1024 * 1024,
        note: `RSS at start ${mb(run.rss.start)} MB, at end ${mb(run.rss.end)} MB`,
      },
    ];
  } finally {
    await t.close();
  }
}
