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
  };
}
