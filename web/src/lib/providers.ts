/**
 * Server settings of well-known email providers, filled in from the address's domain so that most
 * people only type their address and password.
 */
import type { TlsMode } from '../api/types.js';

export interface ServerPreset {
  host: string;
  port: number;
  tls: TlsMode;
}

export interface Provider {
  name: string;
  imap: ServerPreset;
  smtp: ServerPreset;
  /** A short hint shown under the password field. */
  hint: string;
}

const gmail: Provider = {
  name: 'Gmail',
  imap: { host: 'imap.gmail.com', port: 993, tls: 'tls' },
  smtp: { host: 'smtp.gmail.com', port: 465, tls: 'tls' },
  hint: 'Gmail needs an app password (Google Account → Security → App passwords) and IMAP turned on.',
};
const outlook: Provider = {
  name: 'Outlook.com',
  imap: { host: 'outlook.office365.com', port: 993, tls: 'tls' },
  smtp: { host: 'smtp-mail.outlook.com', port: 587, tls: 'starttls' },
  hint: 'Outlook.com may need an app password when two-step verification is on.',
};
const yahoo: Provider = {
  name: 'Yahoo Mail',
  imap: { host: 'imap.mail.yahoo.com', port: 993, tls: 'tls' },
  smtp: { host: 'smtp.mail.yahoo.com', port: 465, tls: 'tls' },
  hint: 'Yahoo Mail needs an app password (Account security → Generate app password).',
};
const icloud: Provider = {
  name: 'iCloud Mail',
  imap: { host: 'imap.mail.me.com', port: 993, tls: 'tls' },
  smtp: { host: 'smtp.mail.me.com', port: 587, tls: 'starttls' },
  hint: 'iCloud needs an app-specific password (appleid.apple.com → Sign-in and Security).',
};
const fastmail: Provider = {
  name: 'Fastmail',
  imap: { host: 'imap.fastmail.com', port: 993, tls: 'tls' },
  smtp: { host: 'smtp.fastmail.com', port: 465, tls: 'tls' },
  hint: 'Fastmail needs an app password (Settings → Privacy & Security → App passwords).',
};

const BY_DOMAIN: Record<string, Provider> = {
  'gmail.com': gmail,
  'googlemail.com': gmail,
  'outlook.com': outlook,
  'hotmail.com': outlook,
  'live.com': outlook,
  'msn.com': outlook,
  'yahoo.com': yahoo,
  'icloud.com': icloud,
  'me.com': icloud,
  'mac.com': icloud,
  'fastmail.com': fastmail,
  'fastmail.fm': fastmail,
};

export function domainOf(address: string): string {
  const at = address.trim().lastIndexOf('@');
  return at < 0 ? '' : address.trim().slice(at + 1).toLowerCase();
}

/** The provider for an address, or null when the domain is not one we know. */
export function providerFor(address: string): Provider | null {
  return BY_DOMAIN[domainOf(address)] ?? null;
}

/** Reasonable first guesses for an unknown domain, for the "Advanced" fields. */
export function guessFor(address: string): { imap: ServerPreset; smtp: ServerPreset } {
  const d = domainOf(address);
  return {
    imap: { host: d ? `imap.${d}` : '', port: 993, tls: 'tls' },
    smtp: { host: d ? `smtp.${d}` : '', port: 587, tls: 'starttls' },
  };
}

export const DEFAULT_PORTS: Record<TlsMode, { imap: number; smtp: number }> = {
  tls: { imap: 993, smtp: 465 },
  starttls: { imap: 143, smtp: 587 },
  none: { imap: 143, smtp: 25 },
};
