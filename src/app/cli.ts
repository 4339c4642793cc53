#!/usr/bin/env -S npx tsx
/**
 * The `mailroom` command. Run it from a checkout with `npx mailroom <command>`; `--help` on every command.
 */
import { createRequire } from 'node:module';
import type * as Commander from 'commander';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { loadConfig, mailPasswordFromEnv } from './config.js';
import { AppError } from '../platform/errors.js';
import type { Actor, CommandEnv } from '../platform/context.js';
import type { Role } from './runtime.js';
import type { ImportSummary } from '../features/ingest/import-mail.js';

/** V8 flags for `mailroom import` (see there). */
const IMPORT_V8_FLAGS = '--interrupt-budget=405504';

// commander through require(): imported as ESM, Node would lex its CommonJS source at every start.
const { Command, Option } = createRequire(import.meta.url)('commander') as typeof Commander;

// Each command loads only the modules it uses, when it runs: loading all of Mailroom (HTTP server, workers,
// inbound SMTP...) for a one-shot command such as `mailroom import` cost seconds of start-up (issue 18).
const load = {
  env: () => import('./env.js'),
  migrate: () => import('./migrate.js'),
  runtime: () => import('./runtime.js'),
  demo: () => import('./demo.js'),
  createAccount: () => import('../features/accounts/commands/createAccount.js'),
  createUser: () => import('../features/accounts/commands/createUser.js'),
  createApiToken: () => import('../features/accounts/commands/createApiToken.js'),
  connectEmail: () => import('../features/connections/commands/connectEmail.js'),
  disconnectEmail: () => import('../features/connections/commands/disconnectEmail.js'),
  releaseConnection: () => import('../features/connections/commands/releaseConnection.js'),
  connectionQueries: () => import('../features/connections/queries.js'),
  // Not ./engine.js: that loads inbound SMTP and sender authentication (mailauth alone is ~0.7 s of start-up).
  ingest: () => import('../features/ingest/index.js'),
  importMail: () => import('../features/ingest/import-mail.js'),
  readMail: () => import('../features/ingest/read-mail.js'),
  parse: () => import('../mail/parse/index.js'),
  importContacts: () => import('../features/crm/commands/importContacts.js'),
  packs: () => import('../mail/collect-unreferenced-packs.js'),
  backup: () => import('./backup.js'),
  endpoints: () => import('../features/webhooks/commands/endpoints.js'),
  deliveries: () => import('../features/webhooks/commands/deliveries.js'),
};

const program = new Command();
program.name('mailroom').description('Connect personal and team email to your CRM.').version('0.1.0');

async function withEnv<T>(fn: (env: CommandEnv) => Promise<T>): Promise<T> {
  const [{ applyProcessSettings, makeCommandEnv, openConfiguredDatabase }, { migrateToLatest }] = await Promise.all([load.env(), load.migrate()]);
  const config = loadConfig();
  applyProcessSettings(config);
  const database = await openConfiguredDatabase(config);
  try {
    await migrateToLatest(database);
    return await fn(await makeCommandEnv(database, config));
  } finally {
    await database.close();
  }
}

async function actorFor(env: CommandEnv, accountId: string, userEmail?: string): Promise<Actor> {
  const account = await env.db.selectFrom('accounts').selectAll().where('id', '=', accountId).executeTakeFirst();
  if (!account) throw new AppError('not_found', 404, `No account ${accountId}. List accounts with \`mailroom account list\`.`);
  let q = env.db.selectFrom('users').selectAll().where('account_id', '=', accountId).where('state', '=', 'active');
  q = userEmail ? q.where('email_key', '=', userEmail.trim().toLowerCase()) : q.where('role', '=', 'super_admin');
  const user = await q.orderBy('created_at').limit(1).executeTakeFirst();
  if (!user) throw new AppError('not_found', 404, userEmail ? `No active user ${userEmail} in account ${accountId}.` : `Account ${accountId} has no active super admin.`);
  return { user, accountId, plan: account.plan };
}

const print = (v: unknown) => process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);

program
  .command('serve')
  .description('Run Mailroom: HTTP API and web app, background workers and inbound SMTP (all by default).')
  .addOption(new Option('--role <roles...>', 'only these parts (for scaling out on PostgreSQL)').choices(['web', 'worker', 'smtp']))
  .option('--demo', 'seed a demo account with users, teams, contacts and conversations (idempotent)')
  .action(async (opts: { role?: Role[]; demo?: boolean }) => {
    const config = loadConfig();
    const { startMailroom } = await load.runtime();
    const running = await startMailroom(config, { roles: opts.role });
    if (opts.demo) {
      const { seedDemo } = await load.demo();
      const demo = await seedDemo(running.env);
      if (demo.created) {
        process.stdout.write(`\n  Demo account ready. Sign in as ${demo.adminEmail} / ${demo.password}\n\n`);
      } else {
        process.stdout.write(`\n  Demo account already present. Sign in as ${demo.adminEmail} / ${demo.password}\n\n`);
      }
    }
    const stop = async () => {
      await running.stop();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program
  .command('migrate')
  .description('Apply database migrations (serve does this too).')
  .action(async () => {
    const [{ openConfiguredDatabase }, { migrateToLatest }] = await Promise.all([load.env(), load.migrate()]);
    const database = await openConfiguredDatabase(loadConfig());
    const r = await migrateToLatest(database);
    await database.close();
    print({ database: database.describe, applied: r.applied });
  });

const account = program.command('account').description('Accounts (tenants).');
account
  .command('create')
  .description('Create an account with its first super admin; prints the ids and an API token as JSON.')
  .requiredOption('--name <name>', 'company name')
  .requiredOption('--plan <plan>', 'free, starter, professional or enterprise')
  .requiredOption('--admin-email <email>', 'email of the first super admin')
  .option('--admin-name <name>', 'name of the first super admin')
  .option('--admin-password <password>', 'password (generated and printed when omitted)')
  .action(async (o: { name: string; plan: string; adminEmail: string; adminName?: string; adminPassword?: string }) => {
    const { createAccount } = await load.createAccount();
    const r = await withEnv((env) => createAccount(env, { name: o.name, plan: o.plan, adminEmail: o.adminEmail, adminName: o.adminName, adminPassword: o.adminPassword }));
    print({ accountId: r.accountId, adminUserId: r.adminUserId, apiToken: r.apiToken, ...(r.generatedPassword ? { adminPassword: r.generatedPassword } : {}) });
  });
account
  .command('list')
  .description('List accounts.')
  .action(async () => {
    print(await withEnv((env) => env.db.selectFrom('accounts').select(['id', 'name', 'plan']).orderBy('created_at').execute()));
  });

const user = program.command('user').description('Users of an account.');
user
  .command('create')
  .description('Add a user to an account; prints the user and a generated password as JSON.')
  .requiredOption('--account <id>', 'account id')
  .requiredOption('--email <email>', 'login email')
  .requiredOption('--name <name>', 'display name')
  .addOption(new Option('--role <role>', 'role').choices(['super_admin', 'admin', 'member']).default('member'))
  .addOption(new Option('--seat <seat>', 'seat').choices(['paid', 'free', 'view_only']).default('paid'))
  .option('--password <password>', 'password (generated when omitted)')
  .action(async (o: { account: string; email: string; name: string; role: 'member'; seat: 'paid'; password?: string }) => {
    const { createUser } = await load.createUser();
    print(await withEnv(async (env) => createUser(env, await actorFor(env, o.account), { email: o.email, name: o.name, role: o.role, seat: o.seat, password: o.password })));
  });

const token = program.command('token').description('API tokens.');
token
  .command('create')
  .description('Create an API token for a user (default: the first super admin); prints it once as JSON.')
  .requiredOption('--account <id>', 'account id')
  .option('--user <email>', 'user email')
  .option('--name <name>', 'what the token is for', 'cli')
  .action(async (o: { account: string; user?: string; name: string }) => {
    const { createApiToken } = await load.createApiToken();
    print(await withEnv(async (env) => createApiToken(env, await actorFor(env, o.account, o.user), { name: o.name })));
  });

const connections = program.command('connections').description('Email connections (personal and team).');
connections
  .command('list')
  .description('List the connections of an account with their state (as an admin sees them).')
  .requiredOption('--account <id>', 'account id')
  .option('--all', 'include disconnected ones')
  .action(async (o: { account: string; all?: boolean }) => {
    const { connectionView } = await load.connectionQueries();
    print(
      await withEnv(async (env) => {
        let q = env.db.selectFrom('connections').selectAll().where('account_id', '=', o.account);
        if (!o.all) q = q.where('disconnected_at', 'is', null);
        const rows = await q.orderBy('created_at').execute();
        return rows.map((c) => connectionView(c));
      }),
    );
  });
connections
  .command('connect')
  .description('Connect an address as personal or team email (checked live against the servers, like the API).')
  .requiredOption('--account <id>', 'account id')
  .option('--as <email>', 'act as this user (default: the first super admin); personal email belongs to them')
  .addOption(new Option('--type <type>', 'personal or team').choices(['personal', 'team']).makeOptionMandatory())
  .requiredOption('--address <email>', 'the address to connect')
  .option('--inbox <id>', 'team email: the conversations inbox it feeds')
  .addOption(new Option('--transport <t>', 'imap, or forwarding (team only)').choices(['imap', 'forwarding']).default('imap'))
  .option('--imap <host:port>', 'IMAP server')
  .option('--smtp <host:port>', 'SMTP server')
  .addOption(new Option('--security <mode>', 'tls, starttls or none (both servers)').choices(['tls', 'starttls', 'none']).default('tls'))
  .option('--username <name>', 'login (default: the address)')
  .option('--password-env <VAR>', 'read the password from this environment variable (default MAILROOM_MAIL_PASSWORD)', 'MAILROOM_MAIL_PASSWORD')
  .action(
    async (o: {
      account: string;
      as?: string;
      type: 'personal' | 'team';
      address: string;
      inbox?: string;
      transport: 'imap' | 'forwarding';
      imap?: string;
      smtp?: string;
      security: 'tls';
      username?: string;
      passwordEnv: string;
    }) => {
      const password = mailPasswordFromEnv(o.passwordEnv);
      if (!password) throw new AppError('invalid_request', 400, `Set the mail password in the environment variable ${o.passwordEnv} (it is never taken on the command line).`);
      const server = (hp: string | undefined, name: string) => {
        if (!hp) throw new AppError('invalid_request', 400, `Give --${name} host:port.`);
        const [host, port] = hp.split(':');
        return { host: host!, port: Number(port), tls: o.security, username: o.username, password };
      };
      const { connectEmail } = await load.connectEmail();
      print(
        await withEnv(async (env) =>
          connectEmail(env, await actorFor(env, o.account, o.as), {
            type: o.type,
            address: o.address,
            inboxId: o.inbox,
            transport: o.transport,
            ...(o.transport === 'imap' ? { imap: server(o.imap, 'imap') } : {}),
            smtp: server(o.smtp, 'smtp'),
          }),
        ),
      );
    },
  );
connections
  .command('disconnect <id>')
  .description('Disconnect: stops sync and sending, keeps everything logged.')
  .requiredOption('--account <id>', 'account id')
  .action(async (id: string, o: { account: string }) => {
    const { disconnectEmail } = await load.disconnectEmail();
    print(await withEnv(async (env) => disconnectEmail(env, await actorFor(env, o.account), id)));
  });
connections
  .command('release <id>')
  .description('Free an address held by a deactivated or removed user in one step.')
  .requiredOption('--account <id>', 'account id')
  .addOption(new Option('--action <a>', 'what to do').choices(['restore_and_disconnect', 'disconnect', 'transfer']).makeOptionMandatory())
  .option('--to <userId>', 'transfer: the user who takes the connection over')
  .action(async (id: string, o: { account: string; action: 'transfer'; to?: string }) => {
    const { releaseConnection } = await load.releaseConnection();
    print(await withEnv(async (env) => releaseConnection(env, await actorFor(env, o.account), id, { action: o.action, toUserId: o.to })));
  });

const contacts = program.command('contacts').description('CRM contacts.');
contacts
  .command('import <file>')
  .description('Import contacts from a CSV file; prints a per-row error report.')
  .requiredOption('--account <id>', 'account id')
  .option('--user <email>', 'import as this user (default: the first super admin)')
  .option('--dry-run', 'check the file without writing anything')
  .action(async (file: string, o: { account: string; user?: string; dryRun?: boolean }) => {
    const { importContactsFromFile, formatImportReport } = await load.importContacts();
    const r = await withEnv(async (env) => importContactsFromFile(env, await actorFor(env, o.account, o.user), file, { dryRun: Boolean(o.dryRun) }));
    process.stdout.write(`${formatImportReport(r)}\n`);
  });

const webhooks = program.command('webhooks').description('Webhook endpoints of an account (the same commands as the API; a running worker delivers).');
webhooks
  .command('list')
  .description('List the endpoints.')
  .requiredOption('--account <id>', 'account id')
  .action(async (o: { account: string }) => {
    const { listEndpoints } = await load.endpoints();
    print(await withEnv(async (env) => listEndpoints(env, await actorFor(env, o.account))));
  });
webhooks
  .command('add <url>')
  .description('Add an endpoint; prints its signing secret (whsec_...), shown only this once.')
  .requiredOption('--account <id>', 'account id')
  .option('--events <types>', 'comma-separated event types, or * for every type', '*')
  .option('--description <text>', 'what the endpoint is for', '')
  .addOption(new Option('--payload <mode>', 'thin (ids and changed fields) or full (objects in data.object)').choices(['thin', 'full']).default('thin'))
  .option('--disabled', 'add it disabled')
  .action(async (url: string, o: { account: string; events: string; description: string; payload: 'thin' | 'full'; disabled?: boolean }) => {
    const eventTypes = o.events.split(',').map((s) => s.trim()).filter(Boolean);
    const { createEndpoint } = await load.endpoints();
    print(await withEnv(async (env) => createEndpoint(env, await actorFor(env, o.account), { url, eventTypes, description: o.description, payload: o.payload, enabled: !o.disabled })));
  });
webhooks
  .command('remove <id>')
  .description('Delete an endpoint with its delivery log; pending deliveries are not sent.')
  .requiredOption('--account <id>', 'account id')
  .action(async (id: string, o: { account: string }) => {
    const { deleteEndpoint } = await load.endpoints();
    await withEnv(async (env) => deleteEndpoint(env, await actorFor(env, o.account), id));
    print({ removed: id });
  });
webhooks
  .command('test <id>')
  .description('Send a webhook.test event to this endpoint only.')
  .requiredOption('--account <id>', 'account id')
  .action(async (id: string, o: { account: string }) => {
    const { sendTestEvent } = await load.deliveries();
    print(await withEnv(async (env) => sendTestEvent(env, await actorFor(env, o.account), id)));
  });
webhooks
  .command('replay <id>')
  .description('Send again one delivery (--delivery, same webhook-id) or the finished deliveries of a time range (--since/--until).')
  .requiredOption('--account <id>', 'account id')
  .option('--delivery <deliveryId>', 'one delivery (msg_...)')
  .option('--since <time>', 'start of the range, e.g. 2026-03-01T09:00:00Z')
  .option('--until <time>', 'end of the range (excluded); default now')
  .option('--only-failed', 'only deliveries that failed')
  .action(async (id: string, o: { account: string; delivery?: string; since?: string; until?: string; onlyFailed?: boolean }) => {
    if (!o.delivery && !o.since) throw new AppError('invalid_request', 400, 'Give --delivery <msg_...> or --since <time> (and --until).');
    const { replayDelivery, replayRange } = await load.deliveries();
    print(
      await withEnv(async (env) => {
        const actor = await actorFor(env, o.account);
        if (o.delivery) return replayDelivery(env, actor, id, o.delivery);
        return replayRange(env, actor, id, { since: o.since!, until: o.until ?? new Date(env.now()).toISOString(), onlyFailed: Boolean(o.onlyFailed) });
      }),
    );
  });
webhooks
  .command('rotate-secret <id>')
  .description('Rotate the signing secret; prints the new one once. Both sign during the overlap.')
  .requiredOption('--account <id>', 'account id')
  .option('--overlap-hours <n>', 'hours the previous secret still signs', '24')
  .action(async (id: string, o: { account: string; overlapHours: string }) => {
    const { rotateSecret } = await load.endpoints();
    print(await withEnv(async (env) => rotateSecret(env, await actorFor(env, o.account), id, { overlapHours: Number(o.overlapHours) })));
  });

program
  .command('import <path>')
  .description('Import an mbox file, a Maildir, an .eml file or a folder of messages into a connection, through the same pipeline as live mail. Safe to re-run.')
  .requiredOption('--connection <id>', 'connection id (see GET /api/v1/connections)')
  .option('--batch <n>', 'messages per transaction', '100')
  .action(async (p: string, o: { connection: string; batch: string }) => {
    const [{ closeDefaultParsePool, configureDefaultParsePool, getDefaultParsePool, parseMessage }, { readAheadForImport }] = await Promise.all([load.parse(), load.readMail()]);
    // An import is the work this process is for: parse on every core but the one this thread writes on (up
    // to 4 workers: beyond, the writing thread is the bottleneck; on 2 cores one worker, as a second one only
    // competes with the writer and warms up its own JIT: 15% more CPU, no faster), at normal priority (a
    // server parses on the cores its event loop leaves, at a lower priority, to stay responsive). The
    // workers start now, and the first messages are read and handed to them, while this thread loads the
    // rest and opens the database.
    // V8 optimises a function once it has run a while (its interrupt budget); a one-shot import of a few
    // thousand messages spent a quarter of its CPU in that optimising compiler, on background threads
    // that compete with the parse and write threads for the cores. Six times the default budget
    // optimises only what stays hot: 10-17% less CPU on the shared corpus (callgrind: the compiler
    // threads' instructions 5.7 -> 3.3 G). A long import optimises the same code, a little later. Set
    // before the parse workers start, so they have it too (V8's flags are per process).
    v8.setFlagsFromString(IMPORT_V8_FLAGS);
    configureDefaultParsePool({ workers: Math.max(1, Math.min(4, os.availableParallelism() - 1)), niceIncrement: 0 });
    void getDefaultParsePool().warm();
    const readAhead = readAheadForImport(p, (raw) => parseMessage(raw), Number(o.batch));
    let summary: ImportSummary;
    try {
      const [{ createIngestor }, { importMail, progressBar }] = await Promise.all([load.ingest(), load.importMail()]);
      summary = await withEnv(async (env) => {
        const connection = await env.db.selectFrom('connections').selectAll().where('id', '=', o.connection).executeTakeFirst();
        if (!connection) throw new AppError('not_found', 404, `No connection ${o.connection}. List them with GET /api/v1/connections.`);
        return importMail(createIngestor(env), connection, p, {
          batchSize: Number(o.batch),
          readAhead,
          onProgress: (pr) => process.stderr.write(`\r${progressBar(pr.done, pr.total)}  imported ${pr.imported}, duplicates ${pr.duplicates}   `),
        });
      });
      const { inlineFallbacks } = getDefaultParsePool().stats();
      if (inlineFallbacks > 0) process.stderr.write(`\nmailroom: the parse worker threads could not start; ${inlineFallbacks} messages were parsed on the main thread (slower, and without the per-message deadline)\n`);
    } finally {
      await closeDefaultParsePool();
    }
    process.stderr.write('\n');
    print(summary);
  });

program
  .command('blobs-gc')
  .description('Delete blob packs that no stored message references (left by failed or interrupted ingest batches).')
  .option('--older-than-hours <hours>', 'only packs at least this old', '24')
  .option('--dry-run', 'only report what would be deleted')
  .action(async (o: { olderThanHours: string; dryRun?: boolean }) => {
    const hours = Number(o.olderThanHours);
    if (!Number.isFinite(hours) || hours < 1)
      throw new AppError('invalid_input', 400, '--older-than-hours must be a number of hours, at least 1 (a younger pack may belong to a batch being written).');
    const { collectUnreferencedPacks } = await load.packs();
    const summary = await withEnv((env) =>
      collectUnreferencedPacks(env.db, path.join(env.settings.dataDir, 'blobs'), { olderThanMs: hours * 3600_000, dryRun: Boolean(o.dryRun) }),
    );
    print(summary);
  });

program
  .command('backup')
  .description('Copy the database (SQLite) and the blobs into a new folder, consistently, while Mailroom runs. PostgreSQL: pg_dump first, then --blobs-only.')
  .argument('<dir>', 'a new or empty folder')
  .option('--include-key', 'also copy the secret key (whoever reads the backup can then open stored mail passwords)')
  .option('--blobs-only', 'only the blob packs and loose blobs (PostgreSQL: after pg_dump)')
  .action(async (dir: string, o: { includeKey?: boolean; blobsOnly?: boolean }) => {
    const [{ applyProcessSettings, openConfiguredDatabase }, { backup }] = await Promise.all([load.env(), load.backup()]);
    const config = loadConfig();
    applyProcessSettings(config);
    const database = await openConfiguredDatabase(config);
    try {
      const m = await backup(path.resolve(dir), {
        dataDir: config.dataDir,
        db: database.db,
        dialect: database.dialect,
        secretKey: config.secretKey,
        includeKey: o.includeKey,
        blobsOnly: o.blobsOnly,
      });
      print({ backup: path.resolve(dir), database: m.blobsOnly ? 'not included (pg_dump)' : m.database, includesKey: m.includesKey, counts: m.counts, files: m.files.length });
    } finally {
      await database.close();
    }
  });

program
  .command('restore')
  .description('Check a backup against its manifest and copy it into DATA_DIR, which must be empty. Start Mailroom afterwards.')
  .argument('<dir>', 'a folder made by mailroom backup')
  .action(async (dir: string) => {
    const { restore } = await load.backup();
    const config = loadConfig();
    const r = await restore(path.resolve(dir), path.resolve(config.dataDir));
    print({ restored: path.resolve(config.dataDir), files: r.files, counts: r.manifest.counts, includesKey: r.manifest.includesKey });
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof AppError) {
    process.stderr.write(`error (${err.code}): ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`error: ${(err as Error).message ?? String(err)}\n`);
  process.exit(1);
});
