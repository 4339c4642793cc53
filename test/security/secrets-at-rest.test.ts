/**
 * No credential at rest in plain text. A personal and a team connection are connected through the real
 * API against a real Dovecot and SMTP submission server with distinctive passwords (one then changed
 * through the credentials endpoint), an API token is created and a browser session opened; then EVERY
 * byte Mailroom stores is searched: on SQLite the whole data folder (database, -wal, -shm, blobs), on
 * PostgreSQL every row of every table of the schema (row_to_json). None of the secrets may appear, in
 * UTF-8, UTF-16, hex or base64 (each alignment, standard and URL-safe). Tokens and session ids are
 * found only as their hashes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { allowLocalMailServers } from '../support/local-hosts.js';
import { startDovecot, type TestDovecot } from '../harness/dovecot.js';
import { startSubmissionServer, type TestSubmissionServer } from '../harness/submission.js';
import { hashToken } from '../../src/platform/security/passwords.js';

let t: TestApp;
let dovecot: TestDovecot;
let smtp: TestSubmissionServer;
allowLocalMailServers();

beforeAll(async () => {
  dovecot = await startDovecot();
  smtp = await startSubmissionServer({ dovecot });
  t = await createTestApp();
}, 60_000);
afterAll(async () => {
  await t?.close();
  await smtp?.stop();
  await dovecot?.stop();
});

const uniq = () => Math.random().toString(36).slice(2, 8);

/** The ways a secret could sit in storage without being encrypted. */
function encodings(secret: string): string[] {
  const out = new Set<string>([secret, Buffer.from(secret).toString('hex')]);
  // A secret inside a longer base64 text shows up in one of three alignments; drop the edge
  // characters, which depend on the neighbours.
  for (const pad of ['', 'x', 'xy']) {
    for (const enc of ['base64', 'base64url'] as const) {
      const b = Buffer.from(pad + secret).toString(enc).replace(/=+$/, '');
      const skip = pad.length === 0 ? 0 : pad.length + 1;
      out.add(b.slice(skip, b.length - 2));
    }
  }
  return [...out].filter((s) => s.length >= 12);
}

/** Everything stored, as one searchable text per source. */
async function everythingStored(): Promise<Array<{ where: string; bytes: Buffer }>> {
  const found: Array<{ where: string; bytes: Buffer }> = [];
  if (t.database.pgSchema) {
    const schema = t.database.pgSchema;
    const tables = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = ${schema} and table_type = 'BASE TABLE'`.execute(t.database.db);
    expect(tables.rows.length).toBeGreaterThan(10);
    for (const { table_name } of tables.rows) {
      const rows = await sql<{ j: string }>`select row_to_json(x)::text as j from ${sql.id(schema, table_name)} x`.execute(t.database.db);
      found.push({ where: `${schema}.${table_name}`, bytes: Buffer.from(rows.rows.map((r) => r.j).join('\n')) });
    }
  }
  // Both databases: the data folder (SQLite file, -wal, -shm; raw mail blobs).
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) found.push({ where: p, bytes: fs.readFileSync(p) });
    }
  };
  walk(t.database.dataDir);
  if (!t.database.pgSchema) {
    expect(found.some((f) => f.where.endsWith('.sqlite'))).toBe(true);
    expect(found.some((f) => f.where.endsWith('-wal'))).toBe(true);
  }
  return found;
}

function whereFound(stored: Array<{ where: string; bytes: Buffer }>, secret: string): string[] {
  const hits: string[] = [];
  for (const s of encodings(secret)) {
    for (const f of stored) {
      if (f.bytes.includes(Buffer.from(s, 'utf8')) || f.bytes.includes(Buffer.from(s, 'utf16le'))) hits.push(`${f.where} (${s.slice(0, 6)}...)`);
    }
  }
  return hits;
}

describe('secrets at rest', () => {
  it('stores no mail password, API token or session id in plain text, and tokens and sessions only as hashes', async () => {
    const a = await t.account();
    const secrets: Record<string, string> = {};

    // Personal email over IMAP + SMTP.
    const personalBox = `seller-${uniq()}@example.test`;
    secrets.personalPassword = `Personal-IMAP-pw-${uniq()}-Zx81!`;
    await dovecot.addUser(personalBox, secrets.personalPassword);
    const personal = await t.api(a.token, 'POST', '/api/v1/connections', {
      type: 'personal',
      address: personalBox,
      transport: 'imap',
      imap: { host: '127.0.0.1', port: dovecot.imapPort, tls: 'none', password: secrets.personalPassword },
      smtp: { host: '127.0.0.1', port: smtp.port, tls: 'none', password: secrets.personalPassword },
    });
    expect(personal.statusCode, personal.body).toBe(201);

    // Team email over IMAP, connected to an inbox.
    const inbox = (await t.api(a.token, 'POST', '/api/v1/inboxes', { name: 'Support' })).json();
    const teamBox = `support-${uniq()}@example.test`;
    secrets.teamPassword = `Team-Mailbox-pw-${uniq()}-Qv27#`;
    await dovecot.addUser(teamBox, secrets.teamPassword);
    const team = await t.api(a.token, 'POST', '/api/v1/connections', {
      type: 'team',
      inboxId: inbox.id,
      address: teamBox,
      transport: 'imap',
      imap: { host: '127.0.0.1', port: dovecot.imapPort, tls: 'none', password: secrets.teamPassword },
      smtp: { host: '127.0.0.1', port: smtp.port, tls: 'none', password: secrets.teamPassword },
    });
    expect(team.statusCode, team.body).toBe(201);

    // The personal password is changed; the new one is stored too, sealed.
    secrets.changedPassword = `Changed-pw-${uniq()}-Lm55$`;
    await dovecot.setPassword(personalBox, secrets.changedPassword);
    const changed = await t.api(a.token, 'POST', `/api/v1/connections/${personal.json().id}/credentials`, {
      imap: { password: secrets.changedPassword },
      smtp: { password: secrets.changedPassword },
    });
    expect(changed.statusCode, changed.body).toBe(200);

    // An API token and a browser session.
    const created = await t.api(a.token, 'POST', '/api/v1/tokens', { name: 'script' });
    expect(created.statusCode, created.body).toBe(201);
    secrets.apiToken = created.json().token;
    secrets.firstToken = a.token;
    const email = (await t.api(a.token, 'GET', '/api/v1/session')).json().user.email;
    const login = await t.app.inject({ method: 'POST', url: '/api/v1/session', payload: { email, password: a.password } });
    secrets.sessionId = login.cookies.find((c) => c.name === 'mailroom_session')!.value;
    secrets.userPassword = a.password;
    for (const s of Object.values(secrets)) expect(s.length).toBeGreaterThanOrEqual(12);

    // The credentials are really there, sealed: the stored value opens to the password.
    const rows = await t.database.db.selectFrom('connections').select(['id', 'credentials']).where('account_id', '=', a.accountId).execute();
    expect(rows).toHaveLength(2);
    const opened = rows.map((r) => JSON.parse(t.env.secrets.open(r.credentials!)) as { imapPassword: string });
    expect(opened.map((o) => o.imapPassword).sort()).toEqual([secrets.changedPassword, secrets.teamPassword].sort());

    // Every byte stored.
    const stored = await everythingStored();
    for (const [name, secret] of Object.entries(secrets)) {
      expect(whereFound(stored, secret), `${name} found in plain text`).toEqual([]);
    }

    // Tokens and sessions are stored as their hashes (so the lookup works, and only that way).
    const tokenRow = await t.database.db.selectFrom('api_tokens').select('token_hash').where('token_hash', '=', hashToken(secrets.apiToken!)).executeTakeFirst();
    expect(tokenRow).toBeTruthy();
    const sessionRow = await t.database.db.selectFrom('sessions').select('id_hash').where('id_hash', '=', hashToken(secrets.sessionId!)).executeTakeFirst();
    expect(sessionRow).toBeTruthy();
    const user = await t.database.db.selectFrom('users').select('password_hash').where('email', '=', email).executeTakeFirstOrThrow();
    expect(user.password_hash).not.toContain(a.password);
    expect(user.password_hash?.length ?? 0).toBeGreaterThan(40);

    // The search itself finds what is there (it can fail): a known stored value is found.
    expect(whereFound(stored, hashToken(secrets.apiToken!)).length).toBeGreaterThan(0);
    expect(whereFound(stored, rows[0]!.credentials!.slice(0, 40)).length).toBeGreaterThan(0);
  });
});
