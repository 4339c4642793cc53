/**
 * Ingest against notmuch on the real-world corpus (issue 18), SQLite, all in one run:
 *
 *  - import throughput: `mailroom import ../shared/corpus` (the command a user runs, start-up included,
 *    into a fresh DATA_DIR) against `notmuch new` (Debian's notmuch) indexing a copy of the same messages
 *    as a Maildir in a temporary folder (start-up included too). Ratio of messages per second.
 *  - threading: pairwise precision and recall of the conversations Mailroom formed, over every message of
 *    the corpus with a Message-ID, against (1) the closure of the References graph (two messages are one
 *    thread when a chain of Message-ID / In-Reply-To / References links them, whether or not the linking
 *    message is in the corpus; ids that are not ids, like `<yes>`, link nothing) and (2) notmuch's threads
 *    of the same messages.
 *
 * Without ../shared/corpus the rows are skipped (a message on stderr); without notmuch the notmuch rows are
 * reported as not run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { openDatabase } from '../src/platform/database/database.js';
import { migrateToLatest } from '../src/app/migrate.js';
import { loadConfig } from '../src/app/config.js';
import { makeCommandEnv } from '../src/app/env.js';
import { createAccount } from '../src/features/accounts/commands/createAccount.js';
import { readMessages } from '../src/features/ingest/import-mail.js';
import { isThreadingId } from '../src/features/ingest/domain/threading.js';
import { newId } from '../src/platform/database/ids.js';
import type { BenchRow } from './report.js';

const CORPUS = path.resolve('../shared/corpus');
const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Pairwise precision and recall of a predicted partition against a true one, over the keys both give a group. */
export function pairwise(predicted: ReadonlyMap<string, string>, truth: ReadonlyMap<string, string>): { precision: number; recall: number; messages: number; tp: number; fp: number; fn: number } {
  const keys = [...predicted.keys()].filter((k) => truth.has(k));
  // Count pairs through group sizes: same-predicted pairs, same-truth pairs, and pairs in both.
  const pairs = (groups: Map<string, number>) => [...groups.values()].reduce((s, n) => s + (n * (n - 1)) / 2, 0);
  const count = (f: (k: string) => string) => {
    const m = new Map<string, number>();
    for (const k of keys) m.set(f(k), (m.get(f(k)) ?? 0) + 1);
    return m;
  };
  const samePredicted = pairs(count((k) => predicted.get(k)!));
  const sameTruth = pairs(count((k) => truth.get(k)!));
  const tp = pairs(count((k) => `${predicted.get(k)}\n${truth.get(k)}`));
  return { precision: round(samePredicted ? tp / samePredicted : 1), recall: round(sameTruth ? tp / sameTruth : 1), messages: keys.length, tp, fp: samePredicted - tp, fn: sameTruth - tp };
}

/** The References closure: each message id → a representative of its connected component. */
export function referencesClosure(messages: ReadonlyArray<{ messageId: string; parents: readonly string[] }>): Map<string, string> {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let root = x;
    while (parent.has(root) && parent.get(root) !== root) root = parent.get(root)!;
    let y = x;
    while (y !== root) {
      const next = parent.get(y) ?? root;
      parent.set(y, root);
      y = next;
    }
    return root;
  };
  for (const m of messages) {
    for (const p of m.parents) {
      if (!isThreadingId(p)) continue;
      const [a, b] = [find(m.messageId), find(p)];
      if (a !== b) parent.set(a, b);
    }
  }
  return new Map(messages.map((m) => [m.messageId, find(m.messageId)]));
}

function notmuchVersion(): string | null {
  const r = spawnSync('notmuch', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function wall(cmd: string, args: string[], env: NodeJS.ProcessEnv): { seconds: number; status: number | null; stderr: string; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 1 << 30 });
  return { seconds: (performance.now() - t0) / 1000, status: r.status, stderr: r.stderr ?? '', stdout: r.stdout ?? '' };
}

/** notmuch's threads: Message-ID (lower-cased) → thread id, from `notmuch show --format=json`. */
function notmuchThreads(env: NodeJS.ProcessEnv): Map<string, string> {
  const r = spawnSync('notmuch', ['show', '--format=json', '--body=false', '--entire-thread=true', '*'], { env, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`notmuch show failed: ${r.stderr}`);
  const out = new Map<string, string>();
  type Node = [{ id: string } | null, Node[]];
  (JSON.parse(r.stdout) as Node[][]).forEach((thread, i) => {
    const walk = (nodes: Node[]) => {
      for (const [msg, replies] of nodes) {
        if (msg?.id && !out.has(msg.id.toLowerCase())) out.set(msg.id.toLowerCase(), `t${i}`);
        walk(replies);
      }
    };
    walk(thread);
  });
  return out;
}

export async function benchIngestThreading(): Promise<BenchRow[]> {
  if (!fs.existsSync(CORPUS)) {
    process.stderr.write(`  (no ${CORPUS}: import throughput and threading rows not run)\n`);
    return [];
  }
  const rows: BenchRow[] = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-threading-'));
  try {
    // The same messages as Mailroom reads them, one file each in a Maildir, for notmuch.
    const maildir = path.join(tmp, 'maildir');
    for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(maildir, sub), { recursive: true });
    let files = 0;
    for await (const { raw } of readMessages(CORPUS)) {
      files += 1;
      fs.writeFileSync(path.join(maildir, 'cur', `${String(files).padStart(6, '0')}.bench:2,S`), raw);
    }

    // Mailroom: a fresh DATA_DIR with an account and a team connection, then the import command.
    const dataDir = path.join(tmp, 'data');
    fs.mkdirSync(dataDir);
    const baseEnv: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir };
    delete baseEnv.DATABASE_URL;
    const connectionId = await prepareConnection(baseEnv);
    const mr = wall(process.execPath, ['bin/mailroom.js', 'import', CORPUS, '--connection', connectionId], baseEnv);
    if (mr.status !== 0) throw new Error(`mailroom import failed (${mr.status}): ${mr.stderr.slice(-500)}`);
    const summary = JSON.parse(mr.stdout) as { messages: number; imported: number; seconds: number };
    const conversations = await storedConversations(baseEnv, connectionId);

    // Closure of the References graph over the stored messages (one per Message-ID).
    const closure = referencesClosure([...conversations.values()].map((m) => ({ messageId: m.messageId, parents: m.parents })));
    const predicted = new Map([...conversations.values()].map((m) => [m.messageId, m.conversationId]));
    const vsClosure = pairwise(predicted, closure);
    const goal = '>= 0.995';
    rows.push({
      name: 'threading precision vs References closure (shared corpus, SQLite)',
      figure: vsClosure.precision,
      baseline: null,
      ratio: null,
      goal,
      ok: vsClosure.precision >= 0.995,
      note: `${vsClosure.messages} messages with a Message-ID, ${new Set(closure.values()).size} threads, ${new Set(predicted.values()).size} conversations; ${vsClosure.fp} pairs joined that the closure keeps apart`,
    });
    rows.push({ name: 'threading recall vs References closure (shared corpus, SQLite)', figure: vsClosure.recall, baseline: null, ratio: null, goal, ok: vsClosure.recall >= 0.995, note: `${vsClosure.fn} linked pairs kept apart` });

    const version = notmuchVersion();
    if (!version) {
      const note = 'notmuch is not installed (scripts/install-test-deps.sh installs it)';
      rows.push({ name: 'import throughput ratio to notmuch new: not run', figure: 0, baseline: null, ratio: null, goal: '>= 1.0', ok: false, note });
      rows.push({ name: 'threading precision/recall vs notmuch threads: not run', figure: 0, baseline: null, ratio: null, goal, ok: false, note });
      return rows;
    }
    const config = path.join(tmp, 'notmuch-config');
    fs.writeFileSync(config, `[database]\npath=${maildir}\n[user]\nname=Bench\nprimary_email=bench@example.org\n[new]\ntags=inbox;\nignore=\n[search]\nexclude_tags=\n[maildir]\nsynchronize_flags=false\n`);
    const nmEnv: NodeJS.ProcessEnv = { ...process.env, NOTMUCH_CONFIG: config, HOME: tmp };
    const nm = wall('notmuch', ['new', '--quiet'], nmEnv);
    if (nm.status !== 0) throw new Error(`notmuch new failed (${nm.status}): ${nm.stderr.slice(-500)}`);
    const mrRate = summary.messages / mr.seconds;
    const nmRate = files / nm.seconds;
    rows.push({
      name: 'import throughput ratio to notmuch new (shared corpus, SQLite, start-up included)',
      figure: Math.round(mrRate),
      baseline: Math.round(nmRate),
      baselineName: 'notmuch new, files/s',
      ratio: round(mrRate / nmRate, 2),
      goal: '>= 1.0',
      ok: mrRate / nmRate >= 1,
      note: `mailroom import ${summary.messages} messages in ${mr.seconds.toFixed(1)} s (${summary.seconds.toFixed(1)} s importing, the rest start-up), notmuch new ${files} files in ${nm.seconds.toFixed(1)} s; ${version}`,
    });
    const vsNotmuch = pairwise(predicted, notmuchThreads(nmEnv));
    rows.push({ name: 'threading precision vs notmuch threads (shared corpus, SQLite)', figure: vsNotmuch.precision, baseline: null, ratio: null, goal, ok: vsNotmuch.precision >= 0.995, note: `${vsNotmuch.messages} messages in both; ${vsNotmuch.fp} pairs joined that notmuch keeps apart` });
    rows.push({ name: 'threading recall vs notmuch threads (shared corpus, SQLite)', figure: vsNotmuch.recall, baseline: null, ratio: null, goal, ok: vsNotmuch.recall >= 0.995, note: `${vsNotmuch.fn} pairs notmuch joins kept apart` });
    return rows;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function withDatabase<T>(env: NodeJS.ProcessEnv, fn: (e: Awaited<ReturnType<typeof makeCommandEnv>>) => Promise<T>): Promise<T> {
  const config = loadConfig(env);
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrateToLatest(database);
    return await fn(await makeCommandEnv(database, config));
  } finally {
    await database.close();
  }
}

/** An account with a team inbox and a forwarding connection in the DATA_DIR's database; its id. */
export function prepareConnection(env: NodeJS.ProcessEnv): Promise<string> {
  return withDatabase(env, async (e) => {
    const acc = await createAccount(e, { name: 'Bench', plan: 'enterprise', adminEmail: 'bench@example.org', adminPassword: 'bench-password' });
    const now = Date.now();
    const inboxId = newId('inb');
    await e.db.insertInto('inboxes').values({ id: inboxId, account_id: acc.accountId, name: 'Corpus', access: 'everyone', settings: '{}', created_at: now, deleted_at: null }).execute();
    const id = newId('con');
    await e.db
      .insertInto('connections')
      .values({
        id, account_id: acc.accountId, type: 'team', address: 'corpus@example.org', address_key: 'corpus@example.org', user_id: acc.adminUserId,
        inbox_id: inboxId, transport: 'forwarding', state: 'active', stage: null, stage_started_at: null, progress_done: 0, progress_total: null, failure_count: 0,
        last_error_code: null, last_error_message: null, last_error_at: null, imap_host: null, imap_port: null, imap_tls: null, imap_username: null, smtp_host: null,
        smtp_port: null, smtp_tls: null, smtp_username: null, credentials: null, sent_folder: null, folders: '[]', sync_window_days: null, is_default_from: 0,
        use_for_meetings: 0, forwarding_address: 'corpus-bench@example.org', sender_name_mode: 'inbox', sender_name_custom: null, signature: null,
        send_limit_day: null, send_limit_minute: null, forwarding_test_token: null, forwarding_test_requested_at: null, forwarding_test_sent_at: null, forwarding_test_error: null, forwarding_verified_at: null, created_at: now, updated_at: now, disconnected_at: null, disconnected_by: null,
      })
      .execute();
    return id;
  });
}

/** Stored messages with a Message-ID (the first stored per id): their conversation and the ids they name. */
function storedConversations(env: NodeJS.ProcessEnv, connectionId: string): Promise<Map<string, { messageId: string; conversationId: string; parents: string[] }>> {
  return withDatabase(env, async (e) => {
    const rows = await e.db.selectFrom('messages').select(['message_id', 'in_reply_to', 'references', 'conversation_id', 'created_at', 'id']).where('connection_id', '=', connectionId).orderBy('created_at').orderBy('id').execute();
    const out = new Map<string, { messageId: string; conversationId: string; parents: string[] }>();
    for (const r of rows) {
      if (!r.message_id || !r.conversation_id || out.has(r.message_id)) continue;
      out.set(r.message_id, { messageId: r.message_id, conversationId: r.conversation_id, parents: [r.in_reply_to, ...(JSON.parse(r.references) as string[])].filter((x): x is string => Boolean(x)) });
    }
    return out;
  });
}
