/**
 * Imports the real-world corpus (../shared/corpus: real messages from public test suites) through
 * `importMail` into a fresh temporary Mailroom (SQLite, or DATABASE_URL), twice: the first run must store
 * every message (malformed ones flagged, none failed), the second must import nothing new. Prints the
 * figures and writes them to bench/results/corpus.json. CI runs it when the corpus is present.
 *
 * Threading quality: pairwise precision and recall of the conversations formed for the corpus's real
 * Apache mailing-list messages (ponymail-apache-lists/) against the closure of their References graph
 * (two messages are one thread when a chain of Message-ID / In-Reply-To / References links them, whether or
 * not the linking message is in the corpus).
 *
 *   npm run corpus:import [-- path/to/corpus]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../src/platform/database/database.js';
import { migrateToLatest } from '../src/app/migrate.js';
import { loadConfig } from '../src/app/config.js';
import { makeCommandEnv } from '../src/app/env.js';
import { createAccount } from '../src/features/accounts/commands/createAccount.js';
import { createIngestor } from '../src/app/engine.js';
import { importMail, progressBar } from '../src/features/ingest/import-mail.js';
import { closeDefaultParsePool } from '../src/mail/parse/index.js';
import { newId } from '../src/platform/database/ids.js';

/** The Message-IDs (lower-cased) in the header blocks of the message files under a folder. */
function messageIdsUnder(dir: string): Set<string> {
  const out = new Set<string>();
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const text = fs.readFileSync(path.join(e.parentPath, e.name), 'latin1');
    const head = text.split(/\r?\n\r?\n/, 1)[0]!.replace(/\r?\n[ \t]+/g, ' ');
    const m = head.match(/^message-id:\s*<([^>\s]+)>/im);
    if (m) out.add(m[1]!.toLowerCase());
  }
  return out;
}

/**
 * Pairwise precision/recall of threading over the Apache list messages: truth is the connected components
 * of the graph whose edges join a message to every id it carries or names (valid ids only, `<yes>` links
 * nothing); prediction is the conversation each message was stored in.
 */
async function threadingQuality(env: Awaited<ReturnType<typeof makeCommandEnv>>, connectionId: string, corpus: string) {
  const ids = messageIdsUnder(path.join(corpus, 'ponymail-apache-lists'));
  const rows = await env.db.selectFrom('messages').select(['message_id', 'in_reply_to', 'references', 'conversation_id']).where('connection_id', '=', connectionId).execute();
  const chosen = new Map<string, (typeof rows)[number]>();
  for (const r of rows) if (r.message_id && ids.has(r.message_id) && !chosen.has(r.message_id)) chosen.set(r.message_id, r);
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let p = parent.get(x) ?? x;
    while (p !== (parent.get(p) ?? p)) p = parent.get(p) ?? p;
    parent.set(x, p);
    return p;
  };
  const valid = (id: string) => id.length <= 250 && /^[^\s@<>]+@[^\s@<>]+$/.test(id);
  for (const r of chosen.values()) {
    const refs = [r.in_reply_to, ...(JSON.parse(r.references) as string[])].filter((x): x is string => Boolean(x) && valid(x!));
    for (const ref of refs) {
      const [a, b] = [find(r.message_id!), find(ref)];
      if (a !== b) parent.set(a, b);
    }
  }
  const list = [...chosen.values()];
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < list.length; i++) {
    for (let j = i + 1; j < list.length; j++) {
      const same = list[i]!.conversation_id === list[j]!.conversation_id;
      const truth = find(list[i]!.message_id!) === find(list[j]!.message_id!);
      if (same && truth) tp++;
      else if (same) fp++;
      else if (truth) fn++;
    }
  }
  const round = (x: number) => Math.round(x * 10000) / 10000;
  return {
    messages: list.length,
    threadsTruth: new Set(list.map((r) => find(r.message_id!))).size,
    conversations: new Set(list.map((r) => r.conversation_id)).size,
    precision: round(tp / Math.max(tp + fp, 1)),
    recall: round(tp / Math.max(tp + fn, 1)),
  };
}

const root = path.resolve(process.argv[2] ?? path.join(process.cwd(), '..', 'shared', 'corpus'));
if (!fs.existsSync(root)) {
  console.log(`No corpus at ${root}; nothing to import.`);
  process.exit(0);
}
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-corpus-'));
const schema = process.env.DATABASE_URL ? `corpus_${Date.now().toString(36)}` : undefined;
const config = loadConfig({ ...process.env, DATA_DIR: dataDir });
const database = await openDatabase({ databaseUrl: config.databaseUrl, pgSchema: schema, dataDir });
let exitCode = 0;
try {
  await migrateToLatest(database);
  const env = await makeCommandEnv(database, config);
  const acc = await createAccount(env, { name: 'Corpus', plan: 'enterprise', adminEmail: `corpus-${Date.now()}@example.org`, adminPassword: 'corpus-password' });
  const now = Date.now();
  const inboxId = newId('inb');
  await env.db.insertInto('inboxes').values({ id: inboxId, account_id: acc.accountId, name: 'Corpus', access: 'everyone', settings: '{}', created_at: now, deleted_at: null }).execute();
  const connectionId = newId('con');
  await env.db
    .insertInto('connections')
    .values({
      id: connectionId, account_id: acc.accountId, type: 'team', address: 'corpus@example.org', address_key: 'corpus@example.org', user_id: acc.adminUserId,
      inbox_id: inboxId, transport: 'forwarding', state: 'active', stage: null, stage_started_at: null, progress_done: 0, progress_total: null, failure_count: 0,
      last_error_code: null, last_error_message: null, last_error_at: null, imap_host: null, imap_port: null, imap_tls: null, imap_username: null, smtp_host: null,
      smtp_port: null, smtp_tls: null, smtp_username: null, credentials: null, sent_folder: null, folders: '[]', sync_window_days: null, is_default_from: 0,
      use_for_meetings: 0, forwarding_address: `corpus-${connectionId.slice(-6).toLowerCase()}@example.org`, sender_name_mode: 'inbox', sender_name_custom: null, signature: null,
      send_limit_day: null, send_limit_minute: null, forwarding_test_token: null, forwarding_test_requested_at: null, forwarding_test_sent_at: null, forwarding_test_error: null, forwarding_verified_at: null, created_at: now, updated_at: now, disconnected_at: null, disconnected_by: null,
    })
    .execute();
  const connection = await env.db.selectFrom('connections').selectAll().where('id', '=', connectionId).executeTakeFirstOrThrow();
  const ingestor = createIngestor(env);
  const onProgress = (p: { done: number; total: number | null }) => process.stderr.write(`\r${progressBar(p.done, p.total)}   `);
  const first = await importMail(ingestor, connection, root, { onProgress });
  process.stderr.write('\n');
  const second = await importMail(ingestor, connection, root);
  const kinds = await env.db.selectFrom('messages').select(['classification', (eb) => eb.fn.countAll<number>().as('n')]).where('connection_id', '=', connectionId).groupBy('classification').execute();
  const result = {
    corpus: root,
    database: database.dialect,
    messages: first.messages,
    imported: first.imported,
    duplicatesWithinCorpus: first.duplicates,
    malformedFlagged: first.malformed,
    failed: first.failed,
    conversationsFormed: first.conversationsFormed,
    messagesPerSecond: Math.round(first.messages / Math.max(first.seconds, 0.001)),
    rerunImported: second.imported,
    rerunDuplicates: second.duplicates,
    classification: Object.fromEntries(kinds.map((k) => [k.classification, Number(k.n)])),
    threading: await threadingQuality(env, connectionId, root),
  };
  console.log(JSON.stringify(result, null, 2));
  fs.mkdirSync('bench/results', { recursive: true });
  fs.writeFileSync(`bench/results/corpus-${database.dialect}.json`, `${JSON.stringify(result, null, 2)}\n`);
  if (first.failed > 0) {
    console.error(`FAIL: ${first.failed} messages could not be stored.`);
    exitCode = 1;
  }
  if (first.imported + first.duplicates !== first.messages) {
    console.error('FAIL: imported + duplicates does not add up to the messages read.');
    exitCode = 1;
  }
  if (second.imported !== 0) {
    console.error(`FAIL: the re-run imported ${second.imported} messages again (must be idempotent).`);
    exitCode = 1;
  }
} finally {
  await closeDefaultParsePool();
  await database.close();
  if (schema && process.env.DATABASE_URL) {
    const pg = (await import('pg')).default;
    const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.end();
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
}
process.exit(exitCode);
