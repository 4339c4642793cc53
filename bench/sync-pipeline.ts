/**
 * Mail engine benchmark (issue 4), measured in one run on this machine:
 * - parse-only throughput of the parser (worker pool) over the same messages (the baseline);
 * - full pipeline throughput: IMAP fetch from a real Dovecot + parse + blob store + threading + storing
 *   on SQLite, i.e. an initial sync of N messages; and their ratio (goal: at least 60%);
 * - IMAP commands per 1,000 synced messages (goal: 20 or fewer);
 * - peak memory (RSS above the starting point) during the sync.
 * The mailbox is filled by writing Maildir files directly (fast), then Dovecot indexes them.
 */
import { setAllowPrivateHosts } from '../src/platform/security/host-guard.js';
import pino from 'pino';
import { fillMailbox } from '../test/support/fill-mailbox.js';
import { startDovecot } from '../test/harness/dovecot.js';
import { createTestApp } from '../test/support/app.js';
import { insertConnection } from '../test/support/connections.js';
import { createIngestor } from '../src/app/engine.js';
import { openImap, syncConnectionOnce, DEFAULT_SYNC_OPTIONS } from '../src/mail/imap-sync.js';
import { parseMessage } from '../src/mail/parse/index.js';
import type { BenchRow } from './report.js';

export async function benchSyncPipeline(count = Number(process.env.BENCH_SYNC_MESSAGES ?? 10_000)): Promise<BenchRow[]> {
  setAllowPrivateHosts(['127.0.0.1']);
  const dovecot = await startDovecot({ specialFolders: false });
  const t = await createTestApp();
  try {
    const user = 'bench@example.test';
    await dovecot.addUser(user, 'bench-pw');
    const messages = await fillMailbox(dovecot, user, count);

    // Baseline: parse-only, same parser (worker pool), same messages, same run. The parser is warmed up
    // first (a cold worker is slower, which would flatter the pipeline), then measured twice before the
    // pipeline and once after it; the median of the three is the baseline (this shared machine's
    // background load moves a single measurement by a third either way).
    for (let i = 0; i < Math.min(1000, messages.length); i += 250) await Promise.all(messages.slice(i, i + 250).map((m) => parseMessage(m)));
    const parseOnly = async () => {
      const t = performance.now();
      for (let i = 0; i < messages.length; i += 250) await Promise.all(messages.slice(i, i + 250).map((m) => parseMessage(m)));
      return count / ((performance.now() - t) / 1000);
    };
    const parseRates = [await parseOnly(), await parseOnly()];

    const a = await t.account('enterprise');
    const conn = await insertConnection(t, {
      accountId: a.accountId,
      userId: a.adminUserId,
      type: 'team',
      address: user,
      transport: 'imap',
      imap: { host: '127.0.0.1', port: dovecot.imapPort, username: user, password: 'bench-pw' },
      smtp: { host: '127.0.0.1', port: 1, username: user, password: 'bench-pw' },
      syncWindowDays: null,
    });
    const ingestor = createIngestor(t.env);
    // Dovecot indexes the new Maildir on first SELECT: do it before timing.
    const warm = await openImap(t.env, conn);
    await warm.mailboxOpen('INBOX');
    await warm.logout();

    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 50);
    const client = await openImap(t.env, conn);
    const t0 = performance.now();
    const stats = await syncConnectionOnce(t.env, ingestor, conn.id, client, pino({ level: 'silent' }), DEFAULT_SYNC_OPTIONS);
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    await client.logout();
    const pipelineRate = stats.stored / seconds;
    parseRates.push(await parseOnly());
    const parseRate = [...parseRates].sort((x, y) => x - y)[1]!;
    const conversations = await t.database.db.selectFrom('conversations').select((eb) => eb.fn.countAll<number>().as('n')).where('connection_id', '=', conn.id).executeTakeFirstOrThrow();
    if (stats.stored !== count) throw new Error(`sync stored ${stats.stored} of ${count}`);
    return [
      { name: 'sync pipeline (fetch+parse+store+thread), msg/s', figure: Math.round(pipelineRate), baseline: Math.round(parseRate), baselineName: 'parse-only msg/s', ratio: pipelineRate / parseRate, goal: '>= 0.60', ok: pipelineRate / parseRate >= 0.6, note: `${count} messages, ${Number(conversations.n)} conversations; parse-only ${parseRates.map(Math.round).join(', ')} msg/s (2 before, 1 after), the median is the baseline` },
      { name: 'IMAP commands per 1,000 synced messages', figure: Math.round((stats.commands / count) * 1000 * 10) / 10, baseline: null, ratio: null, goal: '<= 20', ok: (stats.commands / count) * 1000 <= 20 },
      { name: `peak memory during a ${count}-message sync, MB above start`, figure: Math.round((peak - rss0) / 1e6), baseline: Math.round(rss0 / 1e6), baselineName: 'RSS at start MB', ratio: null, goal: 'bounded (batches)', ok: true },
    ];
  } finally {
    await t.close();
    await dovecot.stop();
  }
}
