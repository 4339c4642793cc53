/**
 * Mail engine benchmark (issue 4), measured in one run on this machine:
 * - parse-only throughput of the parser (worker pool) over the same messages (the baseline);
 * - full pipeline throughput: IMAP fetch from a real Dovecot + parse + blob store + threading + storing
 *   on SQLite, i.e. an initial sync of N messages; and their ratio (goal: at least 60%);
 * - IMAP commands per 1,000 synced messages (goal: 20 or fewer);
 * - peak memory (RSS above the starting point) during the sync.
 * The mailbox is filled by writing Maildir files directly (fast), then Dovecot indexes them.
 */
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { ImapFlow } from 'imapflow';
import { startDovecot } from '../test/harness/dovecot.js';
import { createTestApp } from '../test/support/app.js';
import { insertConnection } from '../test/support/connections.js';
import { createIngestor } from '../src/mail/engine.js';
import { openImap, syncConnectionOnce, DEFAULT_SYNC_OPTIONS } from '../src/mail/imap-sync.js';
import { parseMessage } from '../src/mail/parse/index.js';
import type { BenchRow } from './report.js';

function message(i: number): Buffer {
  const thread = Math.floor(i / 4);
  const reply = i % 4 !== 0;
  const body = `Hello team,\n\nThis is message ${i} about order ${thread}. ${'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(50)}\n\nRegards,\nCustomer ${thread % 300}\n`;
  return Buffer.from(
    [
      `From: Customer ${thread % 300} <customer${thread % 300}@example.org>`,
      'To: support@acme.test',
      `Subject: ${reply ? 'Re: ' : ''}Order ${thread} question`,
      `Message-ID: <bench-${i}@example.org>`,
      ...(reply ? [`In-Reply-To: <bench-${i - 1}@example.org>`, `References: <bench-${thread * 4}@example.org>`] : []),
      `Date: ${new Date(Date.now() - (20_000 - i) * 60_000).toUTCString()}`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      body,
    ].join('\r\n'),
  );
}

export async function benchSyncPipeline(count = Number(process.env.BENCH_SYNC_MESSAGES ?? 10_000)): Promise<BenchRow[]> {
  process.env.MAILROOM_ALLOW_PRIVATE_HOSTS = '127.0.0.1';
  const dovecot = await startDovecot({ specialFolders: false });
  const t = await createTestApp();
  try {
    const user = 'bench@example.test';
    await dovecot.addUser(user, 'bench-pw');
    const cur = path.join(dovecot.maildir(user), 'cur');
    // A first login makes Dovecot create the Maildir, owned by its mail user.
    const first = new ImapFlow(dovecot.imapOptions(user));
    first.on('error', () => {});
    await first.connect();
    await first.mailboxOpen('INBOX');
    await first.logout();
    const messages: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      const m = message(i);
      messages.push(m);
      fs.writeFileSync(path.join(cur, `${1_700_000_000 + i}.M${i}P1.bench,S=${m.length}:2,S`), m);
    }
    const owner = fs.statSync(dovecot.maildir(user));
    const chown = (p: string) => {
      fs.chownSync(p, owner.uid, owner.gid);
      if (fs.statSync(p).isDirectory()) for (const e of fs.readdirSync(p)) chown(path.join(p, e));
    };
    chown(dovecot.maildir(user));

    // Baseline: parse-only, same parser (worker pool), same messages, same run.
    let t0 = performance.now();
    for (let i = 0; i < messages.length; i += 250) await Promise.all(messages.slice(i, i + 250).map((m) => parseMessage(m)));
    const parseRate = count / ((performance.now() - t0) / 1000);

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
    t0 = performance.now();
    const stats = await syncConnectionOnce(t.env, ingestor, conn.id, client, pino({ level: 'silent' }), DEFAULT_SYNC_OPTIONS);
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    await client.logout();
    const pipelineRate = stats.stored / seconds;
    const conversations = await t.database.db.selectFrom('conversations').select((eb) => eb.fn.countAll<number>().as('n')).where('connection_id', '=', conn.id).executeTakeFirstOrThrow();
    if (stats.stored !== count) throw new Error(`sync stored ${stats.stored} of ${count}`);
    return [
      { name: 'sync pipeline (fetch+parse+store+thread), msg/s', figure: Math.round(pipelineRate), baseline: Math.round(parseRate), baselineName: 'parse-only msg/s', ratio: pipelineRate / parseRate, goal: '>= 0.60', ok: pipelineRate / parseRate >= 0.6, note: `${count} messages, ${Number(conversations.n)} conversations` },
      { name: 'IMAP commands per 1,000 synced messages', figure: Math.round((stats.commands / count) * 1000 * 10) / 10, baseline: null, ratio: null, goal: '<= 20', ok: (stats.commands / count) * 1000 <= 20 },
      { name: `peak memory during a ${count}-message sync, MB above start`, figure: Math.round((peak - rss0) / 1e6), baseline: Math.round(rss0 / 1e6), baselineName: 'RSS at start MB', ratio: null, goal: 'bounded (batches)', ok: true },
    ];
  } finally {
    await t.close();
    await dovecot.stop();
  }
}
