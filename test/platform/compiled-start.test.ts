/**
 * The production start: `npm start` runs the compiled JavaScript in dist/ (scripts/build.mjs, tsc with
 * tsconfig.build.json, then esbuild's bundle of the CLI in dist/bundle/), not tsx. This test builds the
 * server the way prestart does, starts it through `bin/mailroom.js` (which must pick the bundled CLI
 * when dist/ is up to date), checks /healthz and a clean SIGTERM, runs the two worker threads from the
 * compiled tree (the MIME parse pool, whose compiled-path branch loads dist/mail/parse/worker.js, and the
 * SQLite WAL checkpointer), and imports a message through the bundled CLI, whose parse pool must start
 * the bundled worker (dist/bundle/worker.js) rather than parse on the main thread.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareConnection } from '../support/cli-connection.js';

const root = path.resolve('.');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-compiled-'));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

beforeAll(() => {
  // What `npm start` runs first (prestart); a no-op when dist/ is already up to date with src/.
  execFileSync(process.execPath, ['scripts/build.mjs', 'server'], { cwd: root, stdio: 'pipe' });
}, 600_000);

afterAll(() => {
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('compiled production start', () => {
  it('bin/mailroom.js serve runs dist/app/cli.js: /healthz answers, no tsx process, SIGTERM exits 0', async () => {
    expect(fs.existsSync(path.join(root, 'dist/app/cli.js'))).toBe(true);
    expect(fs.existsSync(path.join(root, 'dist/bundle/cli.js'))).toBe(true);
    expect(fs.existsSync(path.join(root, 'dist/.build-stamp'))).toBe(true);
    const port = await freePort();
    const smtpPort = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      SMTP_PORT: String(smtpPort),
      SMTP_HOST: '127.0.0.1',
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      LOG_LEVEL: 'warn',
      DATABASE_URL: '',
    };
    const child: ChildProcess = spawn(process.execPath, [path.join(root, 'bin/mailroom.js'), 'serve'], { env, cwd: dataDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      let health: unknown = null;
      for (let i = 0; i < 600 && health === null; i++) {
        if (child.exitCode !== null) throw new Error(`serve exited early:\n${out}`);
        try {
          const r = await fetch(`http://127.0.0.1:${port}/healthz`);
          if (r.ok) health = await r.json();
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      expect(health, out).toEqual({ status: 'ok', database: 'sqlite' });
      expect(out).not.toMatch(/running the TypeScript source/);
      // Compiled: the server is bin/mailroom.js's own process. The tsx fallback would be a child process.
      const childrenFile = `/proc/${child.pid}/task/${child.pid}/children`;
      if (fs.existsSync(childrenFile)) expect(fs.readFileSync(childrenFile, 'utf8').trim()).toBe('');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 120_000);

  it('the compiled parse pool parses in its worker thread; the compiled WAL checkpointer starts and stops', () => {
    const script = `
      import { ParsePool } from ${JSON.stringify(path.join(root, 'dist/mail/parse/index.js'))};
      import { startWalCheckpointer } from ${JSON.stringify(path.join(root, 'dist/platform/database/wal-checkpointer.js'))};
      import { createRequire } from 'node:module';
      const require = createRequire(${JSON.stringify(path.join(root, 'package.json'))});
      const pool = new ParsePool({ workers: 1 });
      await pool.warm();
      const raw = new TextEncoder().encode('From: Ann <ann@example.com>\\r\\nTo: bob@example.org\\r\\nSubject: compiled\\r\\nMessage-ID: <c1@example.com>\\r\\n\\r\\nHello\\r\\n');
      const m = await pool.parse(raw);
      const stats = pool.stats();
      await pool.close();
      const Database = require('better-sqlite3');
      const file = ${JSON.stringify(path.join(dataDir, 'wal.sqlite'))};
      const db = new Database(file);
      db.pragma('journal_mode = WAL');
      db.exec('create table t (x)');
      const wal = startWalCheckpointer(file, 20);
      for (let i = 0; i < 200; i++) db.prepare('insert into t values (?)').run(i);
      await new Promise((r) => setTimeout(r, 200));
      await wal?.stop();
      db.close();
      console.log(JSON.stringify({ subject: m.subject, stats, wal: wal !== null }));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    const r = JSON.parse(out.trim().split('\n').pop()!);
    expect(r.subject).toBe('compiled');
    expect(r.stats.parsed).toBe(1);
    expect(r.stats.inlineFallbacks).toBe(0);
    expect(r.stats.crashes).toBe(0);
    expect(r.wal).toBe(true);
  }, 120_000);

  it('the bundled CLI imports a message, parsed in the bundled worker thread', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: path.join(dataDir, 'import'), LOG_LEVEL: 'warn', DATABASE_URL: '' };
    fs.mkdirSync(env.DATA_DIR!, { recursive: true });
    const connectionId = await prepareConnection(env);
    const file = path.join(dataDir, 'one.eml');
    fs.writeFileSync(file, 'From: Ann <ann@example.com>\r\nTo: team@example.org\r\nSubject: bundled\r\nMessage-ID: <b1@example.com>\r\nDate: Sun, 6 Dec 2026 10:00:00 +0000\r\n\r\nHello\r\n');
    const r = spawnSync(process.execPath, [path.join(root, 'bin/mailroom.js'), 'import', file, '--connection', connectionId], { cwd: root, env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ messages: 1, imported: 1, failed: 0 });
    expect(r.stderr).not.toMatch(/could not start|running the TypeScript source/);
  }, 120_000);
});
