/** Every setting Mailroom reads from the environment, with its default. Documented in the README. */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl?: string;
  /** PostgreSQL schema (default: the connection's search_path, usually public). */
  databaseSchema?: string;
  publicUrl: string;
  logLevel: string;
  /** Inbound SMTP (forwarding and BCC logging addresses). */
  smtpPort: number;
  smtpHost: string;
  /** Domain of generated forwarding and BCC addresses. */
  inboundDomain: string;
  /** Serve cookies with Secure (set when behind TLS). */
  secureCookies: boolean;
  trustProxy: boolean;
  adminEmail?: string;
  adminPassword?: string;
  /** SMTP server for notification email (smtp://user:pass@host:587 or smtps://...); unset: in-app only. */
  notifySmtpUrl?: string;
  /** From of notification email. */
  notifyFrom: string;
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
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number.parseInt(env.PORT ?? '3000', 10);
  const publicUrl = env.PUBLIC_URL ?? `http://localhost:${port}`;
  return {
    port,
    host: env.HOST ?? '0.0.0.0',
    dataDir: env.DATA_DIR ?? './data',
    databaseUrl: env.DATABASE_URL || undefined,
    databaseSchema: env.DATABASE_SCHEMA || undefined,
    publicUrl,
    logLevel: env.LOG_LEVEL ?? 'info',
    smtpPort: Number.parseInt(env.SMTP_PORT ?? '2525', 10),
    smtpHost: env.SMTP_HOST ?? '0.0.0.0',
    inboundDomain: env.INBOUND_DOMAIN ?? new URL(publicUrl).hostname,
    secureCookies: env.SECURE_COOKIES ? env.SECURE_COOKIES === 'true' : publicUrl.startsWith('https:'),
    trustProxy: env.TRUST_PROXY === 'true',
    adminEmail: env.MAILROOM_ADMIN_EMAIL || undefined,
    adminPassword: env.MAILROOM_ADMIN_PASSWORD || undefined,
    notifySmtpUrl: env.NOTIFY_SMTP_URL || undefined,
    notifyFrom: env.NOTIFY_FROM || `Mailroom <notifications@${env.INBOUND_DOMAIN ?? new URL(publicUrl).hostname}>`,
    mailboxes: {
      perWorker: positive(env.MAILROOM_MAILBOXES_PER_WORKER, 5000),
      syncConcurrency: positive(env.MAILROOM_SYNC_CONCURRENCY, 16),
      reconnectConcurrency: positive(env.MAILROOM_RECONNECT_CONCURRENCY, 20),
      socketTimeoutMs: positive(env.MAILROOM_IMAP_SOCKET_TIMEOUT_MS, 5 * 60_000),
      idleReissueMs: positive(env.MAILROOM_IDLE_REISSUE_MS, 2 * 60_000),
      pollMs: positive(env.MAILROOM_POLL_MS, 5 * 60_000),
      leaseMs: positive(env.MAILROOM_LEASE_MS, 30_000),
    },
  };
}

function positive(v: string | undefined, fallback: number): number {
  const n = Number(v);
  return v !== undefined && v !== '' && Number.isFinite(n) && n > 0 ? n : fallback;
}
