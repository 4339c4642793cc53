/**
 * Reply tokens in our own Message-IDs. Every message Mailroom sends gets the Message-ID
 *
 *     <mr.{outboxId}.{mac}@{domain}>
 *
 * where mac is the first 16 hex digits (64 bits) of HMAC-SHA256(secret, "mailroom-reply-token/v1:" + outboxId).
 * A reply carries it in In-Reply-To / References, so the conversation is found even when our own
 * copy of the sent message is gone or was never synced, and a forged token (someone guessing ids)
 * is refused. The Message-ID is deterministic per outbox entry, so a retried send reuses it.
 *
 * Pure apart from the HMAC (node:crypto, no I/O). Secrets may be rotated: `readReplyToken` accepts a
 * list and tries each (current first).
 */
import crypto from 'node:crypto';
import { messageIdsIn } from './message-id.js';

const VERSION_TAG = 'mailroom-reply-token/v1:';
const MAC_HEX = 16;
const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
const TOKEN_RE = /^mr\.([A-Za-z0-9_-]{1,64})\.([0-9a-fA-F]{16})@[^@\s<>]+$/;

export interface MakeMessageIdInput {
  /** Outbox entry id: letters, digits, `_` and `-`, at most 64 characters. */
  outboxId: string;
  /** Right-hand side, normally the sending domain (`example.com`). */
  domain: string;
  /** Server secret, at least 16 characters. */
  secret: string;
}

function mac(id: string, secret: string): string {
  return crypto.createHmac('sha256', secret).update(VERSION_TAG + id).digest('hex').slice(0, MAC_HEX);
}

/** `<mr.{outboxId}.{mac}@{domain}>`, angle brackets included (ready for the header). Throws on bad input. */
export function makeMessageId({ outboxId, domain, secret }: MakeMessageIdInput): string {
  if (!ID_RE.test(outboxId)) throw new TypeError(`outboxId must match ${ID_RE}, got ${JSON.stringify(outboxId)}`);
  const d = domain.trim().toLowerCase();
  if (!/^[^\s@<>()[\]\\,;:"]+$/.test(d) || d.startsWith('.') || d.endsWith('.')) {
    throw new TypeError(`domain ${JSON.stringify(domain)} cannot be used in a Message-ID`);
  }
  assertSecret(secret);
  return `<mr.${outboxId}.${mac(outboxId, secret)}@${d}>`;
}

/**
 * The outbox id from the first valid token in the given ids, or null. Accepts a header value
 * (`<a@b> <mr.x.y@z>`), a single normalised id, or a list of ids (tried in the order given: pass
 * In-Reply-To first, then References from newest to oldest). Forged or damaged tokens are ignored.
 */
export function readReplyToken(messageIdsOrHeader: string | readonly string[] | null | undefined, secret: string | readonly string[]): string | null {
  if (!messageIdsOrHeader) return null;
  const secrets = (typeof secret === 'string' ? [secret] : [...secret]).filter((s) => s.length >= 16);
  if (secrets.length === 0) return null;
  const ids = typeof messageIdsOrHeader === 'string' ? messageIdsIn(messageIdsOrHeader, 500) : messageIdsOrHeader;
  let checked = 0;
  for (const raw of ids) {
    const id = raw.trim().replace(/^<|>$/g, '');
    if (!id.startsWith('mr.') && !id.startsWith('MR.')) continue;
    const m = TOKEN_RE.exec(id.startsWith('MR.') ? `mr.${id.slice(3)}` : id);
    if (!m) continue;
    if (++checked > 50) break; // bound the HMAC work on hostile References
    const outboxId = m[1]!;
    const given = Buffer.from(m[2]!.toLowerCase(), 'utf8');
    for (const s of secrets) {
      const expected = Buffer.from(mac(outboxId, s), 'utf8');
      if (given.length === expected.length && crypto.timingSafeEqual(given, expected)) return outboxId;
    }
  }
  return null;
}

function assertSecret(secret: string): void {
  if (typeof secret !== 'string' || secret.length < 16) throw new TypeError('reply-token secret must be at least 16 characters');
}
