/**
 * Imports the real-world corpus (../shared/corpus: real messages from public test suites) through
 * `importMail` into a fresh temporary Mailroom (SQLite, or DATABASE_URL), twice: the first run must store
 * every message (malformed ones flagged, none failed), the second must import nothing new. Prints the
 * figures and writes them to bench/results/corpus.json. CI runs it when the corpus is present.
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
