/**
 * Starts the parts of Mailroom a process runs: the HTTP API and web app (`web`), background workers
 * (`worker`), inbound SMTP (`smtp`). By default one process runs all of them on the embedded SQLite.
 */
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import type { Database } from '../platform/database/database.js';
import { migrateToLatest } from './migrate.js';
import { buildApp } from './http.js';
import { JobWorker } from '../platform/jobs/worker.js';
import { WEBHOOKS_QUEUE } from '../features/webhooks/index.js';
import type { CommandEnv } from '../platform/context.js';
import { applyProcessSettings, makeCommandEnv, openConfiguredDatabase } from './env.js';
import { bootstrapFirstAccount } from '../features/accounts/commands/bootstrapFirstAccount.js';
import { createIngestor, jobHandlersFor, startInbound } from './engine.js';
import { closeDefaultParsePool } from '../mail/parse/index.js';
import { MailboxSupervisor } from '../features/connections/mailbox-supervisor.js';
import { DEFAULT_SESSION_SETTINGS } from '../features/connections/mailbox-session.js';

export type Role = 'web' | 'worker' | 'smtp';

export interface Running {
  database: Database;
  env: CommandEnv;
  app?: FastifyInstance;
  worker?: JobWorker;
  /** The worker role's mailbox supervisor: every mailbox assigned to this process, held open and listening. */
  mailboxes?: MailboxSupervisor;
  url?: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  roles?: Role[];
  /** Print first-start credentials (default true). */
  announce?: (line: string) => void;
}

export async function startMailroom(config: Config, opts: StartOptions = {}): Promise<Running> {
  const roles = new Set<Role>(opts.roles ?? ['web', 'worker', 'smtp']);
  const log = pino({ level: config.logLevel, redact: ['password', '*.password', 'imapPassword', 'smtpPassword'] });
  const announce = opts.announce ?? ((l: string) => process.stdout.write(`${l}\n`));
  applyProcessSettings(config);
  const database = await openConfiguredDatabase(config);
  log.info({ database: database.describe }, 'database opened');
  const { applied } = await migrateToLatest(database);
  if (applied.length) log.info({ applied }, 'migrations applied');
  const env: CommandEnv = await makeCommandEnv(database, config);

  const first = await bootstrapFirstAccount(env, { adminEmail: config.adminEmail, adminPassword: config.adminPassword });
  if (first) {
    announce('');
    announce('  Mailroom created your first account.');
    announce(`  Sign in at ${config.publicUrl} as ${first.email}${first.password ? ` with password ${first.password}` : ' (password from MAILROOM_ADMIN_PASSWORD)'}`);
    announce(`  API token for scripts: ${first.apiToken}`);
    announce('  These are shown once. Change the password after signing in.');
    announce('');
  }

  const running: Running = {
    database,
    env,
    async stop() {
      await running.app?.close();
      await running.worker?.stop();
      for (const s of stoppers.reverse()) await s();
      await database.close();
    },
  };
  const stoppers: Array<() => Promise<void>> = [];

  const ingestor = createIngestor(env);
  // Every mailbox assigned to a worker (leases) is held open and listening; only active work is limited.
  const m = config.mailboxes;
  const supervisor = roles.has('worker')
    ? new MailboxSupervisor(ingestor, {
        log: log.child({ role: 'mailboxes' }),
        settings: {
          maxMailboxes: m.perWorker,
          workConcurrency: m.syncConcurrency,
          connectConcurrency: m.reconnectConcurrency,
          leaseMs: m.leaseMs,
          session: { ...DEFAULT_SESSION_SETTINGS, pollMs: m.pollMs, timings: { ...DEFAULT_SESSION_SETTINGS.timings, socketMs: m.socketTimeoutMs, idleReissueMs: m.idleReissueMs } },
        },
      })
    : null;
  const jobHandlers = jobHandlersFor(ingestor, { mailboxSupervisor: supervisor });
  stoppers.push(() => closeDefaultParsePool());
  if (roles.has('smtp')) {
    const smtp = await startInbound(ingestor, { port: config.smtpPort, host: config.smtpHost, log: log.child({ role: 'smtp' }), ...config.inbound });
    stoppers.push(() => smtp.close());
    log.info({ port: smtp.port }, 'inbound SMTP is listening');
  }
  if (supervisor) {
    running.worker = new JobWorker({ env, handlers: jobHandlers, log: log.child({ role: 'worker' }), queues: ['default', 'mail'] });
    running.worker.start();
    running.mailboxes = supervisor;
    // `connection.sync` jobs only nudge the supervisor ("sync this one now"): short, a small pool.
    const syncWorker = new JobWorker({ env, handlers: jobHandlers, log: log.child({ role: 'sync' }), queues: ['sync'], concurrency: 4, lockMs: 30_000 });
    // Webhook deliveries wait on other servers: a pool of their own, one job per endpoint being sent to
    // (its pump, src/features/webhooks/delivery.ts), so a hanging endpoint holds one place, not the pool.
    const webhooksWorker = new JobWorker({ env, handlers: jobHandlers, log: log.child({ role: 'webhooks' }), queues: [WEBHOOKS_QUEUE], concurrency: 16, lockMs: 60_000 });
    webhooksWorker.start();
    stoppers.push(() => webhooksWorker.stop());
    // Fan-out queues endpoints' pumps in this process: the delivery worker looks at once instead of at its next poll.
    const queued = env.onJobsQueued;
    env.onJobsQueued = () => {
      queued?.();
      webhooksWorker.poke();
    };
    await supervisor.start();
    syncWorker.start();
    stoppers.push(() => syncWorker.stop());
    stoppers.push(() => supervisor.stop());
  }
  if (roles.has('web')) {
    const app = await buildApp({ database, config, env, logger: { level: config.logLevel } });
    running.app = app;
    const address = await app.listen({ port: config.port, host: config.host });
    running.url = address;
    log.info({ address }, 'Mailroom is listening');
  }
  return running;
}
