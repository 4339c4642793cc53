/**
 * Conversation list latency (issue 5): one inbox of 200,000 conversations and 1,000,000 messages on
 * SQLite. The figure is the product's list call (`listConversations`: access check, snooze wake-up
 * check, the list query with its assignee/contact joins and last-message snippet, 50 rows, one filter);
 * the baseline is a plain indexed SELECT of the same 50 rows in the same run. Goal: p99 under 25 ms.
 *
 *   npm run bench -- list
 *   BENCH_LIST_CONVERSATIONS=200000 BENCH_LIST_MESSAGES=1000000 BENCH_LIST_RUNS=400
 *
 * Seeding writes rows directly with prepared statements in large transactions, with the secondary
 * indexes dropped during the load and rebuilt after (the same definitions, read back from the schema).
 * Search documents are not seeded: the measured query does not search.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { openDatabase } from '../src/platform/database/database.js';
import { migrateToLatest } from '../src/app/migrate.js';
import { loadConfig } from '../src/app/config.js';
import { makeCommandEnv } from '../src/app/env.js';
import { createAccount } from '../src/features/accounts/commands/createAccount.js';
import { createInbox } from '../src/features/inbox/commands/createInbox.js';
import { listConversations } from '../src/features/inbox/commands/listConversations.js';
import type { Actor } from '../src/platform/context.js';
import type { BenchRow } from './report.js';

const N_CONV = Number(process.env.BENCH_LIST_CONVERSATIONS ?? 200_000);
const N_MSG = Number(process.env.BENCH_LIST_MESSAGES ?? 1_000_000);
const RUNS = Number(process.env.BENCH_LIST_RUNS ?? 1000);
const GOAL_P99_MS = 25;

function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}
const round = (x: number) => Math.round(x * 1000) / 1000;

/** A deterministic pseudo-random sequence (the same data every run). */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function seed(file: string, p: { accountId: string; inboxId: string; connectionId: string; userIds: string[]; contactIds: string[] }) {
  const db = new SQLite(file);
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  const indexes = db.prepare("select name, sql from sqlite_master where type = 'index' and tbl_name in ('conversations', 'messages') and sql is not null").all() as Array<{ name: string; sql: string }>;
  for (const i of indexes) db.exec(`drop index ${i.name}`);
  const insConv = db.prepare(
    `insert into conversations (id, account_id, kind, inbox_id, connection_id, owner_user_id, subject, base_subject, status, snoozed_until, assignee_id, contact_id, participants, message_count, last_message_at, last_inbound_at, created_at, updated_at, deleted_at)
     values (?, ?, 'team', ?, ?, null, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, null)`,
  );
  const insMsg = db.prepare(
    `insert into messages (id, account_id, connection_id, conversation_id, dedupe_key, direction, source, raw_sha256, size, message_id, in_reply_to, "references", subject, from_address, from_name, "to", cc, reply_to, sent_at, received_at, text_body, html_sha256, snippet, attachments, classification, classification_detail, malformed, outbox_id, created_at)
     values (?, ?, ?, ?, ?, ?, 'smtp', ?, 1200, ?, null, '[]', ?, ?, ?, ?, '[]', '[]', ?, ?, ?, null, ?, '[]', 'normal', '{}', '[]', null, ?)`,
  );
  const rand = rng(5);
  const now = Date.now();
  const year = 365 * 86_400_000;
  const perConv = N_MSG / N_CONV;
  let made = 0;
  const sha = 'a'.repeat(64);
  const batch = db.transaction((from: number, to: number) => {
    for (let c = from; c < to; c++) {
      const id = `cnv_${String(c).padStart(9, '0')}`;
      const r = rand();
      const status = r < 0.3 ? 'open' : r < 0.9 ? 'closed' : r < 0.95 ? 'snoozed' : 'spam';
      const assignee = rand() < 0.3 ? null : p.userIds[Math.floor(rand() * p.userIds.length)]!;
      const contact = rand() < 0.5 ? p.contactIds[Math.floor(rand() * p.contactIds.length)]! : null;
      const customer = `customer${c % 50_000}@example.org`;
      const subject = `Order ${100_000 + c} question`;
      // Spread the messages evenly: conversation c gets floor((c+1)*k) - floor(c*k) of them.
      const n = Math.max(1, Math.floor((c + 1) * perConv) - Math.floor(c * perConv));
      const last = now - Math.floor(rand() * year);
      for (let m = 0; m < n; m++) {
        const at = last - (n - 1 - m) * 3_600_000;
        const inbound = m % 2 === 0;
        const text = inbound ? `Hello, about order ${100_000 + c}: message ${m}. When will it ship? Thanks, customer ${c % 50_000}.` : `Hi, this is support answering message ${m} about order ${100_000 + c}. It ships tomorrow.`;
        insMsg.run(`msg_${String(made).padStart(10, '0')}`, p.accountId, p.connectionId, id, `mid:m${made}@bench`, inbound ? 'inbound' : 'outbound', sha, `m${made}@bench`, subject, inbound ? customer : 'support@acme.test', inbound ? 'Customer' : 'Support', JSON.stringify([{ name: '', address: inbound ? 'support@acme.test' : customer }]), at, at, text, text.slice(0, 200), at);
        made += 1;
      }
      insConv.run(id, p.accountId, p.inboxId, p.connectionId, subject, subject.toLowerCase(), status, status === 'snoozed' ? now + 30 * 86_400_000 : null, assignee, contact, JSON.stringify([customer, 'support@acme.test']), n, last, last - 3_600_000 * (n > 1 ? 1 : 0), last - (n - 1) * 3_600_000, last);
    }
  });
  const t0 = performance.now();
  for (let c = 0; c < N_CONV; c += 10_000) batch(c, Math.min(N_CONV, c + 10_000));
  const loadMs = performance.now() - t0;
  const t1 = performance.now();
  for (const i of indexes) db.exec(i.sql);
  db.exec('analyze');
  const indexMs = performance.now() - t1;
  db.close();
  return { messages: made, loadMs, indexMs };
}

export async function benchConversationList(): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-bench-list-'));
  const database = await openDatabase({ dataDir: dir });
  try {
    await migrateToLatest(database);
    const config = loadConfig({ DATA_DIR: dir, PORT: '0', MAILROOM_SECRET_KEY: crypto.randomBytes(32).toString('base64') });
    const env = await makeCommandEnv(database, config);
    const acc = await createAccount(env, { name: 'Bench Co', plan: 'enterprise', adminEmail: 'admin@bench.example', adminPassword: 'bench-password' });
    const admin = await database.db.selectFrom('users').selectAll().where('id', '=', acc.adminUserId).executeTakeFirstOrThrow();
    const actor: Actor = { user: admin, accountId: acc.accountId, plan: 'enterprise' };
    const inbox = await createInbox(env, actor, { name: 'Support' });
    const now = Date.now();
    const connectionId = 'con_bench';
    await database.db
      .insertInto('connections')
      .values({ id: connectionId, account_id: acc.accountId, type: 'team', address: 'support@acme.test', address_key: 'support@acme.test', user_id: admin.id, inbox_id: inbox.id, transport: 'forwarding', state: 'active', stage: null, stage_started_at: null, progress_done: 0, progress_total: null, failure_count: 0, last_error_code: null, last_error_message: null, last_error_at: null, imap_host: null, imap_port: null, imap_tls: null, imap_username: null, smtp_host: 'smtp.acme.test', smtp_port: 587, smtp_tls: 'starttls', smtp_username: 'support@acme.test', credentials: null, sent_folder: null, folders: '["INBOX"]', sync_window_days: 90, is_default_from: 0, use_for_meetings: 0, forwarding_address: 'support.bench@inbound.test', sender_name_mode: 'agent_at_inbox', sender_name_custom: null, signature: null, send_limit_day: null, send_limit_minute: null, forwarding_test_token: null, forwarding_test_requested_at: null, forwarding_test_sent_at: null, forwarding_test_error: null, forwarding_verified_at: null, created_at: now, updated_at: now, disconnected_at: null, disconnected_by: null })
      .execute();
    const userIds: string[] = [admin.id];
    for (let i = 0; i < 19; i++) {
      const id = `usr_bench_${i}`;
      await database.db.insertInto('users').values({ ...admin, id, email: `agent${i}@bench.example`, email_key: `agent${i}@bench.example`, name: `Agent ${i}`, role: 'member' }).execute();
      userIds.push(id);
    }
    const contactIds: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const id = `con_tact_${i}`;
      await database.db.insertInto('contacts').values({ id, account_id: acc.accountId, first_name: `First${i}`, last_name: `Last${i}`, owner_id: null, company_id: null, source: 'bench', created_at: now, updated_at: now, search_text: '', sort_name: '' }).execute();
      contactIds.push(id);
    }
    await database.close();
    const seeded = seed(path.join(dir, 'mailroom.sqlite'), { accountId: acc.accountId, inboxId: inbox.id, connectionId, userIds, contactIds });

    const db2 = await openDatabase({ dataDir: dir });
    try {
      const env2 = { ...env, db: db2.db };
      const list = () => listConversations(env2, actor, inbox.id, { view: 'open', limit: 50 });
      const plain = () =>
        db2.db.selectFrom('conversations').selectAll().where('inbox_id', '=', inbox.id).where('status', '=', 'open').orderBy('last_message_at', 'desc').orderBy('id', 'desc').limit(50).execute();
      // Same rows?
      const a = (await list()).conversations.map((c) => c.id);
      const b = (await plain()).map((c) => c.id);
      if (a.length !== 50 || a.join() !== b.join()) throw new Error('list and baseline disagree on the 50 rows');
      for (let i = 0; i < 50; i++) {
        await list();
        await plain();
      }
      const tl: number[] = [];
      const tb: number[] = [];
      // Interleaved, so both see the same machine noise.
      for (let i = 0; i < RUNS; i++) {
        let t0 = performance.now();
        await list();
        tl.push(performance.now() - t0);
        t0 = performance.now();
        await plain();
        tb.push(performance.now() - t0);
      }
      // A deep page (cursor after 5,000 rows) and the "mine" view, for the record.
      let cursor: string | null = null;
      for (let p = 0; p < 100; p++) cursor = (await listConversations(env2, actor, inbox.id, { view: 'open', limit: 50, ...(cursor ? { cursor } : {}) })).nextCursor;
      const deep: number[] = [];
      const mine: number[] = [];
      for (let i = 0; i < Math.min(RUNS, 200); i++) {
        let t0 = performance.now();
        await listConversations(env2, actor, inbox.id, { view: 'open', limit: 50, cursor: cursor! });
        deep.push(performance.now() - t0);
        t0 = performance.now();
        await listConversations(env2, actor, inbox.id, { view: 'mine', limit: 50 });
        mine.push(performance.now() - t0);
      }
      for (const arr of [tl, tb, deep, mine]) arr.sort((x, y) => x - y);
      const data = `${N_CONV.toLocaleString('en')} conversations, ${seeded.messages.toLocaleString('en')} messages, SQLite; seeded in ${Math.round(seeded.loadMs / 1000)} s + indexes ${Math.round(seeded.indexMs / 1000)} s; ${RUNS} runs each, interleaved; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} CPUs`;
      const row = (name: string, figure: number, baseline: number, goal: string, ok: boolean | null, note?: string): BenchRow => ({
        name,
        figure: round(figure),
        baseline: round(baseline),
        baselineName: 'plain indexed SELECT of the same 50 rows',
        ratio: Math.round((figure / baseline) * 100) / 100,
        goal,
        ok,
        ...(note ? { note } : {}),
      });
      return [
        row('conversation list p50 ms (50 rows, status=open)', percentile(tl, 50), percentile(tb, 50), 'none', null, data),
        row('conversation list p99 ms (50 rows, status=open)', percentile(tl, 99), percentile(tb, 99), `p99 < ${GOAL_P99_MS} ms`, percentile(tl, 99) < GOAL_P99_MS),
        row('conversation list p99 ms, page 101 by cursor', percentile(deep, 99), percentile(tb, 99), `p99 < ${GOAL_P99_MS} ms`, percentile(deep, 99) < GOAL_P99_MS),
        row('conversation list p99 ms, view=mine', percentile(mine, 99), percentile(tb, 99), `p99 < ${GOAL_P99_MS} ms`, percentile(mine, 99) < GOAL_P99_MS),
      ];
    } finally {
      await db2.close();
    }
  } finally {
    await database.close().catch(() => undefined);
    if (process.env.BENCH_LIST_KEEP === '1') console.error(`kept ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await benchConversationList();
  console.log(JSON.stringify(rows, null, 2));
}
