/**
 * What gets logged on contact timelines from a user's personal mailbox. Pure: the caller loads the
 * account rule, both never-log lists, the user's default, and which participants are known contacts.
 *
 * The account rule:
 * - `replies_only`: email sent from the CRM (and BCC'd to the logging address) is logged, with the
 *   replies to it; nothing else of the mailbox is;
 * - `all_known_contacts`: in addition, any email the user sends to or receives from a known contact,
 *   from any client (seen through the synced INBOX and Sent folder), is logged.
 * `createContacts` lets email sent from the CRM and BCC'd email create contacts for unknown recipients;
 * mail merely seen in the mailbox never creates contacts.
 *
 * Never-log lists (the account's, set by admins, and the user's own) hold addresses and domains (a
 * domain covers its subdomains). A listed participant is never logged and never becomes a contact;
 * other recipients of the same email still log. An inbound email from a listed sender is not logged.
 */
import { addressKey } from '../../connections/domain/address-key.js';
import { normaliseDomain } from '../../crm/domain/contacts.js';

export const LOG_RULES = ['replies_only', 'all_known_contacts'] as const;
export type LogRule = (typeof LOG_RULES)[number];
export const isLogRule = (x: unknown): x is LogRule => typeof x === 'string' && (LOG_RULES as readonly string[]).includes(x);

export interface NeverLogEntry {
  kind: 'address' | 'domain';
  /** Address key or ASCII domain, lower-case. */
  value: string;
}

export const MAX_NEVER_LOG_ENTRIES = 1000;

export type NeverLogCheck = { ok: true; entry: NeverLogEntry } | { ok: false; message: string };

/** `ann@acme.com` is an address; `acme.com` or `@acme.com` is a domain. */
export function parseNeverLogEntry(input: string): NeverLogCheck {
  const s = (input ?? '').trim();
  if (!s) return { ok: false, message: 'A never-log entry is empty: enter an address (ann@acme.com) or a domain (acme.com).' };
  const domainOnly = s.startsWith('@') ? s.slice(1) : s.includes('@') ? null : s;
  if (domainOnly !== null) {
    const d = normaliseDomain(domainOnly);
    if (!d.ok) return { ok: false, message: `"${s}" is neither an email address nor a domain: ${d.message}` };
    return { ok: true, entry: { kind: 'domain', value: d.domain } };
  }
  const a = addressKey(s);
  if (!a.ok) return { ok: false, message: `"${s}" is not an email address: ${a.message}` };
  return { ok: true, entry: { kind: 'address', value: a.key } };
}

/** The comparison key of an address as found in mail (lower-case fallback for odd ones). */
export function mailKey(address: string): string {
  const r = addressKey(address);
  return r.ok ? r.key : address.trim().toLowerCase();
}

export function isNeverLogged(address: string, entries: readonly NeverLogEntry[]): boolean {
  const key = mailKey(address);
  const domain = key.slice(key.lastIndexOf('@') + 1);
  for (const e of entries) {
    if (e.kind === 'address' && e.value === key) return true;
    if (e.kind === 'domain' && (domain === e.value || domain.endsWith(`.${e.value}`))) return true;
  }
  return false;
}

export interface Participant {
  address: string;
  /** The contact with this email, when there is one. */
  contactId: string | null;
}

export type Situation =
  /** Sent from a contact's record in the CRM. */
  | 'crm_send'
  /** BCC'd or forwarded by the user to their logging address. */
  | 'bcc'
  /** Seen in the user's Sent folder (sent from any client). */
  | 'sent_from_client'
  /** Seen in the user's INBOX, not a reply to a logged email. */
  | 'received'
  /** An inbound reply in a conversation that is already logged. */
  | 'reply';

export interface LogDecisionInput {
  situation: Situation;
  rule: LogRule;
  createContacts: boolean;
  /** The account's and the user's never-log entries together. */
  neverLog: readonly NeverLogEntry[];
  /** The email's own choice (crm_send) or the user's default (everything else). */
  userLogs: boolean;
  /** Outbound: the recipients; inbound: the sender. The user's own addresses already removed. */
  participants: readonly Participant[];
}

export interface LogDecision {
  log: boolean;
  /** Known contacts to log to. */
  logTo: Participant[];
  /** Addresses to create contacts for (then log to them). */
  create: string[];
  /** Participants left out, and why. */
  skipped: Array<{ address: string; reason: 'never_log' | 'unknown_contact' }>;
  /** Why nothing is logged, when `log` is false. */
  why?: 'user_off' | 'rule' | 'never_log' | 'no_contacts';
}

export function decideLogging(i: LogDecisionInput): LogDecision {
  const none = (why: LogDecision['why']): LogDecision => ({ log: false, logTo: [], create: [], skipped: [], why });
  if (i.situation === 'reply') {
    const sender = i.participants[0];
    if (sender && isNeverLogged(sender.address, i.neverLog)) return { ...none('never_log'), skipped: [{ address: sender.address, reason: 'never_log' }] };
    return { log: true, logTo: [], create: [], skipped: [] };
  }
  if (i.situation !== 'bcc' && !i.userLogs) return none('user_off');
  if ((i.situation === 'sent_from_client' || i.situation === 'received') && i.rule !== 'all_known_contacts') return none('rule');
  const mayCreate = i.createContacts && (i.situation === 'crm_send' || i.situation === 'bcc');
  const logTo: Participant[] = [];
  const create: string[] = [];
  const skipped: LogDecision['skipped'] = [];
  const seen = new Set<string>();
  for (const p of i.participants) {
    const key = mailKey(p.address);
    if (seen.has(key)) continue;
    seen.add(key);
    if (isNeverLogged(p.address, i.neverLog)) skipped.push({ address: p.address, reason: 'never_log' });
    else if (p.contactId) logTo.push(p);
    else if (mayCreate) create.push(p.address);
    else skipped.push({ address: p.address, reason: 'unknown_contact' });
  }
  if (!logTo.length && !create.length) return { log: false, logTo, create, skipped, why: skipped.some((s) => s.reason === 'never_log') ? 'never_log' : 'no_contacts' };
  return { log: true, logTo, create, skipped };
}
