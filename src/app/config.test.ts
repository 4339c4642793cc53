/**
 * The configuration: defaults, parsing and validation (a bad value names the variable), and the README's
 * Configuration table lists exactly the variables Mailroom reads, so the two cannot drift apart.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLI_VARIABLES, ConfigError, loadConfig, mailPasswordFromEnv, type Config } from './config.js';

/** The variables loadConfig reads, recorded through a proxy. */
function variablesRead(): Set<string> {
  const read = new Set<string>();
  const env = new Proxy({} as Record<string, string | undefined>, {
    get(_t, key) {
      if (typeof key === 'string') read.add(key);
      return undefined;
    },
  });
  loadConfig(env);
  return read;
}

/** Variable names in the first column of the README's Configuration table. */
function readmeVariables(): Set<string> {
  const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.split(/^## Configuration\s*$/m)[1]!.split(/^## /m)[0]!;
  const names = new Set<string>();
  for (const line of section.split('\n')) {
    if (!line.startsWith('|') || /^\|\s*(variable|---)/.test(line)) continue;
    const first = line.split('|')[1]!;
    for (const m of first.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) names.add(m[1]!);
  }
  return names;
}

describe('README Configuration table', () => {
  it('lists exactly the variables config.ts reads (loadConfig and the CLI)', () => {
    const read = [...variablesRead(), ...CLI_VARIABLES].sort();
    expect(read.length).toBeGreaterThan(20);
    expect([...readmeVariables()].sort()).toEqual(read);
  });

  it('every row gives a default (or says there is none) and a meaning', () => {
    const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.split(/^## Configuration\s*$/m)[1]!.split(/^## /m)[0]!;
    const rows = section.split('\n').filter((l) => l.startsWith('| `'));
    for (const row of rows) {
      const cells = row.split('|').slice(1, -1).map((c) => c.trim());
      expect(cells, row).toHaveLength(3);
      expect(cells[1]!.length, row).toBeGreaterThan(0);
      expect(cells[2]!.length, row).toBeGreaterThan(10);
    }
  });
});

describe('loadConfig', () => {
  it('has a default for everything', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 3000,
      host: '0.0.0.0',
      dataDir: './data',
      databaseUrl: undefined,
      sqliteBusyTimeoutMs: 5000,
      publicUrl: 'http://localhost:3000',
      logLevel: 'info',
      smtpPort: 2525,
      smtpHost: '0.0.0.0',
      inboundDomain: 'localhost',
      inbound: { maxMessageBytes: 40 * 1024 * 1024, maxClients: 100, connectionsPerMinute: 120, requireTls: false, senderAuth: true },
      secureCookies: false,
      trustProxy: false,
      adminEmail: undefined,
      secretKey: undefined,
      notifyFrom: 'Mailroom <notifications@localhost>',
      notifyBatchMs: 60_000,
      sync: { sliceMs: 25 * 60_000, idleReissueMs: 2 * 60_000, pollMs: 5 * 60_000 },
      mailboxes: { perWorker: 5000, syncConcurrency: 16, reconnectConcurrency: 20, socketTimeoutMs: 5 * 60_000, idleReissueMs: 2 * 60_000, pollMs: 5 * 60_000, leaseMs: 30_000 },
      trackingSettleMs: 15_000,
      trackingDigestMs: 60_000,
      sseRecheckMs: 15_000,
      loginRateMax: 10,
      imageProxyRateMax: 300,
    } satisfies Partial<Config>);
    expect(c.allowPrivateHosts.hosts.size + c.allowPrivateHosts.cidrs.length).toBe(0);
  });

  it.each<[string, Record<string, string>, Partial<Config>]>([
    ['PORT sets the port and the default PUBLIC_URL', { PORT: '8080' }, { port: 8080, publicUrl: 'http://localhost:8080' }],
    ['an https PUBLIC_URL turns Secure cookies on', { PUBLIC_URL: 'https://crm.example.com' }, { secureCookies: true, inboundDomain: 'crm.example.com' }],
    ['SECURE_COOKIES=false wins over https', { PUBLIC_URL: 'https://crm.example.com', SECURE_COOKIES: 'false' }, { secureCookies: false }],
    ['booleans take true/false/1/0/yes/no', { TRUST_PROXY: '1' }, { trustProxy: true }],
    ['INBOUND_DOMAIN feeds the default NOTIFY_FROM', { INBOUND_DOMAIN: 'in.example.com' }, { notifyFrom: 'Mailroom <notifications@in.example.com>' }],
    ['empty means unset', { DATABASE_URL: '', MAILROOM_ADMIN_EMAIL: '', PORT: '' }, { databaseUrl: undefined, adminEmail: undefined, port: 3000 }],
    ['PostgreSQL URL', { DATABASE_URL: 'postgresql://u:p@db:5432/mailroom', DATABASE_SCHEMA: 'crm' }, { databaseUrl: 'postgresql://u:p@db:5432/mailroom', databaseSchema: 'crm' }],
    ['fractional NOTIFY_BATCH_SECONDS', { NOTIFY_BATCH_SECONDS: '0.3' }, { notifyBatchMs: 300 }],
    ['sync intervals', { MAILROOM_SYNC_SLICE_MS: '0', MAILROOM_IDLE_REISSUE_MS: '60000', MAILROOM_POLL_MS: '2000' }, { sync: { sliceMs: 0, idleReissueMs: 60_000, pollMs: 2000 }, mailboxes: { perWorker: 5000, syncConcurrency: 16, reconnectConcurrency: 20, socketTimeoutMs: 300_000, idleReissueMs: 60_000, pollMs: 2000, leaseMs: 30_000 } }],
    ['mailboxes', { MAILROOM_MAILBOXES_PER_WORKER: '100', MAILROOM_SYNC_CONCURRENCY: '4', MAILROOM_RECONNECT_CONCURRENCY: '2', MAILROOM_IMAP_SOCKET_TIMEOUT_MS: '60000', MAILROOM_LEASE_MS: '9000' }, { mailboxes: { perWorker: 100, syncConcurrency: 4, reconnectConcurrency: 2, socketTimeoutMs: 60_000, idleReissueMs: 30_000, pollMs: 300_000, leaseMs: 9000 } }],
    ['inbound limits', { MAILROOM_INBOUND_MAX_BYTES: '1048576', MAILROOM_INBOUND_MAX_CLIENTS: '5', MAILROOM_INBOUND_CONNECTIONS_PER_MINUTE: '9' }, { inbound: { maxMessageBytes: 1_048_576, maxClients: 5, connectionsPerMinute: 9, requireTls: false, senderAuth: true } }],
    ['admin password is kept as given (not trimmed)', { MAILROOM_ADMIN_PASSWORD: ' spaced out ' }, { adminPassword: ' spaced out ' }],
    ['busy timeout', { MAILROOM_SQLITE_BUSY_TIMEOUT_MS: '0' }, { sqliteBusyTimeoutMs: 0 }],
  ])('%s', (_name, env, expected) => {
    expect(loadConfig(env)).toMatchObject(expected);
  });

  it('parses the allow-list of private hosts', () => {
    const c = loadConfig({ MAILROOM_ALLOW_PRIVATE_HOSTS: 'imap.corp.test, 10.0.0.0/8' });
    expect([...c.allowPrivateHosts.hosts]).toEqual(['imap.corp.test']);
    expect(c.allowPrivateHosts.cidrs.map((x) => x.text)).toEqual(['10.0.0.0/8']);
    // The mail servers' list is not the image proxy's (issue 21): each has its own variable.
    expect(c.imageProxyAllowHosts.hosts.size + c.imageProxyAllowHosts.cidrs.length).toBe(0);
  });

  it("parses the image proxy's own allow-list", () => {
    const c = loadConfig({ MAILROOM_IMAGE_PROXY_ALLOW_HOSTS: 'cdn.intranet.test 192.168.0.0/16' });
    expect([...c.imageProxyAllowHosts.hosts]).toEqual(['cdn.intranet.test']);
    expect(c.imageProxyAllowHosts.cidrs.map((x) => x.text)).toEqual(['192.168.0.0/16']);
    expect(c.allowPrivateHosts.hosts.size + c.allowPrivateHosts.cidrs.length).toBe(0);
  });

  it.each<[string, string, RegExp]>([
    ['PORT', 'eighty', /PORT="eighty" is not valid: expected a whole number from 0 to 65535/],
    ['PORT', '70000', /from 0 to 65535/],
    ['SMTP_PORT', '-1', /SMTP_PORT/],
    ['PUBLIC_URL', 'crm.example.com', /PUBLIC_URL.*a URL/],
    ['PUBLIC_URL', 'ftp://crm.example.com', /PUBLIC_URL.*http:\/\/ or https:\/\//],
    ['DATABASE_URL', 'mysql://u:secret@db/x', /DATABASE_URL="mysql:\/\/u:\*\*\*@db\/x".*postgres:\/\//],
    ['NOTIFY_SMTP_URL', 'mail.example.com:587', /NOTIFY_SMTP_URL/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL="loud".*info/],
    ['TRUST_PROXY', 'maybe', /TRUST_PROXY="maybe".*true or false/],
    ['SECURE_COOKIES', 'on please', /SECURE_COOKIES/],
    ['MAILROOM_SYNC_CONCURRENCY', '0', /MAILROOM_SYNC_CONCURRENCY.*at least 1/],
    ['MAILROOM_SYNC_CONCURRENCY', '2.5', /whole number/],
    ['MAILROOM_IDLE_REISSUE_MS', String(29 * 60_000), /MAILROOM_IDLE_REISSUE_MS.*500 to 300000/],
    ['MAILROOM_SSE_RECHECK_MS', '10', /at least 50/],
    ['MAILROOM_LOGIN_RATE_MAX', '10/min', /MAILROOM_LOGIN_RATE_MAX/],
    ['MAILROOM_IMAGE_PROXY_RATE_MAX', '0', /at least 1/],
    ['MAILROOM_INBOUND_MAX_BYTES', '1e9', /whole number/],
    ['NOTIFY_BATCH_SECONDS', '-1', /NOTIFY_BATCH_SECONDS.*at least 0/],
    ['MAILROOM_SQLITE_BUSY_TIMEOUT_MS', 'forever', /MAILROOM_SQLITE_BUSY_TIMEOUT_MS/],
    ['MAILROOM_ALLOW_PRIVATE_HOSTS', '10.0.0.0/33', /MAILROOM_ALLOW_PRIVATE_HOSTS.*"10\.0\.0\.0\/33" is none of these/],
    ['MAILROOM_IMAGE_PROXY_ALLOW_HOSTS', 'http://x/', /MAILROOM_IMAGE_PROXY_ALLOW_HOSTS.*is none of these/],
  ])('refuses %s=%s', (name, value, message) => {
    let err: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe(name);
    expect((err as Error).message).toMatch(message);
  });
});

describe('mailPasswordFromEnv', () => {
  it('reads the named variable (MAILROOM_MAIL_PASSWORD by default), untrimmed; blank is unset', () => {
    expect(mailPasswordFromEnv(undefined, { MAILROOM_MAIL_PASSWORD: ' pw ' })).toBe(' pw ');
    expect(mailPasswordFromEnv('BOX_PW', { BOX_PW: 'x' })).toBe('x');
    expect(mailPasswordFromEnv('BOX_PW', { BOX_PW: '  ' })).toBeUndefined();
  });
});
