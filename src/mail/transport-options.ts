/**
 * Builds imapflow and nodemailer options for a connection, always connecting to an address checked by
 * the SSRF guard (pinned), with the original host name kept for TLS certificate checks.
 */
import type { ImapFlowOptions } from 'imapflow';
import nodemailer from 'nodemailer';
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

export async function checkHost(host: string): Promise<SafeHost> {
  return resolveSafeHost(host);
}

export function imapOptions(s: ServerSettings, password: string, safe: SafeHost, t: Timeouts = DEFAULT_TIMEOUTS): ImapFlowOptions {
  const servername = tlsServername(safe);
  return {
    host: safe.address,
    port: s.port,
    secure: s.tls === 'tls',
    doSTARTTLS: s.tls === 'starttls' ? true : s.tls === 'none' ? false : undefined,
    ...(servername ? { servername } : {}),
    auth: { user: s.username, pass: password },
    logger: false,
    connectionTimeout: t.connectMs,
    greetingTimeout: t.greetingMs,
    socketTimeout: t.socketMs,
    disableAutoIdle: true,
  } as ImapFlowOptions;
}

export function smtpOptions(s: ServerSettings, password: string, safe: SafeHost, t: Timeouts = DEFAULT_TIMEOUTS): SMTPTransport.Options {
  const servername = tlsServername(safe);
  return {
    host: safe.address,
    port: s.port,
    secure: s.tls === 'tls',
    requireTLS: s.tls === 'starttls',
    ignoreTLS: s.tls === 'none',
    auth: { user: s.username, pass: password },
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
  smtpPassword: string,
  message: Mail.Options,
): Promise<SMTPTransport.SentMessageInfo> {
  const safe = await checkHost(c.smtp_host!);
  const transport = nodemailer.createTransport(smtpOptions({ host: c.smtp_host!, port: c.smtp_port!, tls: c.smtp_tls as TlsMode, username: c.smtp_username! }, smtpPassword, safe));
  try {
    return await transport.sendMail(message);
  } finally {
    transport.close();
  }
}
