/**
 * Building replies, reply-alls and forwards from a team address: recipients, subject, threading headers,
 * body with the signature and the quoted original. Pure.
 */
import { baseSubject } from '../../ingest/domain/subject.js';
import { addressKey } from '../../connections/domain/address-key.js';

export interface Mailbox {
  name?: string;
  address: string;
}

/** A stored message of the thread, as replies need it. */
export interface ThreadMessage {
  messageId: string | null;
  direction: 'inbound' | 'outbound' | string;
  classification: string;
  from: Mailbox | null;
  to: Mailbox[];
  cc: Mailbox[];
  replyTo: Mailbox[];
  subject: string;
  references: string[];
  text: string | null;
  at: number;
}

export const REPLY_MODES = ['reply', 'reply_all', 'forward'] as const;
export type ReplyMode = (typeof REPLY_MODES)[number];

/**
 * The comparison key of an address: THE address key (case and IDN insensitive: `Support@Bücher.example`
 * and `support@xn--bcher-kva.example` are one address); a trimmed lower-case form when it is not one.
 */
const norm = (a: string) => {
  const k = addressKey(a);
  return k.ok ? k.key : a.trim().toLowerCase();
};

/**
 * The message a reply answers: the newest message that is not an auto-reply, bounce or loop (answering a
 * bounce would write to a mailer daemon); the newest message of all when there is no other. `messages`
 * come in reading order, which breaks ties between messages of the same second.
 */
export function replyParent(messages: readonly ThreadMessage[]): ThreadMessage | null {
  // Newest first; within the same second, the later in the given (reading) order.
  const sorted = messages.map((m, i) => ({ m, i })).sort((a, b) => Math.floor(b.m.at / 1000) - Math.floor(a.m.at / 1000) || b.i - a.i).map((x) => x.m);
  return sorted.find((m) => m.classification === 'normal' || m.classification === 'list') ?? sorted[0] ?? null;
}

function uniq(list: Mailbox[], exclude: ReadonlySet<string>): Mailbox[] {
  const seen = new Set(exclude);
  const out: Mailbox[] = [];
  for (const m of list) {
    const k = norm(m.address);
    if (!k || seen.has(k)) continue;
    seen.add(k);
    out.push(m.name ? { name: m.name, address: m.address } : { address: m.address });
  }
  return out;
}

/**
 * Recipients of a reply to `parent`. Replying to the customer: their Reply-To, else their From.
 * Replying after our own message (a follow-up): the same recipients as that message.
 * Reply-all adds everyone else on To and Cc. Our own addresses (the team address, its forwarding
 * address) are never recipients.
 */
export function replyRecipients(mode: 'reply' | 'reply_all', parent: ThreadMessage, ownAddresses: readonly string[]): { to: Mailbox[]; cc: Mailbox[] } {
  const own = new Set(ownAddresses.map(norm));
  const fromUs = parent.direction === 'outbound' || (parent.from ? own.has(norm(parent.from.address)) : false);
  const primary = fromUs ? parent.to : parent.replyTo.length ? parent.replyTo : parent.from ? [parent.from] : [];
  const to = uniq(primary, own);
  if (mode === 'reply') return { to, cc: fromUs ? uniq(parent.cc, new Set([...own, ...to.map((m) => norm(m.address))])) : [] };
  const taken = new Set([...own, ...to.map((m) => norm(m.address))]);
  const others = fromUs ? parent.cc : [...parent.to, ...parent.cc];
  return { to, cc: uniq(others, taken) };
}

/** "Re: <base subject>" or "Fwd: <base subject>". */
export function responseSubject(subject: string, mode: ReplyMode): string {
  const base = baseSubject(subject) || subject.trim();
  return `${mode === 'forward' ? 'Fwd' : 'Re'}: ${base}`.trim();
}

export const MAX_REFERENCES = 20;

/**
 * References trimmed to `max` ids the way mail clients do (RFC 5322 3.6.4, JWZ): repeats dropped (the
 * first kept), and when too long the thread's first id (its root) plus the newest ones, so both the
 * start of the thread and the parent stay linked.
 */
export function trimReferences(ids: readonly string[], max = MAX_REFERENCES): string[] {
  const seen = new Set<string>();
  const list: string[] = [];
  for (const raw of ids) {
    const id = raw.trim().replace(/^<|>$/g, '');
    if (!id || /[\s<>]/.test(id) || seen.has(id.toLowerCase())) continue;
    seen.add(id.toLowerCase());
    list.push(id);
  }
  if (list.length <= max) return list;
  return max <= 1 ? list.slice(-max) : [list[0]!, ...list.slice(-(max - 1))];
}

/** In-Reply-To and References of a response to `parent`: the parent's References plus its Message-ID, trimmed. */
export function threadingHeaders(parent: ThreadMessage | null): { inReplyTo: string | null; references: string[] } {
  if (!parent?.messageId) return { inReplyTo: null, references: trimReferences(parent?.references ?? []) };
  const own = parent.messageId.toLowerCase();
  const refs = trimReferences([...parent.references.filter((r) => r.replace(/^<|>$/g, '').toLowerCase() !== own), parent.messageId]);
  return { inReplyTo: parent.messageId, references: refs };
}

const fmtMailbox = (m: Mailbox | null) => (!m ? 'unknown sender' : m.name ? `${m.name} <${m.address}>` : m.address);

/** The original, quoted with "> " under an attribution line. */
export function quoted(parent: ThreadMessage): string {
  const when = new Date(parent.at).toUTCString();
  const body = (parent.text ?? '').replace(/\r\n?/g, '\n').trimEnd();
  return `On ${when}, ${fmtMailbox(parent.from)} wrote:\n${body.split('\n').map((l) => (l.startsWith('>') ? `>${l}` : `> ${l}`)).join('\n')}`;
}

/** The forwarded original, with its header summary. */
export function forwardedBlock(parent: ThreadMessage): string {
  const lines = [
    '---------- Forwarded message ----------',
    `From: ${fmtMailbox(parent.from)}`,
    `Date: ${new Date(parent.at).toUTCString()}`,
    `Subject: ${parent.subject}`,
    `To: ${parent.to.map(fmtMailbox).join(', ')}`,
    ...(parent.cc.length ? [`Cc: ${parent.cc.map(fmtMailbox).join(', ')}`] : []),
    '',
    (parent.text ?? '').replace(/\r\n?/g, '\n').trimEnd(),
  ];
  return lines.join('\n');
}

/**
 * The text body: what the agent wrote, the signature under the standard "-- " separator, then the
 * quoted original (replies, when asked) or the forwarded message (forwards).
 */
export function composeText(p: { body: string; signature: string; mode: ReplyMode | 'new'; parent: ThreadMessage | null; quote?: boolean }): string {
  const parts = [p.body.replace(/\r\n?/g, '\n').trimEnd()];
  if (p.signature) parts.push(`-- \n${p.signature}`);
  if (p.parent && p.mode === 'forward') parts.push(forwardedBlock(p.parent));
  else if (p.parent && p.quote && (p.mode === 'reply' || p.mode === 'reply_all')) parts.push(quoted(p.parent));
  return `${parts.join('\n\n')}\n`;
}

/** Escapes text for HTML and keeps line breaks, for the HTML part of messages written as plain text. */
export function textToHtml(text: string): string {
  const esc = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  return `<div style="white-space:pre-wrap">${esc}</div>`;
}

/** User ids mentioned in a comment: the explicit list plus any "@usr_..." written in the text. */
export function mentionedUserIds(body: string, explicit: readonly string[] = []): string[] {
  const found = [...body.matchAll(/(?:^|[^\w])@(usr_[A-Za-z0-9]+)/g)].map((m) => m[1]!);
  return [...new Set([...explicit, ...found])];
}
