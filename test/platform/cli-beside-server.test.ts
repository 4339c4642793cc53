/**
 * The CLI beside a running server (issue 13, item 10). `mailroom serve` runs in its own process and
 * writes continuously through the API (contacts created back to back, several in flight), while
 * `mailroom user create` and `mailroom connections release` run as separate processes on the same
 * database. On SQLite a transaction that began DEFERRED reads a snapshot, and when the server commits
 * before the CLI's first write the upgrade fails at once with SQLITE_BUSY_SNAPSHOT ("database is
 * locked"; the busy timeout does not help). Write transactions begin IMMEDIATE, so none fails and every
 * row is there. Runs on PostgreSQL too (DATABASE_URL), where the same test must simply pass.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { insertConnection } from '../support/connections.js';

let t: TestApp;
let server: ChildProcess | undefined;
let serverOut = '';

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

function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: t.database.dataDir, LOG_LEVEL: 'warn', MAILROOM_ADMIN_EMAIL: '', MAILROOM_ADMIN_PASSWORD: '', ...extra };
  if (t.database.pgSchema) env.DATABASE_SCHEMA = t.database.pgSchema;
  else env.DATABASE_URL = '';
  return env;
}

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', path.resolve('src/app/cli.ts'), ...args], { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (d) => (stdout += d));
    p.stderr!.on('data', (d) => (stderr += d));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  t = await createTestApp();
});

afterAll(async () => {
  if (server && server.exitCode === null) server.kill('SIGKILL');
  await t?.close();
});

describe('the CLI beside a running server', () => {
  it('user create and connections release never fail with "database is locked" while the API writes; every row exists', async () => {
    const a = await t.account();
    // Connections held by deactivated users, for `connections release --action restore_and_disconnect`.
    const held: Array<{ connectionId: string; userId: string }> = [];
    for (let i = 0; i < 4; i++) {
      const u = await t.api(a.token, 'POST', '/api/v1/users', { email: `holder-${i}@example.com`, name: `Holder ${i}`, password: 'correct horse battery' });
      expect(u.statusCode, u.body).toBe(201);
      const userId = u.json().user?.id ?? u.json().id;
      const c = await insertConnection(t, { accountId: a.accountId, userId, type: 'personal', address: `held-${i}@example.com`, transport: 'imap', imap: { host: '127.0.0.1', port: 1, username: 'x', password: 'x' }, smtp: { host: '127.0.0.1', port: 1, username: 'x', password: 'x' } });
      expect((await t.api(a.token, 'POST', `/api/v1/users/${userId}/deactivate`)).statusCode).toBe(200);
      held.push({ connectionId: c.id, userId });
    }

    const port = await freePort();
    server = spawn(process.execPath, ['--import', 'tsx', path.resolve('src/app/cli.ts'), 'serve', '--role', 'web'], {
      env: childEnv({ PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: `http://127.0.0.1:${port}` }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout!.on('data', (d) => (serverOut += d));
    server.stderr!.on('data', (d) => (serverOut += d));
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      if (server.exitCode !== null) throw new Error(`serve exited early:\n${serverOut}`);
      if (i > 600) throw new Error(`serve did not start:\n${serverOut}`);
      const ok = await fetch(`${base}/api/openapi.json`).then((r) => r.ok, () => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }

    // The server writes continuously: three loops creating contacts through the API.
    let stop = false;
    let created = 0;
    const apiFailures: string[] = [];
    const writer = async (w: number) => {
      for (let n = 0; !stop; n++) {
        const r = await fetch(`${base}/api/v1/contacts`, {
          method: 'POST',
          headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name: `Load ${w}-${n}`, emails: [`load-${w}-${n}@example.org`] }),
        });
        if (r.status === 201) created += 1;
        else apiFailures.push(`${r.status} ${await r.text()}`);
      }
    };
    const writers = [0, 1, 2].map(writer);

    // Meanwhile, CLI processes (two at a time): eight user creates and four releases.
    const jobs: string[][] = [];
    for (let i = 0; i < 8; i++) jobs.push(['user', 'create', '--account', a.accountId, '--email', `cli-${i}@example.com`, '--name', `Cli ${i}`, '--password', 'correct horse battery']);
    for (const h of held) jobs.push(['connections', 'release', h.connectionId, '--account', a.accountId, '--action', 'restore_and_disconnect']);
    const results: Array<{ args: string[]; code: number | null; stderr: string }> = [];
    const lane = async () => {
      for (let job = jobs.shift(); job; job = jobs.shift()) {
        const r = await cli(job);
        results.push({ args: job, code: r.code, stderr: r.stderr });
      }
    };
    try {
      await Promise.all([lane(), lane()]);
    } finally {
      stop = true;
      await Promise.all(writers);
    }

    const failed = results.filter((r) => r.code !== 0);
    expect(failed.map((f) => `${f.args.slice(0, 2).join(' ')}: ${f.stderr.trim()}`)).toEqual([]);
    expect(results.map((r) => r.stderr).join('\n')).not.toMatch(/locked|SQLITE_BUSY/i);
    expect(apiFailures).toEqual([]);
    expect(created).toBeGreaterThan(0);

    const users = await t.database.db.selectFrom('users').select(['email_key', 'state']).where('account_id', '=', a.accountId).execute();
    for (let i = 0; i < 8; i++) expect(users.map((u) => u.email_key)).toContain(`cli-${i}@example.com`);
    for (const h of held) {
      const c = await t.database.db.selectFrom('connections').select(['disconnected_at']).where('id', '=', h.connectionId).executeTakeFirstOrThrow();
      expect(c.disconnected_at).not.toBeNull();
      const u = await t.database.db.selectFrom('users').select('state').where('id', '=', h.userId).executeTakeFirstOrThrow();
      expect(u.state).toBe('active');
    }
    const contacts = await t.database.db.selectFrom('contacts').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', a.accountId).executeTakeFirstOrThrow();
    expect(Number(contacts.n)).toBe(created);

    server.kill('SIGTERM');
    await new Promise((r) => server!.once('exit', r));
  }, 180_000);
});
