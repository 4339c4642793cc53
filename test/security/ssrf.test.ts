/**
 * SSRF, with the guard fully on (MAILROOM_ALLOW_PRIVATE_HOSTS unset for this file): IMAP and SMTP hosts
 * typed into the connect form and image URLs given to the image proxy are refused when they are, or
 * resolve to, private, loopback, link-local, CGNAT, unique-local, mapped or cloud metadata addresses,
 * in every spelling, with a clear code, and nothing is ever connected to. A listener on every local
 * address counts connection attempts: it must see none. The pure classification table is in
 * src/platform/security/address-ranges.test.ts; this checks the product's entry points.
 */
import net from 'node:net';
import os from 'node:os';
import { lookup } from 'node:dns/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { classifyIp } from '../../src/platform/security/address-ranges.js';
import { insertConnection } from '../support/connections.js';
import pino from 'pino';
import { createIngestor } from '../../src/app/engine.js';
import { runConnectionSync } from '../../src/features/connections/sync-job.js';
import { setPrivateHostsForTest } from '../support/local-hosts.js';

let t: TestApp;
let a: { token: string; accountId: string; adminUserId: string };
let inboxId: string;
let listener: net.Server;
let port: number;
let attempts = 0;
let restoreAllow: (() => void) | undefined;
/** A real name the system resolver (not Mailroom's localhost rule) maps to a non-public address. */
let localName: string | null = null;

beforeAll(async () => {
  restoreAllow = setPrivateHostsForTest([]);
  listener = net.createServer((socket) => {
    attempts += 1;
    socket.end('* OK hello\r\n');
  });
  // Dual-stack when the machine has IPv6, so ::1 and 127.0.0.1 both reach it.
  await new Promise<void>((resolve) => {
    listener.once('error', () => listener.listen(0, '0.0.0.0', resolve));
    listener.listen(0, '::', resolve);
  });
  port = (listener.address() as net.AddressInfo).port;
  const found = await lookup(os.hostname(), { all: true }).catch(() => []);
  if (found.length > 0 && found.every((f) => classifyIp(f.address) !== 'public')) localName = os.hostname();
  t = await createTestApp();
  a = await t.account();
  inboxId = (await t.api(a.token, 'POST', '/api/v1/inboxes', { name: 'Support' })).json().id;
});
afterAll(async () => {
  restoreAllow?.();
  await t?.close();
  await new Promise((resolve) => listener?.close(resolve));
});

/** Every spelling that means this machine or a private network. */
const HOSTS = [
  '127.0.0.1',
  '127.0.0.2',
  '127.1',
  '2130706433', // decimal
  '0x7f000001', // hex
  '0x7f.1',
  '017700000001', // octal
  '0177.0.0.1',
  '0.0.0.0',
  '0',
  '::1',
  '[::1]',
  '::',
  '::ffff:127.0.0.1', // IPv4-mapped
  '::ffff:7f00:1',
  '[::ffff:10.0.0.1]',
  '64:ff9b::7f00:1', // NAT64 of loopback
  '10.0.0.1',
  '172.16.5.4',
  '192.168.1.1',
  '100.64.0.1', // CGNAT
  '169.254.1.1', // link-local
  '169.254.169.254', // cloud metadata
  '0xa9fea9fe', // metadata, hex
  'fd00:ec2::254', // AWS metadata over IPv6
  'fc00::1', // unique local
  'fe80::1', // link-local IPv6
  '::ffff:169.254.169.254', // metadata behind a mapped address
  '127.0.0.1.', // trailing dot
  '\uff11\uff12\uff17.\uff10.\uff10.\uff11', // full-width digits, mapped to 127.0.0.1 by IDN processing
  'localhost',
  'LocalHost.',
  'imap.localhost',
];

function urlHost(h: string): string {
  const bare = h.replace(/^\[|\]$/g, '');
  return bare.includes(':') ? `[${bare}]` : bare;
}

describe('connecting email to a private host is refused before any connection', () => {
  it.each(HOSTS)('IMAP host %s', async (host) => {
    const before = attempts;
    const r = await t.api(a.token, 'POST', '/api/v1/connections', {
      type: 'personal',
      address: `ssrf-imap-${Math.random().toString(36).slice(2, 8)}@example.test`,
      transport: 'imap',
      imap: { host, port, tls: 'none', password: 'pw' },
      smtp: { host: 'smtp.example.test', port: 587, tls: 'starttls', password: 'pw' },
    });
    expect(r.statusCode, r.body).toBe(422);
    expect(r.json().error).toMatchObject({ code: 'host_not_allowed', details: { field: 'imap.host' } });
    expect(r.json().error.message).toMatch(/refuses private, loopback and link-local/);
    expect(r.json().error.resolution).toMatch(/MAILROOM_ALLOW_PRIVATE_HOSTS/);
    expect(attempts).toBe(before);
  });

  it.each(HOSTS)('SMTP host %s (team email by forwarding)', async (host) => {
    const before = attempts;
    const r = await t.api(a.token, 'POST', '/api/v1/connections', {
      type: 'team',
      inboxId,
      address: `ssrf-smtp-${Math.random().toString(36).slice(2, 8)}@example.test`,
      transport: 'forwarding',
      smtp: { host, port, tls: 'none', password: 'pw' },
    });
    expect(r.statusCode, r.body).toBe(422);
    expect(r.json().error).toMatchObject({ code: 'host_not_allowed', details: { field: 'smtp.host' } });
    expect(attempts).toBe(before);
  });

  it('a DNS name that resolves to this machine (through the system resolver) is refused too', async () => {
    if (!localName) return; // this machine's name resolves publicly: nothing to check here
    const before = attempts;
    const r = await t.api(a.token, 'POST', '/api/v1/connections', {
      type: 'personal',
      address: `ssrf-name-${Math.random().toString(36).slice(2, 8)}@example.test`,
      transport: 'imap',
      imap: { host: localName, port, tls: 'none', password: 'pw' },
      smtp: { host: localName, port, tls: 'none', password: 'pw' },
    });
    expect(r.json().error).toMatchObject({ code: 'host_not_allowed', details: { field: 'imap.host' } });
    expect(r.json().error.message).toMatch(/resolves to/);
    expect(attempts).toBe(before);
  });

  it('nothing was stored', async () => {
    const rows = await t.database.db.selectFrom('connections').select('id').where('account_id', '=', a.accountId).execute();
    expect(rows).toEqual([]);
  });

  it('moving an existing connection to a private host (new credentials and settings) is refused the same way', async () => {
    const c = await insertConnection(t, {
      accountId: a.accountId,
      userId: a.adminUserId,
      type: 'personal',
      address: `moved-${Math.random().toString(36).slice(2, 8)}@example.test`,
      imap: { host: 'imap.example.test', port: 993, username: 'u', password: 'old' },
      smtp: { host: 'smtp.example.test', port: 587, username: 'u', password: 'old' },
    });
    const team = await insertConnection(t, {
      accountId: a.accountId,
      userId: a.adminUserId,
      type: 'team',
      inboxId,
      transport: 'forwarding',
      address: `moved-team-${Math.random().toString(36).slice(2, 8)}@example.test`,
      smtp: { host: 'smtp.example.test', port: 587, username: 'u', password: 'old' },
    });
    const before = attempts;
    for (const host of ['127.0.0.1', '169.254.169.254', '[::1]', 'localhost', '0x7f.1']) {
      const imap = await t.api(a.token, 'POST', `/api/v1/connections/${c.id}/credentials`, { imap: { host, port, password: 'pw' }, smtp: { password: 'pw' } });
      expect([imap.statusCode, imap.json().error.code, imap.json().error.details.field], host).toEqual([422, 'host_not_allowed', 'imap.host']);
      const smtp = await t.api(a.token, 'POST', `/api/v1/connections/${team.id}/credentials`, { smtp: { host, port, password: 'pw' } });
      expect([smtp.statusCode, smtp.json().error.code, smtp.json().error.details.field], host).toEqual([422, 'host_not_allowed', 'smtp.host']);
    }
    expect(attempts).toBe(before);
    const row = await t.database.db.selectFrom('connections').select(['imap_host', 'smtp_host']).where('id', '=', c.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ imap_host: 'imap.example.test', smtp_host: 'smtp.example.test' });
    const teamRow = await t.database.db.selectFrom('connections').select('smtp_host').where('id', '=', team.id).executeTakeFirstOrThrow();
    expect(teamRow.smtp_host).toBe('smtp.example.test');
  });
});

describe('the image proxy refuses private destinations before any connection', () => {
  const proxy = (url: string) =>
    t.app.inject({ method: 'GET', url: `/api/v1/image-proxy?url=${encodeURIComponent(url)}`, headers: { authorization: `Bearer ${a.token}` } });

  it.each(HOSTS)('http://%s', async (host) => {
    const before = attempts;
    const r = await proxy(`http://${urlHost(host)}:${port}/pixel.png`);
    expect(r.statusCode, r.body).toBe(403);
    expect(r.json().error.code).toBe('host_not_allowed');
    expect(attempts).toBe(before);
  });

  it('https, default ports, and a name resolving to this machine are refused the same way', async () => {
    const before = attempts;
    const urls = ['https://127.0.0.1/x.png', 'http://169.254.169.254/latest/meta-data/', 'http://[fd00:ec2::254]/latest/', 'https://localhost/x.png'];
    if (localName) urls.push(`http://${localName}:${port}/x.png`);
    for (const url of urls) {
      const r = await proxy(url);
      expect([r.statusCode, r.json().error.code], url).toEqual([403, 'host_not_allowed']);
    }
    expect(attempts).toBe(before);
  });
});

describe('a host stored earlier (allowed then, or resolving differently then) is checked again at every sync', () => {
  it('the sync refuses it, records why on the connection, and never connects', async () => {
    const b = await t.account(); // its own user: one default personal connection per user
    const c = await insertConnection(t, {
      accountId: b.accountId,
      userId: b.adminUserId,
      type: 'personal',
      address: `stored-${Math.random().toString(36).slice(2, 8)}@example.test`,
      imap: { host: 'localhost', port, username: 'u', password: 'pw' },
      smtp: { host: 'localhost', port, username: 'u', password: 'pw' },
    });
    const before = attempts;
    const ctx = { log: pino({ level: 'silent' }), signal: new AbortController().signal, workerId: 'security-test' };
    await expect(runConnectionSync(createIngestor(t.env), ctx, c.id)).rejects.toBeTruthy();
    expect(attempts).toBe(before);
    const row = await t.database.db.selectFrom('connections').select(['last_error_code', 'last_error_message', 'failure_count']).where('id', '=', c.id).executeTakeFirstOrThrow();
    expect(row.last_error_code).toBe('host_not_allowed');
    expect(row.last_error_message).toMatch(/loopback/);
    expect(row.failure_count).toBe(1);
  });
});
