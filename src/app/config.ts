/**
 * Every setting Mailroom reads from the environment, in one place: parsed, checked and given its
 * default here, then handed to the code that needs it as plain values (src/app/env.ts puts them in
 * the commands' settings, runtime.ts and engine.ts pass the rest). Nothing else in src/ reads
 * process.env. Each variable is listed in the README's Configuration table (a test keeps the two in
 * step). A bad value stops the process with a ConfigError naming the variable and what it expects.
 */
import { AllowListError, parseAllowListText, type AllowList } from '../platform/security/host-guard.js';
import { parseServerUrl, type OAuthProvidersConfig } from '../features/connections/oauth/providers.js';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl?: string;
  /** PostgreSQL schema (default: the connection's search_path, usually public). */
  databaseSchema?: string;
  /** SQLite: how long a write waits for another process's write lock before failing (ms). */
  sqliteBusyTimeoutMs: number;
  publicUrl: string;
  logLevel: string;
  /** Inbound SMTP (forwarding and BCC logging addresses). */
  smtpPort: number;
  smtpHost: string;
  /** Domain of generated forwarding and BCC addresses. */
  inboundDomain: string;
  /** Inbound SMTP limits: largest message, clients at once, new connections per minute per client. */
  /**
   * Inbound SMTP limits, and STARTTLS when MAILROOM_SMTP_TLS_KEY and MAILROOM_SMTP_TLS_CERT name PEM files
   * (read again when they change); MAILROOM_SMTP_REQUIRE_TLS refuses MAIL FROM before STARTTLS;
   * MAILROOM_INBOUND_SENDER_AUTH verifies SPF, DKIM, DMARC and ARC of each message (default on).
   */
  inbound: { maxMessageBytes: number; maxClients: number; connectionsPerMinute: number; tls?: { keyFile: string; certFile: string }; requireTls: boolean; senderAuth: boolean };
  /** Serve cookies with Secure (set when behind TLS). */
  secureCookies: boolean;
  trustProxy: boolean;
  adminEmail?: string;
  adminPassword?: string;
  /** Key that seals mail passwords (base64 or hex); unset: DATA_DIR/secret.key. Parsed by secret-box. */
  secretKey?: string;
  /** Older keys (comma- or space-separated), for rotation. */
  previousSecretKeys?: string;
  /** Private hosts the SSRF guard lets through (IMAP/SMTP servers, image proxy). */
  allowPrivateHosts: AllowList;
  /** The raw MAILROOM_ALLOW_PRIVATE_HOSTS text, for messages. */
  allowPrivateHostsText: string;
  /** SMTP server for notification email (smtp://user:pass@host:587 or smtps://...); unset: in-app only. */
  notifySmtpUrl?: string;
  /** From of notification email. */
  notifyFrom: string;
  /** Notification email batches what happens within this window (ms). */
  notifyBatchMs: number;
  /**
   * Single-connection sync runs (a process without a mailbox supervisor): the slice one run keeps a
   * connection, IDLE re-issue and poll of other folders (ms); the last two are the mailboxes' own.
   */
  sync: { sliceMs: number; idleReissueMs: number; pollMs: number };
  /** Tracking hits: settle time before processing, and the notification batching window (ms). */
  trackingSettleMs: number;
  trackingDigestMs: number;
  /** How often an open live-update stream rechecks its reader's access (ms). */
  sseRecheckMs: number;
  /** Sign-in attempts per minute per address and client. */
  loginRateMax: number;
  /** Images per minute per reader through the image proxy. */
  imageProxyRateMax: number;
  /** MAILROOM_IMAGE_PROXY_ALLOW_HOSTS: private hosts the image proxy may fetch from (the mail servers' list does not apply to it). */
  imageProxyAllowHosts: AllowList;
  /** Authserv-ids whose topmost Authentication-Results header IMAP sync believes (besides known providers'). */
  trustedAuthservIds: string[];
  /** Mailbox sync (issue 20): see MailboxSupervisor and MailboxSession. */
  mailboxes: {
    /** Most mailboxes one worker process holds open and listening (same value on every worker). */
    perWorker: number;
    /** Sync passes (fetch, parse, write) at once per worker; idle mailboxes take none. */
    syncConcurrency: number;
    /** IMAP logins in progress at once per worker (reconnect storms after an outage). */
    reconnectConcurrency: number;
    /** IMAP socket inactivity timeout. */
    socketTimeoutMs: number;
    /** IDLE re-issued this often (kept under the socket timeout and 29 minutes). */
    idleReissueMs: number;
    /** Folders without IDLE (Sent) passed at least this often; the longest poll interval of servers without IDLE. */
    pollMs: number;
    /** Mailbox and worker leases; renewed every third of it; failover within about 1.3 times it. */
    leaseMs: number;
  };
  /** OAuth mailboxes (issue 14): the providers the operator registered Mailroom with; unset ones are not offered. */
  oauth: OAuthProvidersConfig;
}

/** A bad value in the environment: names the variable, the value and what was expected. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    value: string,
    expected: string,
  ) {
    super(`${variable}=${JSON.stringify(value)} is not valid: expected ${expected}.`);
    this.name = 'ConfigError';
  }
}

/**
 * Variables read by the command line rather than by loadConfig: `connections connect` takes the mail
 * password from MAILROOM_MAIL_PASSWORD (or the variable named by --password-env).
 */
export const CLI_VARIABLES = ['MAILROOM_MAIL_PASSWORD'] as const;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const MINUTE = 60_000;

type Env = Record<string, string | undefined>;

/** The value of a variable; empty or blank counts as unset. */
function text(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** MAILROOM_SMTP_TLS_KEY and MAILROOM_SMTP_TLS_CERT: both (STARTTLS on) or neither; MAILROOM_SMTP_REQUIRE_TLS only with them. */
function smtpTls(env: Env): { tls?: { keyFile: string; certFile: string }; requireTls: boolean } {
  const keyFile = text(env, 'MAILROOM_SMTP_TLS_KEY');
  const certFile = text(env, 'MAILROOM_SMTP_TLS_CERT');
  const requireTls = bool(env, 'MAILROOM_SMTP_REQUIRE_TLS', false);
  if (keyFile && !certFile) throw new ConfigError('MAILROOM_SMTP_TLS_CERT', '', 'the certificate file (PEM) to go with MAILROOM_SMTP_TLS_KEY');
  if (certFile && !keyFile) throw new ConfigError('MAILROOM_SMTP_TLS_KEY', '', 'the private key file (PEM) to go with MAILROOM_SMTP_TLS_CERT');
  if (requireTls && !keyFile)
    throw new ConfigError(
      'MAILROOM_SMTP_REQUIRE_TLS',
      'true',
      'false unless MAILROOM_SMTP_TLS_KEY and MAILROOM_SMTP_TLS_CERT are set (TLS cannot be required without a certificate)',
    );
  return keyFile && certFile ? { tls: { keyFile, certFile }, requireTls } : { requireTls };
}

/** A comma- or space-separated list of host names (lower-cased). */
function hostList(env: Env, name: string): string[] {
  const raw = text(env, name);
  if (raw === undefined) return [];
  const names = raw
    .toLowerCase()
    .split(/[\s,]+/)
    .filter(Boolean);
  const bad = names.find((n) => !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(n));
  if (bad) throw new ConfigError(name, raw, `host names separated by commas ("${bad}" is not one)`);
  return names;
}

function int(env: Env, name: string, def: number, o: { min?: number; max?: number } = {}): number {
  const raw = text(env, name);
  if (raw === undefined) return def;
  const min = o.min ?? 0;
  const n = /^[+-]?\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || (o.max !== undefined && n > o.max)) {
    throw new ConfigError(name, raw, `a whole number${o.max !== undefined ? ` from ${min} to ${o.max}` : ` of at least ${min}`}`);
  }
  return n;
}

function num(env: Env, name: string, def: number, o: { min?: number } = {}): number {
  const raw = text(env, name);
  if (raw === undefined) return def;
  const n = Number(raw);
  const min = o.min ?? 0;
  if (!Number.isFinite(n) || n < min) throw new ConfigError(name, raw, `a number of at least ${min}`);
  return n;
}

function bool(env: Env, name: string, def: boolean): boolean {
  const raw = text(env, name);
  if (raw === undefined) return def;
  const v = raw.toLowerCase();
  if (v === 'true' || v === '1' || v === 'yes') return true;
  if (v === 'false' || v === '0' || v === 'no') return false;
  throw new ConfigError(name, raw, 'true or false');
}

function url(env: Env, name: string, schemes: string[]): string | undefined {
  const raw = text(env, name);
  if (raw === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(name, redact(raw), `a URL (${schemes.map((s) => `${s}//...`).join(' or ')})`);
  }
  if (!schemes.includes(u.protocol)) throw new ConfigError(name, redact(raw), `a URL starting with ${schemes.map((s) => `${s}//`).join(' or ')}`);
  return raw;
}

/** Hides a password in a URL before it goes into an error message. */
function redact(raw: string): string {
  return raw.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}

/** A client id and an optional secret: the secret without the id is a mistake worth stopping for. */
function oauthClient(env: Env, prefix: string): { clientId: string; clientSecret?: string } | undefined {
  const clientId = text(env, `${prefix}_CLIENT_ID`);
  const clientSecret = text(env, `${prefix}_CLIENT_SECRET`);
  if (!clientId && clientSecret) throw new ConfigError(`${prefix}_CLIENT_ID`, '', `the client id that goes with ${prefix}_CLIENT_SECRET`);
  return clientId ? { clientId, ...(clientSecret ? { clientSecret } : {}) } : undefined;
}

function mailServerUrl(env: Env, name: string, kind: 'imap' | 'smtp'): ReturnType<typeof parseServerUrl> | undefined {
  const raw = text(env, name);
  if (raw === undefined) return undefined;
  const s = parseServerUrl(raw, kind);
  if (!s) throw new ConfigError(name, raw, `${kind}s://host:port (TLS), ${kind}://host:port (STARTTLS) or ${kind}://host:port?tls=none`);
  return s;
}

/** OAuth providers (issue 14): Google, Microsoft, and one generic OpenID Connect issuer. */
function oauthConfig(env: Env): OAuthProvidersConfig {
  const google = oauthClient(env, 'MAILROOM_OAUTH_GOOGLE');
  if (google && !google.clientSecret) throw new ConfigError('MAILROOM_OAUTH_GOOGLE_CLIENT_SECRET', '', 'the client secret of the Google OAuth client (Google web clients always have one)');
  const microsoft = oauthClient(env, 'MAILROOM_OAUTH_MICROSOFT');
  const tenant = text(env, 'MAILROOM_OAUTH_MICROSOFT_TENANT') ?? 'common';
  if (!/^[A-Za-z0-9.-]+$/.test(tenant)) throw new ConfigError('MAILROOM_OAUTH_MICROSOFT_TENANT', tenant, 'common, organizations, a tenant id or a tenant domain');
  const oidcClient = oauthClient(env, 'MAILROOM_OAUTH_OIDC');
  const issuer = url(env, 'MAILROOM_OAUTH_OIDC_ISSUER', ['https:', 'http:']);
  const name = text(env, 'MAILROOM_OAUTH_OIDC_NAME') ?? 'your provider';
  const scopes = (text(env, 'MAILROOM_OAUTH_OIDC_SCOPES') ?? '').split(/[\s,]+/).filter(Boolean);
  const imap = mailServerUrl(env, 'MAILROOM_OAUTH_OIDC_IMAP', 'imap');
  const smtp = mailServerUrl(env, 'MAILROOM_OAUTH_OIDC_SMTP', 'smtp');
  if (issuer && issuer.startsWith('http:') && !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:|\/|$)/.test(issuer)) {
    throw new ConfigError('MAILROOM_OAUTH_OIDC_ISSUER', issuer, 'an https:// issuer URL (plain http only on loopback)');
  }
  let oidc: OAuthProvidersConfig['oidc'];
  if (issuer || oidcClient) {
    if (!issuer) throw new ConfigError('MAILROOM_OAUTH_OIDC_ISSUER', '', 'the issuer URL of the OpenID provider that goes with MAILROOM_OAUTH_OIDC_CLIENT_ID');
    if (!oidcClient) throw new ConfigError('MAILROOM_OAUTH_OIDC_CLIENT_ID', '', 'the client id registered at MAILROOM_OAUTH_OIDC_ISSUER');
    if (!imap) throw new ConfigError('MAILROOM_OAUTH_OIDC_IMAP', '', 'the IMAP server of the mailboxes behind the OpenID provider (imaps://host:993)');
    if (!smtp) throw new ConfigError('MAILROOM_OAUTH_OIDC_SMTP', '', 'the SMTP server of the mailboxes behind the OpenID provider (smtps://host:465 or smtp://host:587)');
    oidc = { ...oidcClient, issuer: issuer.replace(/\/$/, ''), name, scopes, imap, smtp };
  }
  return {
    ...(google ? { google } : {}),
    ...(microsoft ? { microsoft: { ...microsoft, tenant } } : {}),
    ...(oidc ? { oidc } : {}),
  };
}

/** An allow-list variable (host names, `*.suffix`, IPs, CIDRs); a malformed entry stops startup naming it. */
function allowListVar(name: string, value: string): AllowList {
  try {
    return parseAllowListText(value);
  } catch (err) {
    if (err instanceof AllowListError) throw new ConfigError(name, value, `host names, "*.suffix", IP addresses or CIDR ranges, comma-separated ("${err.entry}" is none of these)`);
    throw err;
  }
}

export function loadConfig(env: Env = process.env): Config {
  // Every variable is read once, unconditionally (the README test records which ones are read).
  const port = int(env, 'PORT', 3000, { max: 65_535 });
  const publicUrl = url(env, 'PUBLIC_URL', ['http:', 'https:']) ?? `http://localhost:${port}`;
  const inboundDomain = text(env, 'INBOUND_DOMAIN') ?? new URL(publicUrl).hostname;
  const logLevel = text(env, 'LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError('LOG_LEVEL', logLevel, LOG_LEVELS.join(', '));
  const allowPrivateHostsText = text(env, 'MAILROOM_ALLOW_PRIVATE_HOSTS') ?? '';
  const allowPrivateHosts = allowListVar('MAILROOM_ALLOW_PRIVATE_HOSTS', allowPrivateHostsText);
  const imageProxyAllowHosts = allowListVar('MAILROOM_IMAGE_PROXY_ALLOW_HOSTS', text(env, 'MAILROOM_IMAGE_PROXY_ALLOW_HOSTS') ?? '');
  const oauth = oauthConfig(env);
  const secureCookies = bool(env, 'SECURE_COOKIES', publicUrl.startsWith('https:'));
  // Mailbox sync (issue 20). IDLE is re-issued well before the socket timeout, which stays above the
  // servers' keepalive during IDLE (Dovecot: 2 minutes), and under 29 minutes (RFC 2177).
  const socketTimeoutMs = int(env, 'MAILROOM_IMAP_SOCKET_TIMEOUT_MS', 5 * MINUTE, { min: 1000 });
  const mailboxes = {
    perWorker: int(env, 'MAILROOM_MAILBOXES_PER_WORKER', 5000, { min: 1 }),
    syncConcurrency: int(env, 'MAILROOM_SYNC_CONCURRENCY', 16, { min: 1 }),
    reconnectConcurrency: int(env, 'MAILROOM_RECONNECT_CONCURRENCY', 20, { min: 1 }),
    socketTimeoutMs,
    idleReissueMs: int(env, 'MAILROOM_IDLE_REISSUE_MS', Math.min(2 * MINUTE, Math.floor(socketTimeoutMs / 2)), { min: 500, max: Math.min(28 * MINUTE, socketTimeoutMs) }),
    pollMs: int(env, 'MAILROOM_POLL_MS', 5 * MINUTE, { min: 1000 }),
    leaseMs: int(env, 'MAILROOM_LEASE_MS', 30_000, { min: 3000 }),
  };
  return {
    port,
    host: text(env, 'HOST') ?? '0.0.0.0',
    dataDir: text(env, 'DATA_DIR') ?? './data',
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    databaseSchema: text(env, 'DATABASE_SCHEMA'),
    sqliteBusyTimeoutMs: int(env, 'MAILROOM_SQLITE_BUSY_TIMEOUT_MS', 5000),
    publicUrl,
    logLevel,
    smtpPort: int(env, 'SMTP_PORT', 2525, { max: 65_535 }),
    smtpHost: text(env, 'SMTP_HOST') ?? '0.0.0.0',
    inboundDomain,
    inbound: {
      maxMessageBytes: int(env, 'MAILROOM_INBOUND_MAX_BYTES', 40 * 1024 * 1024, { min: 1024 }),
      maxClients: int(env, 'MAILROOM_INBOUND_MAX_CLIENTS', 100, { min: 1 }),
      connectionsPerMinute: int(env, 'MAILROOM_INBOUND_CONNECTIONS_PER_MINUTE', 120, { min: 1 }),
      ...smtpTls(env),
      senderAuth: bool(env, 'MAILROOM_INBOUND_SENDER_AUTH', true),
    },
    secureCookies,
    trustProxy: bool(env, 'TRUST_PROXY', false),
    adminEmail: text(env, 'MAILROOM_ADMIN_EMAIL'),
    adminPassword: text(env, 'MAILROOM_ADMIN_PASSWORD') === undefined ? undefined : env.MAILROOM_ADMIN_PASSWORD, // not trimmed
    secretKey: text(env, 'MAILROOM_SECRET_KEY'),
    previousSecretKeys: text(env, 'MAILROOM_SECRET_KEY_PREVIOUS'),
    allowPrivateHosts,
    allowPrivateHostsText,
    notifySmtpUrl: url(env, 'NOTIFY_SMTP_URL', ['smtp:', 'smtps:']),
    notifyFrom: text(env, 'NOTIFY_FROM') ?? `Mailroom <notifications@${inboundDomain}>`,
    notifyBatchMs: Math.round(num(env, 'NOTIFY_BATCH_SECONDS', 60) * 1000),
    sync: { sliceMs: int(env, 'MAILROOM_SYNC_SLICE_MS', 25 * MINUTE), idleReissueMs: mailboxes.idleReissueMs, pollMs: mailboxes.pollMs },
    mailboxes,
    trackingSettleMs: int(env, 'MAILROOM_TRACKING_SETTLE_MS', 15_000),
    trackingDigestMs: int(env, 'MAILROOM_TRACKING_DIGEST_MS', 60_000),
    sseRecheckMs: int(env, 'MAILROOM_SSE_RECHECK_MS', 15_000, { min: 50 }),
    loginRateMax: int(env, 'MAILROOM_LOGIN_RATE_MAX', 10, { min: 1 }),
    imageProxyRateMax: int(env, 'MAILROOM_IMAGE_PROXY_RATE_MAX', 300, { min: 1 }),
    imageProxyAllowHosts,
    trustedAuthservIds: hostList(env, 'MAILROOM_TRUSTED_AUTHSERV_IDS'),
    oauth,
  };
}

/** The mail password for `mailroom connections connect`, from the variable --password-env names. */
export function mailPasswordFromEnv(variable: string = CLI_VARIABLES[0], env: Env = process.env): string | undefined {
  return text(env, variable) === undefined ? undefined : env[variable];
}
