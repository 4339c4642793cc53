/**
 * A Mailroom worker process for crash tests: the test starts it, kills it with SIGKILL at a random
 * moment, and starts it again. Modes:
 *   sync <connectionId>      runs the connection's sync until killed (or until everything is stored)
 *   smtp <port>              runs inbound SMTP on the port
 *   outbox <outboxId,...>    sends the listed outbox rows
 * Environment: DATA_DIR (SQLite file and blobs), DATABASE_URL + DATABASE_SCHEMA (PostgreSQL), and the
 * secret key file in DATA_DIR, exactly as the test process uses them.
 */
import pino from 'pino';
import { loadConfig } from '../../src/app/config.js';
import { openDatabase } from '../../src/platform/database/database.js';
import { applyProcessSettings, makeCommandEnv } from '../../src/app/env.js';
import { createIngestor } from '../../src/app/engine.js';
import { runConnectionSync } from '../../src/features/connections/sync-job.js';
import { inboundWiring } from '../../src/app/features.js';
import { startInboundSmtp } from '../../src/mail/inbound-smtp.js';
import { sendOutboxMessage } from '../../src/features/outbox/sender.js';

const [mode, arg] = process.argv.slice(2);
const config = loadConfig();
applyProcessSettings(config);
const database = await openDatabase({ databaseUrl: config.databaseUrl, pgSchema: config.databaseSchema, dataDir: config.dataDir });
const env = await makeCommandEnv(database, config);
const ingestor = createIngestor(env);
const log = pino({ level: 'silent' });

if (mode === 'sync') {
  const signal = new AbortController().signal;
  for (;;) {
    const r = await runConnectionSync(ingestor, { log, signal, workerId: `crash-child-${process.pid}` }, arg!, { sliceMs: 0, idleReissueMs: 1000, pollMs: 1000, leaseMs: 3000 }).catch((e: Error) => e.message);
    process.stdout.write(`pass ${String(r)}\n`);
    const pending = await env.db.selectFrom('folder_states').select('initial_done').where('connection_id', '=', arg!).where('initial_done', '=', 0).executeTakeFirst();
    const any = await env.db.selectFrom('folder_states').select('initial_done').where('connection_id', '=', arg!).executeTakeFirst();
    if (any && !pending) break;
  }
  process.stdout.write('done\n');
  process.exit(0);
} else if (mode === 'smtp') {
  const s = await startInboundSmtp(ingestor, { ...inboundWiring(), port: Number(arg), host: '127.0.0.1', maxMessageBytes: 1_000_000, maxClients: 200, connectionsPerMinute: 100_000, log });
  process.stdout.write(`listening ${s.port}\n`);
} else if (mode === 'outbox') {
  for (const id of arg!.split(',')) {
    const r = await sendOutboxMessage(ingestor, id).catch((e: Error) => `error ${e.message}`);
    process.stdout.write(`${id} ${r}\n`);
  }
  process.stdout.write('done\n');
  process.exit(0);
}
