/**
 * The connect-time check: IMAP connect, IMAP login, Sent folder, SMTP connect, SMTP login, in that order.
 * Each failure maps to its own stable code and a message a non-expert can act on. A timeout is an error.
 */
import { AppError } from '../platform/errors.js';
import { ALLOW_PRIVATE_HOSTS_ENV, HostNotAllowedError, InvalidHostError } from '../platform/security/host-guard.js';
import { checkHost, imapOptions, smtpOptions, DEFAULT_TIMEOUTS, type MailSecret, type ServerSettings, type Timeouts } from './transport-options.js';

/** A password, or (OAuth, issue 14) an access token used instead of it. */
export type Credential = { password: string; accessToken?: string };

function secretOf(s: Credential): MailSecret {
  return s.accessToken ? { accessToken: s.accessToken } : s.password;
}

export interface VerifyInput {
  imap?: ServerSettings & Credential;
  smtp: ServerSettings & Credential;
  timeouts?: Timeouts;
}

export interface VerifyResult {
  sentFolder: string | null;
  folders: string[];
}

/** Names tried in order when the server does not mark a folder \Sent (SPECIAL-USE). */
const SENT_NAMES = ['Sent', 'Sent Items', 'Sent Messages', 'Sent Mail', 'INBOX.Sent', 'INBOX/Sent', '[Gmail]/Sent Mail', 'Gesendet', 'Envoyés', 'Enviados', 'Inviati'];

export function pickSentFolder(folders: Array<{ path: string; specialUse?: string | undefined }>): string | null {
  const special = folders.find((f) => f.specialUse === '\\Sent');
  if (special) return special.path;
  for (const name of SENT_NAMES) {
    const f = folders.find((x) => x.path.toLowerCase() === name.toLowerCase());
    if (f) return f.path;
  }
  return null;
}

function hostError(err: unknown, proto: 'IMAP' | 'SMTP', host: string): AppError | null {
  const code = proto === 'IMAP' ? 'imap_settings_incorrect' : 'smtp_settings_incorrect';
  if (err instanceof HostNotAllowedError) {
    // An SSRF refusal is not a wrong setting: it has its own code and says how an operator allows the host.
    return new AppError('host_not_allowed', 422, `The ${proto} server ${err.message}`, { field: `${proto.toLowerCase()}.host`, host: err.host, address: err.address, addressClass: err.addressClass }, {
      resolution: `Use your provider's public ${proto} server. If this private server is intended, an operator can allow it by adding it (or its network, e.g. 10.0.0.0/8) to ${ALLOW_PRIVATE_HOSTS_ENV} on the Mailroom server and restarting it.`,
    });
  }
  if (err instanceof InvalidHostError) return new AppError(code, 422, `The ${proto} server "${host}" is not a valid host name. Check the spelling.`, { field: `${proto.toLowerCase()}.host` });
  const e = err as { code?: string };
  if (e?.code === 'ENOTFOUND' || e?.code === 'EAI_AGAIN') {
    return new AppError(code, 422, `The ${proto} server ${host} could not be found. Check the host name (your provider's help pages list it).`, { field: `${proto.toLowerCase()}.host`, reason: 'not_found' });
  }
  return null;
}

function networkMessage(proto: 'IMAP' | 'SMTP', s: ServerSettings, err: { code?: string; message?: string }): string {
  const where = `${s.host}:${s.port}`;
  switch (err.code) {
    case 'ECONNREFUSED':
      return `Nothing answered on ${where}. Check the ${proto} port (usually ${proto === 'IMAP' ? '993 with TLS or 143 with STARTTLS' : '465 with TLS or 587 with STARTTLS'}).`;
    case 'ETIMEDOUT':
    case 'ETIMEOUT':
    case 'CONNECT_TIMEOUT':
    case 'GREETING_TIMEOUT':
    case 'ConnectionTimeout':
    case 'GreetingTimeout':
      return `The ${proto} server ${where} did not answer in time. Check the host and port, and that the server accepts connections from this network.`;
    default:
      if (/certificate|self.signed|SSL|TLS|wrong version number|EPROTO/i.test(err.message ?? '')) {
        return `The secure connection to ${where} failed (${err.message}). Check the security setting: TLS on port ${proto === 'IMAP' ? 993 : 465}, STARTTLS on ${proto === 'IMAP' ? 143 : 587}.`;
      }
      return `Could not talk to the ${proto} server ${where}: ${err.message ?? 'connection failed'}. Check the host, port and security settings.`;
  }
}

export async function verifyImap(s: ServerSettings & Credential, t: Timeouts = DEFAULT_TIMEOUTS): Promise<VerifyResult> {
  let safe;
  try {
    safe = await checkHost(s.host);
  } catch (err) {
    throw hostError(err, 'IMAP', s.host) ?? err;
  }
  const { ImapFlow } = await import('imapflow');
  const client = new ImapFlow(imapOptions(s, secretOf(s), safe, t));
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    const e = err as { authenticationFailed?: boolean; code?: string; message?: string; responseText?: string };
    if (e.authenticationFailed || e.code === 'AUTHENTICATIONFAILED') {
      if (s.accessToken) throw new AppError('imap_authentication_failed', 422, `The IMAP server refused the access token for ${s.username}. Check that IMAP is enabled for this mailbox (and OAuth sign-in at its server), then connect again.`, { field: 'imap' });
      throw new AppError('imap_authentication_failed', 422, `The IMAP server refused the username or password for ${s.username}. Check them; some providers (Gmail, Outlook, iCloud) need an app password.`, { field: 'imap.password' });
    }
    throw new AppError('imap_settings_incorrect', 422, networkMessage('IMAP', s, e), { field: 'imap.host', reason: e.code ?? 'connect_failed' });
  }
  try {
    const list = await client.list();
    const folders = list.map((f) => f.path);
    return { sentFolder: pickSentFolder(list), folders };
  } finally {
    await client.logout().catch(() => client.close());
  }
}

export async function verifySmtp(s: ServerSettings & Credential, t: Timeouts = DEFAULT_TIMEOUTS): Promise<void> {
  let safe;
  try {
    safe = await checkHost(s.host);
  } catch (err) {
    throw hostError(err, 'SMTP', s.host) ?? err;
  }
  const { default: nodemailer } = await import('nodemailer');
  const transport = nodemailer.createTransport(smtpOptions(s, secretOf(s), safe, t));
  try {
    await transport.verify();
  } catch (err) {
    const e = err as { code?: string; responseCode?: number; message?: string };
    if (e.code === 'EAUTH' || e.responseCode === 535 || e.responseCode === 534) {
      if (s.accessToken) throw new AppError('smtp_authentication_failed', 422, `The SMTP server refused the access token for ${s.username}. Check that authenticated SMTP is enabled for this mailbox (Microsoft 365: SMTP AUTH), then connect again.`, { field: 'smtp' });
      throw new AppError('smtp_authentication_failed', 422, `The SMTP server refused the username or password for ${s.username}. Check them; some providers need an app password for sending.`, { field: 'smtp.password' });
    }
    throw new AppError('smtp_settings_incorrect', 422, networkMessage('SMTP', s, e), { field: 'smtp.host', reason: e.code ?? 'connect_failed' });
  } finally {
    transport.close();
  }
}

/** Runs the whole connect-time check in order; the first failure is thrown as an AppError. */
export async function verifyConnectionSettings(input: VerifyInput): Promise<VerifyResult> {
  const t = input.timeouts ?? DEFAULT_TIMEOUTS;
  const imap = input.imap ? await verifyImap(input.imap, t) : { sentFolder: null, folders: [] };
  await verifySmtp(input.smtp, t);
  return imap;
}
