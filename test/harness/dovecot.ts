/**
 * A private, real Dovecot for tests: IMAP and LMTP on free loopback ports, everything (config, base_dir,
 * state, logs, passwords, maildirs) under a fresh temp folder that `stop()` removes. Each call starts an
 * independent instance, so test files running in parallel processes never share ports or files.
 *
 * Users live in passwd-files (one file per user, see `writeUserFile`), mail is stored as the unprivileged
 * system user `mailroom-test` (created when missing; Dovecot refuses uid 0 for mail access).
 *
 *   const dovecot = await startDovecot();
 *   await dovecot.addUser('alice@example.test', 'secret');
 *   await dovecot.deliver('alice@example.test', rawMessage);          // LMTP, visible in IMAP when resolved
 *   const client = new ImapFlow(dovecot.imapOptions('alice@example.test'));
 *   ...
 *   await dovecot.stop();
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readFile, rename, rm, unlink, utimes, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ImapFlowOptions } from 'imapflow';
import nodemailer, { type Transporter } from 'nodemailer';
import { DOVECOT, findTestProgram } from './requirements.js';

const run = promisify(execFile);

export interface StartDovecotOptions {
  /** Users to create before resolving: `{ 'alice@example.test': 'password' }`. */
  users?: Record<string, string>;
  /** Special-use folders created (and subscribed) for every user. Default: Drafts, Sent, Trash, Junk, Archive. */
  specialFolders?: boolean;
  /** Keep the temp folder after `stop()` (also when MAILROOM_KEEP_DOVECOT=1), for looking at logs. */
  keepDir?: boolean;
  /** Extra lines appended to dovecot.conf (they override earlier settings). */
  extraConfig?: string;
  /** How long to wait for the IMAP greeting. Default 20 s. */
  startTimeoutMs?: number;
  /**
   * Concurrent IMAP sessions to allow (benchmarks with many idle mailboxes). Raises Dovecot's process and
   * client limits (imap-login, imap, defaults) above it, and the host's `fs.inotify.max_user_instances`
   * (one per idle session; when they run out Dovecot's IDLE falls back to a 30 s check) when permitted.
   * Default: Dovecot's own limits (about 100 sessions).
   */
  maxConnections?: number;
  /**
   * OAuth sign-in (issue 14): the lines of Dovecot's `passdb { driver = oauth2 }` args file (see
   * test/harness/oauth-server.ts `dovecotOAuth2Config()`). XOAUTH2 and OAUTHBEARER are then offered and
   * checked by that passdb after the users' passwords; password logins keep working.
   */
  oauth2?: string;
}

export interface DeliverOptions {
  /** Envelope sender (MAIL FROM). Default `sender@example.test`. */
  from?: string;
}

export interface TestDovecot {
  readonly host: '127.0.0.1';
  readonly imapPort: number;
  readonly lmtpPort: number;
  /** The temp folder holding everything of this instance. */
  readonly dir: string;
  /** Dovecot's own log file (auth failures, delivery, errors). */
  readonly logPath: string;
  /** Create a user (or replace its password). Logins work as soon as this resolves. */
  addUser(name: string, password: string): Promise<void>;
  /** Change a user's password. Takes up to a second (Dovecot re-reads a passwd-file at most once a second). */
  setPassword(name: string, password: string): Promise<void>;
  /** Remove a user's login (its mail stays on disk). Takes up to a second, like setPassword. */
  removeUser(name: string): Promise<void>;
  hasUser(name: string): boolean;
  /** True when `password` is the user's current password (what Dovecot would accept). */
  checkPassword(name: string, password: string): boolean;
  /** The user's current password, or undefined when there is no such user. */
  passwordOf(name: string): string | undefined;
  /** Names of all users, as Dovecot sees them (lower-cased). */
  userNames(): string[];
  /** Deliver a raw RFC 5322 message to one or more users over LMTP (into INBOX); rejects if any recipient is refused. */
  deliver(to: string | string[], rawMessage: string | Buffer, opts?: DeliverOptions): Promise<void>;
  /** imapflow options for a user of this instance (password defaults to the user's current one). */
  imapOptions(user: string, password?: string): ImapFlowOptions;
  /** The Maildir folder of a user (owned by the mail system user). */
  maildir(user: string): string;
  readLog(): Promise<string>;
  /** Stop Dovecot, then start it again on the same ports with the same users and mail. */
  restart(): Promise<void>;
  /** Stop Dovecot and remove the temp folder. Safe to call twice. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1' as const;
const MAIL_USER = 'mailroom-test';
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test process that ends without stop() must not leave Dovecot masters behind.
  process.once('exit', () => {
    for (const child of running) {
      try {
        child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
}

/** Under CI a missing Dovecot throws (naming the install command); elsewhere `dovecot` from PATH is tried. */
function dovecotBinary(): string {
  return findTestProgram(DOVECOT) ?? 'dovecot';
}

/** A port that was free a moment ago on 127.0.0.1. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function idOf(args: string[]): Promise<number | null> {
  try {
    const { stdout } = await run('id', args);
    const n = Number(stdout.trim());
    return Number.isInteger(n) ? n : null;
  } catch {
    return null;
  }
}

interface MailOwner {
  uid: number;
  gid: number;
  /** User and group names for Dovecot's own processes when not running as root. */
  selfName?: string;
  selfGroup?: string;
}

let mailOwnerPromise: Promise<MailOwner> | undefined;

/**
 * As root: the unprivileged `mailroom-test` system user (created when missing; parallel processes may race
 * to create it, so a failed useradd is followed by a second look), else `nobody`. Not root: ourselves.
 */
function mailOwner(): Promise<MailOwner> {
  mailOwnerPromise ??= (async () => {
    const uid = process.getuid?.() ?? 0;
    if (uid !== 0) {
      const { stdout } = await run('id', ['-gn']);
      return { uid, gid: process.getgid?.() ?? uid, selfName: userInfo().username, selfGroup: stdout.trim() };
    }
    for (let attempt = 0; attempt < 10; attempt++) {
      const u = await idOf(['-u', MAIL_USER]);
      const g = await idOf(['-g', MAIL_USER]);
      if (u !== null && g !== null && u !== 0) return { uid: u, gid: g };
      try {
        await run('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', MAIL_USER]);
      } catch {
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200)); // lock held by a sibling process?
      }
    }
    const u = await idOf(['-u', 'nobody']);
    const g = await idOf(['-g', 'nobody']);
    if (u === null || g === null) throw new Error(`startDovecot: could not create or find an unprivileged mail user (${MAIL_USER} or nobody)`);
    return { uid: u, gid: g };
  })();
  return mailOwnerPromise;
}

/** Dovecot applies auth_username_format = %Lu: logins are looked up lower-cased. */
function key(name: string): string {
  return name.toLowerCase();
}

function checkName(name: string): void {
  if (!name || /[\s:/\\%]/.test(name) || name.startsWith('.')) {
    throw new Error(`Dovecot test user name not allowed in a passwd-file path: ${JSON.stringify(name)}`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function configText(p: {
  dir: string;
  imapPort: number;
  lmtpPort: number;
  owner: MailOwner;
  instance: string;
  specialFolders: boolean;
  extra: string;
  maxConnections?: number;
  oauth2: boolean;
}): string {
  const { dir, owner } = p;
  const n = p.maxConnections;
  const limits = n
    ? {
        top: `default_process_limit = ${n + 100}\ndefault_client_limit = ${2 * n + 200}\n`,
        login: `  process_limit = ${Math.max(100, Math.ceil(n / 10))}\n  client_limit = ${n + 100}\n`,
        imap: `service imap {\n  process_limit = ${n + 100}\n}\n`,
      }
    : { top: '', login: '', imap: '' };
  const root = (process.getuid?.() ?? 0) === 0;
  const folders = p.specialFolders
    ? ['Drafts', 'Sent', 'Trash', 'Junk', 'Archive']
        .map((f) => `  mailbox ${f} {\n    auto = subscribe\n    special_use = \\${f}\n  }`)
        .join('\n')
    : '';
  return `# Generated by test/harness/dovecot.ts for one test run.
instance_name = ${p.instance}
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/log/dovecot.log
info_log_path = ${dir}/log/dovecot.log
debug_log_path = ${dir}/log/dovecot.log
protocols = imap lmtp
listen = ${HOST}
${limits.top}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login${p.oauth2 ? ' xoauth2 oauthbearer' : ''}
auth_verbose = yes
# Default is 2 s: a wrong-password test would wait for it.
auth_failure_delay = 0
hostname = mailroom-test.local
postmaster_address = postmaster@mailroom-test.local
mail_location = maildir:~/Maildir
mail_fsync = never
first_valid_uid = ${owner.uid}
last_valid_uid = ${owner.uid}
first_valid_gid = ${owner.gid}
last_valid_gid = ${owner.gid}
${root ? '' : `default_login_user = ${owner.selfName}\ndefault_internal_user = ${owner.selfName}\ndefault_internal_group = ${owner.selfGroup}\n`}
# One passwd-file per user: a new user is a new file, never hidden by Dovecot's once-a-second re-read gate.
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/users/%u
}
${p.oauth2 ? `passdb {\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = ${dir}/dovecot-oauth2.conf.ext\n}\n` : ''}userdb {
  driver = static
  args = uid=${owner.uid} gid=${owner.gid} home=${dir}/mail/%u
}

namespace inbox {
  inbox = yes
${folders}
}

protocol imap {
  mail_max_userip_connections = 200
}

service imap-login {
  inet_listener imap {
    address = ${HOST}
    port = ${p.imapPort}
  }
  inet_listener imaps {
    port = 0
  }
${limits.login}${root ? '' : '  chroot =\n'}}
${limits.imap}
# No auth penalty: anvil would delay every login from 127.0.0.1 after a failed one (2 s, 4 s, ... 15 s).
# (login_trusted_networks = 127.0.0.0/8 does not lift it in 2.3.19; a closed penalty socket does.)
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}

service lmtp {
  inet_listener lmtp {
    address = ${HOST}
    port = ${p.lmtpPort}
  }
}
${root ? '' : 'service auth-worker {\n  user = $default_internal_user\n}\n'}
${p.extra}
`;
}

/** Resolves once the server on `port` sends a greeting line. */
async function greeting(port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: HOST, port });
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('no greeting'));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      buf += d;
      if (buf.includes('\n')) {
        clearTimeout(timer);
        sock.end('a LOGOUT\r\n');
        sock.destroy();
        resolve(buf.split('\n')[0]!.trim());
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** Raises fs.inotify.max_user_instances to at least `wanted` when this process may (root); never lowers it. */
async function raiseInotifyInstances(wanted: number): Promise<void> {
  const file = '/proc/sys/fs/inotify/max_user_instances';
  try {
    const now = Number((await readFile(file, 'utf8')).trim());
    if (now >= wanted) return;
    await writeFile(file, String(wanted));
  } catch (e) {
    process.stderr.write(`startDovecot: could not raise fs.inotify.max_user_instances to ${wanted} (${(e as Error).message}); idle sessions beyond it fall back to Dovecot's 30 s check\n`);
  }
}

export async function startDovecot(opts: StartDovecotOptions = {}): Promise<TestDovecot> {
  installExitHook();
  if (opts.maxConnections) await raiseInotifyInstances(opts.maxConnections + 1024);
  const owner = await mailOwner();
  const root = (process.getuid?.() ?? 0) === 0;
  // Unix socket paths live under base_dir and are limited to 108 bytes: keep the folder short.
  const base = tmpdir().length <= 40 ? tmpdir() : '/tmp';
  const dir = await mkdtemp(join(base, 'mailroom-dovecot-'));
  await chmod(dir, 0o755); // the mail user and Dovecot's own users must reach inside
  for (const sub of ['run', 'state', 'log', 'users', 'mail']) await mkdir(join(dir, sub), { recursive: true });
  await chmod(join(dir, 'users'), 0o755);
  await chmod(join(dir, 'mail'), 0o700);
  if (root) await chown(join(dir, 'mail'), owner.uid, owner.gid);

  const confPath = join(dir, 'dovecot.conf');
  const logPath = join(dir, 'log', 'dovecot.log');
  const instance = `mailroom-test-${process.pid}-${dir.slice(-6)}`;
  const keep = opts.keepDir === true || process.env.MAILROOM_KEEP_DOVECOT === '1';
  const startTimeoutMs = opts.startTimeoutMs ?? 20_000;
  const passwords = new Map<string, string>();
  const lastMtime = new Map<string, number>();

  let imapPort = 0;
  let lmtpPort = 0;
  let child: ChildProcess | null = null;
  let stopped = false;
  let lmtp: Transporter | null = null;

  async function tail(): Promise<string> {
    try {
      const text = await readFile(logPath, 'utf8');
      return text.split('\n').slice(-30).join('\n');
    } catch {
      return '(no log)';
    }
  }

  async function writeConfig(): Promise<void> {
    if (opts.oauth2 !== undefined) await writeFile(join(dir, 'dovecot-oauth2.conf.ext'), opts.oauth2, { mode: 0o644 });
    await writeFile(confPath, configText({ dir, imapPort, lmtpPort, owner, instance, specialFolders: opts.specialFolders !== false, extra: opts.extraConfig ?? '', maxConnections: opts.maxConnections, oauth2: opts.oauth2 !== undefined }));
  }

  /** Spawns the master in the foreground and waits for the IMAP greeting. */
  async function launch(): Promise<void> {
    const proc = spawn(dovecotBinary(), ['-F', '-c', confPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (d: string) => {
      stderr += d;
    });
    let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    proc.on('exit', (code, signal) => {
      exited = { code, signal };
      running.delete(proc);
    });
    proc.on('error', (e) => {
      stderr += String(e);
      exited = { code: -1, signal: null };
    });
    running.add(proc);
    child = proc;

    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      if (exited) {
        const log = await tail();
        const err = new Error(`Dovecot exited during start (${JSON.stringify(exited)}): ${stderr.trim()}\n${log}`);
        (err as Error & { inUse?: boolean }).inUse = /Address already in use/i.test(stderr + log);
        throw err;
      }
      try {
        const line = await greeting(imapPort, 2_000);
        if (line.startsWith('* OK')) return;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`Dovecot did not answer on IMAP port ${imapPort} within ${startTimeoutMs} ms: ${stderr.trim()}\n${await tail()}`);
      }
      await sleep(50);
    }
  }

  async function halt(): Promise<void> {
    if (lmtp) {
      lmtp.close();
      lmtp = null;
    }
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const done = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await done;
    clearTimeout(timer);
  }

  /** Writes `<dir>/users/<name>` atomically; the password is base64-encoded so any character is allowed. */
  async function writeUserFile(name: string, password: string): Promise<void> {
    const k = key(name);
    const path = join(dir, 'users', k);
    const tmp = `${path}.tmp-${process.pid}`;
    const line = `${k}:{PLAIN.BASE64}${Buffer.from(password, 'utf8').toString('base64')}\n`;
    await writeFile(tmp, line, { mode: 0o644 });
    // Dovecot notices a change by mtime (seconds) or size: make the mtime always move forward.
    const now = Math.floor(Date.now() / 1000);
    const mtime = Math.max(now, (lastMtime.get(k) ?? 0) + 1);
    await utimes(tmp, now, mtime);
    lastMtime.set(k, mtime);
    await rename(tmp, path);
    passwords.set(k, password);
  }

  /**
   * Dovecot stats a passwd-file at most once per second (db-passwd-file.c: last_sync_time == ioloop_time), so
   * a lookup earlier in this second would hide a change to an existing file until the next second. Wait for it.
   * (A new user is a new file, looked up fresh: addUser needs no wait.)
   */
  async function passwdFileGate(): Promise<void> {
    await sleep(1000 - (Date.now() % 1000) + 20);
  }

  const api: TestDovecot = {
    host: HOST,
    get imapPort() {
      return imapPort;
    },
    get lmtpPort() {
      return lmtpPort;
    },
    dir,
    logPath,
    async addUser(name, password) {
      checkName(name);
      if (passwords.has(key(name))) return api.setPassword(name, password);
      await writeUserFile(name, password);
    },
    async setPassword(name, password) {
      checkName(name);
      if (!passwords.has(key(name))) throw new Error(`setPassword: no such Dovecot test user ${name}`);
      await writeUserFile(name, password);
      await passwdFileGate();
    },
    async removeUser(name) {
      const k = key(name);
      if (!passwords.delete(k)) return;
      await unlink(join(dir, 'users', k)).catch(() => undefined);
      await passwdFileGate();
    },
    hasUser(name) {
      return passwords.has(key(name));
    },
    checkPassword(name, password) {
      const pw = passwords.get(key(name));
      return pw !== undefined && pw === password;
    },
    passwordOf(name) {
      return passwords.get(key(name));
    },
    userNames() {
      return [...passwords.keys()];
    },
    async deliver(to, rawMessage, deliverOpts = {}) {
      if (!child) throw new Error('deliver: Dovecot is not running');
      const recipients = Array.isArray(to) ? to : [to];
      lmtp ??= nodemailer.createTransport({
        host: HOST,
        port: lmtpPort,
        lmtp: true,
        pool: true,
        maxConnections: 2,
        secure: false,
        ignoreTLS: true,
        name: 'mailroom-test-harness',
        logger: false,
      } as Parameters<typeof nodemailer.createTransport>[0]);
      const info = await lmtp.sendMail({
        envelope: { from: deliverOpts.from ?? 'sender@example.test', to: recipients },
        raw: rawMessage,
      });
      const rejected = (info as { rejected?: unknown[] }).rejected ?? [];
      if (rejected.length > 0) throw new Error(`LMTP refused ${rejected.map(String).join(', ')}: ${JSON.stringify((info as { rejectedErrors?: unknown }).rejectedErrors ?? info.response)}`);
    },
    imapOptions(user, password) {
      const pass = password ?? passwords.get(key(user));
      if (pass === undefined) throw new Error(`imapOptions: no such Dovecot test user ${user}`);
      return { host: HOST, port: imapPort, secure: false, doSTARTTLS: false, auth: { user, pass }, logger: false } as ImapFlowOptions;
    },
    maildir(user) {
      return join(dir, 'mail', key(user), 'Maildir');
    },
    readLog() {
      return readFile(logPath, 'utf8').catch(() => '');
    },
    async restart() {
      if (stopped) throw new Error('restart: this Dovecot was stopped');
      await halt();
      await launch();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await halt();
      if (!keep) await rm(dir, { recursive: true, force: true });
    },
  };

  try {
    for (let attempt = 1; ; attempt++) {
      imapPort = await freePort();
      lmtpPort = await freePort();
      while (lmtpPort === imapPort) lmtpPort = await freePort();
      await writeConfig();
      try {
        await launch();
        break;
      } catch (e) {
        // Another process took a port between our probe and Dovecot's bind: try other ports.
        if ((e as { inUse?: boolean }).inUse && attempt < 5) continue;
        throw e;
      }
    }
    for (const [name, password] of Object.entries(opts.users ?? {})) await api.addUser(name, password);
  } catch (e) {
    await halt().catch(() => undefined);
    if (!keep) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
  return api;
}
