/**
 * Builds imapflow and nodemailer options for a connection, always connecting to an address checked by
 * the SSRF guard (pinned), with the original host name kept for TLS certificate checks.
 */
import type { ImapFlowOptions } from 'imapflow';
import type Mail from 'nodemailer/lib/mailer/index.js';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { resolveSafeHost, tlsServername, type SafeHost } from '../platform/security/host-guard.js';

export type TlsMode = 'tls' | 'starttls' | 'none';

export interface ServerSettings {
  host: string;
  port: number;
  tls: TlsMode;
  username: string;
}

export interface Timeouts {
  connectMs: number;
  greetingMs: number;
  socketMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { connectMs: 10_000, greetingMs: 10_000, socketMs: 60_000 };

/**
 * IMAP sessions that stay open (IDLE) need three timings that fit together (issue 20):
 * - `socketMs`, the socket inactivity timeout, is longer than the usual server keepalive during IDLE
 *   (Dovecot: 2 min, `imap_idle_notify_interval`) so that a healthy but quiet session never times out;
 * - IDLE is re-issued (DONE, NOOP, IDLE) every `idleReissueMs`, well under `socketMs` and under the
 *   29 minutes of RFC 2177, which also keeps NAT and firewall state warm;
 * - the NOOP of a re-issue must be answered within `probeMs`, else the session is declared dead.
 * So a dead socket is noticed within `idleReissueMs + probeMs`, and a live one never reaches `socketMs`.
 */
export interface ImapSessionTimings {
  socketMs: number;
  idleReissueMs: number;
  probeMs: number;
}

export const DEFAULT_IMAP_SESSION: ImapSessionTimings = { socketMs: 5 * 60_000, idleReissueMs: 2 * 60_000, probeMs: 30_000 };

/** Clamps a re-issue interval so that it stays under the socket timeout and the 29-minute IDLE limit. */
export function fitIdleReissue(t: ImapSessionTimings): ImapSessionTimings {
  const idleReissueMs = Math.max(250, Math.min(t.idleReissueMs, Math.floor(t.socketMs * 0.8), 28 * 60_000));
  const probeMs = Math.max(250, Math.min(t.probeMs, t.socketMs));
  return { ...t, idleReissueMs, probeMs };
}

/**
 * How Mailroom signs in to a mail server: a password (LOGIN/PLAIN), or an OAuth access token (issue 14):
 * IMAP with OAUTHBEARER when the server offers it, else XOAUTH2 (imapflow `auth.accessToken`); SMTP with
 * XOAUTH2 (nodemailer OAuth2 with the token).
 */
export type MailSecret = string | { accessToken: string };

export function isToken(secret: MailSecret): secret is { accessToken: string } {
  return typeof secret === 'object' && secret !== null && typeof secret.accessToken === 'string';
}

/**
 * What `connections.credentials` holds once opened: the passwords, and for an OAuth connection the
 * current access token (refreshed by the connections feature). Returns the secret for IMAP or SMTP.
 */
export function secretFromCredentials(opened: string, proto: 'imap' | 'smtp'): MailSecret {
  const c = JSON.parse(opened) as { imapPassword?: string | null; smtpPassword?: string; oauth?: { accessToken: string } };
  if (c.oauth?.accessToken) return { accessToken: c.oauth.accessToken };
  return (proto === 'imap' ? c.imapPassword : c.smtpPassword) ?? '';
}

export async function checkHost(host: string): Promise<SafeHost> {
  return resolveSafeHost(host);
}

export function imapOptions(s: ServerSettings, password: MailSecret, safe: SafeHost, t: Timeouts = DEFAULT_TIMEOUTS): ImapFlowOptions {
  const servername = tlsServername(safe);
  return {
    host: safe.address,
    port: s.port,
    secure: s.tls === 'tls',
    doSTARTTLS: s.tls === 'starttls' ? true : s.tls === 'none' ? false : undefined,
    ...(servername ? { servername } : {}),
    auth: isToken(password) ? { user: s.username, accessToken: password.accessToken } : { user: s.username, pass: password },
    logger: false,
    connectionTimeout: t.connectMs,
    greetingTimeout: t.greetingMs,
    socketTimeout: t.socketMs,
    disableAutoIdle: true,
  } as ImapFlowOptions;
}

export function smtpOptions(s: ServerSettings, password: MailSecret, safe: SafeHost, t: Timeouts = DEFAULT_TIMEOUTS): SMTPTransport.Options {
  const servername = tlsServername(safe);
  return {
    host: safe.address,
    port: s.port,
    secure: s.tls === 'tls',
    requireTLS: s.tls === 'starttls',
    ignoreTLS: s.tls === 'none',
    auth: isToken(password) ? { type: 'OAuth2', user: s.username, accessToken: password.accessToken } : { user: s.username, pass: password },
    tls: servername ? { servername } : {},
    name: 'mailroom',
    connectionTimeout: t.connectMs,
    greetingTimeout: t.greetingMs,
    socketTimeout: t.socketMs,
    logger: false,
    debug: false,
  };
}

/**
 * Sends one message through a stored connection's own SMTP server: host checked by the SSRF guard and
 * pinned, one transport per message, closed afterwards. Errors are nodemailer's (responseCode, command).
 */
export async function sendThroughConnection(
  c: { smtp_host: string | null; smtp_port: number | null; smtp_tls: string | null; smtp_username: string | null },
  smtpPassword: MailSecret,
  message: Mail.Options,
  o: { renewToken?: () => Promise<string> } = {},
): Promise<SMTPTransport.SentMessageInfo> {
  const safe = await checkHost(c.smtp_host!);
  const { default: nodemailer } = await import('nodemailer');
  const transport = nodemailer.createTransport(smtpOptions({ host: c.smtp_host!, port: c.smtp_port!, tls: c.smtp_tls as TlsMode, username: c.smtp_username! }, smtpPassword, safe));
  const renew = o.renewToken;
  if (isToken(smtpPassword) && renew) {
    // nodemailer asks for a new token when the server answers 535 to the first one; it retries once.
    let current = smtpPassword.accessToken;
    let renewed = false;
    transport.set('oauth2_provision_cb', (_user: string, renewNow: boolean, cb: (err: Error | null, token?: string) => void) => {
      if (!renewNow || renewed) return cb(null, current);
      renewed = true;
      renew().then(
        (t) => {
          current = t;
          cb(null, t);
        },
        (e: Error) => cb(e),
      );
    });
  }
  try {
    return await transport.sendMail(message);
  } finally {
    transport.close();
  }
}
