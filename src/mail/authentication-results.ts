/**
 * Sender authentication of mail synced over IMAP, read from the `Authentication-Results` header (RFC 8601)
 * that the mailbox's receiving server added, when that header can be trusted.
 *
 * Anyone can write an `Authentication-Results` header into the mail they send, so only one is read: the
 * topmost (the last server to receive the message prepends its own), and only when its authserv-id
 * (the first token) is one the mailbox's provider is known to stamp, or one the operator declared for
 * their own servers (MAILROOM_TRUSTED_AUTHSERV_IDS). RFC 8601 section 5 requires such a server to remove or
 * rename headers that claim its authserv-id on arrival, so a forged one never sits on top. If the
 * topmost header is anyone else's (or there is none), the message stays unverified (null): better no
 * result than one a sender wrote.
 */
import type { AuthResult, SenderAuth } from './sender-auth.js';

/** IMAP hosts of providers that stamp every delivered message, and the authserv-ids they use (suffixes). */
const PROVIDERS: Record<string, readonly string[]> = {
  'imap.gmail.com': ['mx.google.com'],
  'imap.googlemail.com': ['mx.google.com'],
  'imap.fastmail.com': ['messagingengine.com'],
  'imap.zoho.com': ['mx.zohomail.com'],
  'imap.zoho.eu': ['mx.zoho.eu'],
};

/** Authserv-ids trusted for a mailbox on this IMAP host: the provider's, then the operator's. */
export function trustedAuthservIds(imapHost: string | null | undefined, configured: readonly string[] = []): string[] {
  return [...(PROVIDERS[(imapHost ?? '').toLowerCase()] ?? []), ...configured.map((s) => s.toLowerCase())];
}

const HEADER_LIMIT = 256 * 1024;

/** The unfolded value of the first header `name` in the message's header block, or null. */
export function firstHeader(raw: Buffer, name: string): string | null {
  const head = raw.subarray(0, Math.min(raw.length, HEADER_LIMIT)).toString('latin1');
  const end = head.search(/\r?\n\r?\n/);
  const block = end === -1 ? head : head.slice(0, end);
  const lines = block.split(/\r?\n/);
  const want = `${name.toLowerCase()}:`;
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.toLowerCase().startsWith(want)) continue;
    let value = lines[i]!.slice(want.length);
    while (i + 1 < lines.length && /^[ \t]/.test(lines[i + 1]!)) value += ` ${lines[++i]!.trim()}`;
    return value.trim();
  }
  return null;
}

/** Removes RFC 5322 comments (parenthesised, nestable), returning the text and the comments. */
function stripComments(s: string): { text: string; comments: string[] } {
  let depth = 0;
  let text = '';
  let current = '';
  const comments: string[] = [];
  for (const ch of s) {
    if (ch === '(') {
      if (depth++ > 0) current += ch;
    } else if (ch === ')' && depth > 0) {
      if (--depth === 0) {
        comments.push(current);
        current = '';
        text += ' ';
      } else current += ch;
    } else if (depth > 0) current += ch;
    else text += ch;
  }
  return { text, comments };
}

interface ResInfo {
  method: string;
  result: string;
  props: Record<string, string>;
  comment: string;
}

/** Splits an Authentication-Results value into its authserv-id and result statements. */
export function parseAuthenticationResults(value: string): { authservId: string; results: ResInfo[] } | null {
  const parts = value.split(';');
  const id =
    stripComments(parts[0] ?? '')
      .text.trim()
      .split(/\s+/)[0] ?? '';
  if (!id || id.includes('=')) return null; // no authserv-id: nothing to trust it by
  const results: ResInfo[] = [];
  for (const part of parts.slice(1)) {
    const { text, comments } = stripComments(part);
    const tokens = text.trim().split(/\s+/).filter(Boolean);
    const m = /^([a-z0-9-]+)(?:\/[0-9]+)?=([a-z]+)$/i.exec(tokens[0] ?? '');
    if (!m) continue;
    const props: Record<string, string> = {};
    for (const t of tokens.slice(1)) {
      const eq = t.indexOf('=');
      if (eq > 0) props[t.slice(0, eq).toLowerCase()] = t.slice(eq + 1).replace(/^"|"$/g, '');
    }
    results.push({ method: m[1]!.toLowerCase(), result: m[2]!.toLowerCase(), props, comment: comments.join(' ') });
  }
  return { authservId: id.toLowerCase(), results };
}

const RESULTS: readonly AuthResult[] = ['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror', 'policy', 'skipped'];
const result = (r: string | undefined): AuthResult => (r === 'temperr' ? 'temperror' : r === 'hardfail' ? 'fail' : RESULTS.includes(r as AuthResult) ? (r as AuthResult) : 'none');
const domainOf = (v: string | undefined) => {
  if (!v) return null;
  const d = v
    .slice(v.lastIndexOf('@') + 1)
    .toLowerCase()
    .replace(/[<>]/g, '');
  return d || null;
};
/** Relaxed alignment without a public-suffix list: equal, or one a subdomain of the other. */
const aligned = (a: string, b: string | null) => b !== null && (a === b || a.endsWith(`.${b}`) || b.endsWith(`.${a}`));

function trusted(id: string, ids: readonly string[]): boolean {
  return ids.some((t) => id === t || id.endsWith(`.${t}`));
}

/**
 * The sender authentication the mailbox's own server recorded, from the topmost Authentication-Results
 * header if its authserv-id is trusted; null otherwise. `flagged` as on inbound SMTP: DMARC failed and
 * the comment or properties name a reject or quarantine policy.
 */
export function senderAuthFromHeader(raw: Buffer, trustedIds: readonly string[]): SenderAuth | null {
  if (!trustedIds.length) return null;
  const value = firstHeader(raw, 'authentication-results');
  if (!value) return null;
  const ar = parseAuthenticationResults(value);
  if (!ar || !trusted(ar.authservId, trustedIds)) return null;
  const spfInfo = ar.results.find((r) => r.method === 'spf');
  const dmarcInfo = ar.results.find((r) => r.method === 'dmarc');
  const fromDomain = domainOf(dmarcInfo?.props['header.from']) ?? domainOf(firstHeader(raw, 'from')?.match(/<([^>]+)>/)?.[1] ?? firstHeader(raw, 'from') ?? undefined);
  const dkim = ar.results
    .filter((r) => r.method === 'dkim')
    .slice(0, 10)
    .flatMap((r) => {
      const domain = domainOf(r.props['header.d'] ?? r.props['header.i']);
      return domain ? [{ domain, selector: r.props['header.s'] ?? null, result: result(r.result), aligned: aligned(domain, fromDomain) }] : [];
    });
  let dmarc: SenderAuth['dmarc'] = null;
  if (dmarcInfo) {
    const p = (dmarcInfo.props['policy.dmarc'] ?? /\bp(?:olicy)?=([a-z]+)/i.exec(dmarcInfo.comment)?.[1] ?? '').toLowerCase();
    const policy = p === 'none' || p === 'quarantine' || p === 'reject' ? p : null;
    dmarc = { result: result(dmarcInfo.result), domain: fromDomain ?? '', policy };
  }
  const arcInfo = ar.results.find((r) => r.method === 'arc');
  const instance = Number(/\bi=(\d+)/.exec(arcInfo?.comment ?? '')?.[1] ?? 0);
  return {
    spf: spfInfo ? { result: result(spfInfo.result), domain: domainOf(spfInfo.props['smtp.mailfrom'] ?? spfInfo.props['smtp.helo']) } : { result: 'none', domain: null },
    dkim,
    dmarc,
    arc: arcInfo ? { result: result(arcInfo.result), instance, sealer: null } : null,
    flagged: dmarc !== null && dmarc.result === 'fail' && (dmarc.policy === 'reject' || dmarc.policy === 'quarantine'),
  };
}
