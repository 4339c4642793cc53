/**
 * `mailroom serve` as a newcomer runs it (the README's first command, minus the web build): a real
 * process with web, worker and inbound SMTP on an empty data folder (or a fresh PostgreSQL schema). The
 * first start creates an account and prints its credentials once; they sign in; inbound SMTP answers and
 * is not an open relay; SIGTERM stops it cleanly; a restart keeps the data and prints nothing again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-serve-'));
const schema = `serve_${crypto.randomBytes(5).toString('hex')}`;
const pgUrl = process.env.DATABASE_URL;
let port = 0;
let smtpPort = 0;

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

function start(): { child: ChildProcess; output: () => string; ready: Promise<void>; exited: Promise<number | null> } {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    SMTP_PORT: String(smtpPort),
    SMTP_HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    INBOUND_DOMAIN: 'in.mailroom.test',
    LOG_LEVEL: 'info',
    MAILROOM_ADMIN_EMAIL: '',
    MAILROOM_ADMIN_PASSWORD: '',
    ...(pgUrl ? { DATABASE_URL: pgUrl, DATABASE_SCHEMA: schema } : { DATABASE_URL: '' }),
  };
  const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('src/app/cli.ts'), 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = (async () => {
    for (let i = 0; i < 600; i++) {
      if (child.exitCode !== null) throw new Error(`serve exited early:\n${out}`);
      try {
        const r = await fetch(`http://127.0.0.1:${port}/api/openapi.json`);
        if (r.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`serve did not start:\n${out}`);
  })();
  return { child, output: () => out, ready, exited };
}

beforeAll(async () => {
  port = await freePort();
  smtpPort = await freePort();
  if (pgUrl) {
    const c = new pg.Client({ connectionString: pgUrl });
    await c.connect();
    await c.query(`CREATE SCHEMA "${schema}"`);
    await c.end();
  }
});

afterAll(async () => {
  fs.rmSync(dataDir, { recursive: true, force: true });
  if (pgUrl) {
    const c = new pg.Client({ connectionString: pgUrl });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.end();
  }
});

describe('mailroom serve', () => {
  it('first start prints credentials once; they sign in; SMTP is no open relay; SIGTERM stops it; a restart keeps the data', async () => {
    const first = start();
    try {
      await first.ready;
      await expect.poll(() => first.output(), { timeout: 10_000 }).toMatch(/inbound SMTP is listening/);
      const m = /Sign in at \S+ as (\S+) with password (\S+)/.exec(first.output());
      expect(m, first.output()).not.toBeNull();
      const [, email, password] = m!;
      expect(first.output()).toMatch(/API token for scripts: \S+/);

      const signIn = await fetch(`http://127.0.0.1:${port}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
      expect(signIn.status).toBe(200);
      const cookie = signIn.headers.get('set-cookie') ?? '';
      expect(cookie).toMatch(/HttpOnly/i);
      const me = await fetch(`http://127.0.0.1:${port}/api/v1/session`, { headers: { cookie: cookie.split(';')[0]! } });
      expect((await me.json()).user.email).toBe(email);

      const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true });
      await expect(transport.sendMail({ from: 'someone@example.org', to: 'victim@elsewhere.example', subject: 'relay?', text: 'x' })).rejects.toMatchObject({ responseCode: 550 });
      transport.close();

      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
    } finally {
      if (first.child.exitCode === null) first.child.kill('SIGKILL');
    }

    const second = start();
    try {
      await second.ready;
      expect(second.output()).not.toMatch(/created your first account/);
      const again = await fetch(`http://127.0.0.1:${port}/api/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: /as (\S+) with/.exec(first.output())![1], password: /with password (\S+)/.exec(first.output())![1] }),
      });
      expect(again.status).toBe(200);
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    } finally {
      if (second.child.exitCode === null) second.child.kill('SIGKILL');
    }
  }, 120_000);
});
