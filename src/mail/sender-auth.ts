/**
 * Sender authentication of inbound SMTP mail (SPF, DKIM, DMARC, ARC) with mailauth: is the sender who the
 * From says? Run once per received message, before it is stored, with what the SMTP session saw (client
 * IP, HELO name, MAIL FROM). The result is stored with the message (`messages.sender_auth`, JSON) and
 * shown like mail clients do: "mailed by" (the SPF-authenticated envelope domain), "signed by" (the
 * domains of valid DKIM signatures), a warning when DMARC fails.
 *
 * A message whose DMARC check fails while its From domain publishes `p=reject` or `p=quarantine` is
 * `flagged`: stored and shown (nothing is lost) but not taken as the words of the contact its From names
 * (no timeline entry, no contact link). One exception, as large receivers make it: mail forwarded by a
 * well-known forwarder (Gmail, Microsoft 365, Fastmail... mailauth's ARC trust list) that sealed a
 * passing ARC chain recording that DMARC passed when it received the message keeps its standing, since
 * forwarding (the way team mail reaches Mailroom) breaks SPF and sometimes DKIM. The ARC result is
 * recorded either way.
 *
 * DNS goes through a resolver (mailauth's `resolver` option): tests pass recorded answers; production
 * uses the system's resolver with short timeouts and a small cache (the same sending domains come back
 * all day). Verification never refuses or delays a message beyond its DNS lookups: an error yields no
 * result (the message is stored unverified) rather than a lost message.
 *
 * Cost: one pass over the message for the DKIM body hashes (SHA-256) and header canonicalisation, one
 * RSA/Ed25519 verification per signature (and per ARC set), and up to ~10 SPF lookups plus a DMARC and
 * a DKIM key lookup, cached. An unsigned message from the same envelope with the same From as one verified
 * in the last minute reuses that result (unsignedResultKey): mailauth reads nothing else of it.
 */
import dns from 'node:dns';
import type { authenticate, DNSResolver } from 'mailauth';

export type { DNSResolver };

/** What the SMTP session saw of the sender. */
export interface SmtpEnvelope {
  /** Client IP address. */
  ip: string;
  /** EHLO/HELO name the client gave. */
  helo?: string | null;
  /** MAIL FROM address ('' or null for the null sender of bounces). */
  mailFrom?: string | null;
}

export type AuthResult = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'temperror' | 'permerror' | 'policy' | 'skipped';

/** Stored with the message (JSON in `messages.sender_auth`) and returned by the API. */
export interface SenderAuth {
  /** SPF of the envelope sender (MAIL FROM, or the HELO name for bounces): `domain` is "mailed by" when it passes. */
  spf: { result: AuthResult; domain: string | null };
  /** Every DKIM signature: a passing one's domain is "signed by"; `aligned` with the From domain (DMARC). */
  dkim: Array<{ domain: string; selector: string | null; result: AuthResult; aligned: boolean }>;
  /** DMARC of the From domain: the policy it publishes (p, or sp for a subdomain); null without a From. */
  dmarc: { result: AuthResult; domain: string; policy: 'none' | 'quarantine' | 'reject' | null } | null;
  /** ARC chain of forwarders that handled the message: its last instance and sealer's domain. Null: no chain. */
  arc: { result: AuthResult; instance: number; sealer: string | null } | null;
  /**
   * DMARC failed under a reject or quarantine policy (not rescued by a trusted forwarder's ARC): the From
   * is not to be believed. The message is kept and shown with a warning; it is never logged as the
   * contact's own words.
   */
  flagged: boolean;
}

export type SenderAuthenticator = (raw: Buffer, envelope: SmtpEnvelope) => Promise<SenderAuth | null>;

/**
 * Forwarders whose passing ARC seal is believed: mailauth's trust list (lib/arc/trustlist.js, from the ARC
 * community sealers list), which it ships but does not apply itself.
 */
export const TRUSTED_ARC_SEALERS: readonly string[] = [
  'google.com',
  'microsoft.com',
  'gmail.com',
  'googlegroups.com',
  'messagingengine.com',
  'pobox.com',
  'topicbox.com',
  'umich.edu',
  'fastmail.com',
  'fastmail.fm',
  'one.com',
  'securemx.jp',
  'zone.eu',
  'teliaklm.ee',
  'forwardemail.net',
];

const RESULTS: readonly AuthResult[] = ['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror', 'policy', 'skipped'];
function result(r: string | undefined): AuthResult {
  if (r === 'temperr') return 'temperror';
  return RESULTS.includes(r as AuthResult) ? (r as AuthResult) : 'none';
}
function policyOf(p: string | undefined): 'none' | 'quarantine' | 'reject' | null {
  return p === 'none' || p === 'quarantine' || p === 'reject' ? p : null;
}

/** Registered-domain suffix match: `arc.google.com` is sealed by google.com. */
function trustedSealer(domain: string | null, trusted: readonly string[]): boolean {
  if (!domain) return false;
  const d = domain.toLowerCase();
  return trusted.some((t) => d === t || d.endsWith(`.${t}`));
}

export interface SenderAuthOptions {
  /** DNS answers (mailauth's resolver signature). Default: the system resolver, cached. */
  resolver?: DNSResolver;
  /** This server's name (recorded by mailauth in the results it formats). */
  hostname?: string;
  /** Forwarders whose passing ARC seal rescues a DMARC failure. Default: mailauth's trust list. */
  trustedArcSealers?: readonly string[];
  /** Upper bound on one message's verification (ms); past it the message is stored unverified. */
  timeoutMs?: number;
  /**
   * How long an unsigned message's result is reused for the next unsigned messages with the same envelope
   * and From (unsignedResultKey): the same sender sending again within it is not verified again (its
   * answers would come from the resolver's cache anyway, which keeps them 5 minutes). Default 60 s; 0: never.
   */
  reuseMs?: number;
  onError?: (err: Error) => void;
}

/**
 * What mailauth needs to read. An unsigned message (no DKIM-Signature, no ARC set in its header) is judged
 * on its header alone: SPF is the envelope's, DMARC reads the From, and with no signature the body is
 * never hashed, so the result is the same; reading only the header saves streaming the whole body
 * through mailauth's DKIM parser (a tenth of an inbound SMTP message's CPU, measured on 20 KB mail).
 */
export function unsignedHeaderOnly(raw: Buffer): Buffer {
  let end = raw.indexOf('\r\n\r\n');
  let sep = 4;
  const lf = raw.indexOf('\n\n');
  if (lf >= 0 && (end < 0 || lf < end)) {
    end = lf;
    sep = 2;
  }
  if (end < 0) return raw;
  const header = raw.subarray(0, end).toString('latin1');
  if (/^(dkim-signature|arc-seal|arc-message-signature|arc-authentication-results)[ \t]*:/im.test(header)) return raw;
  return raw.subarray(0, end + sep);
}

/**
 * The key under which an unsigned message's result may be reused, or null when it may not. What mailauth
 * reads of an unsigned message (header only, no DKIM or ARC set: see unsignedHeaderOnly) is the envelope
 * (SPF: client IP, HELO, MAIL FROM) and the From field(s) (DMARC: their addresses); nothing else of it
 * reaches the stored result. So two unsigned messages with the same envelope and the same From lines, byte
 * for byte as mailauth's header parser splits them, get the same result from the same DNS answers. `header`
 * is what mailauth is given; null also for headers whose line breaks are not all CRLF (no need to mirror
 * the parser's handling of those).
 */
export function unsignedResultKey(header: Buffer, envelope: SmtpEnvelope): string | null {
  const text = header.toString('latin1');
  if (!text.endsWith('\r\n\r\n') || /\r(?!\n)|(?<!\r)\n/.test(text)) return null;
  // As mailauth's parseHeaders: lines, continuation lines (starting with white space) joined to the field
  // before, the field name up to the first colon, trimmed and lowercased.
  const lines = text.slice(0, -4).split('\r\n');
  const from: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    let field = lines[i]!;
    while (i + 1 < lines.length && /^\s/.test(lines[i + 1]!)) field += `\r\n${lines[++i]}`;
    const name = /^[^:]+/.exec(field);
    if (name && name[0].trim().toLowerCase() === 'from') from.push(field);
  }
  return JSON.stringify([envelope.ip, envelope.helo ?? null, envelope.mailFrom ?? null, from]);
}

/** Results that may be reused: none that comes from a DNS failure (asked again next time, as the resolver's cache does). */
function reusable(a: SenderAuth): boolean {
  return a.spf.result !== 'temperror' && a.dmarc?.result !== 'temperror';
}

/** mailauth, loaded on the first authentication: it takes most of a second to load, which a process that never authenticates (the CLI, `mailroom import`) should not pay. */
let mailauth: Promise<typeof import('mailauth')> | null = null;

export function senderAuthenticator(o: SenderAuthOptions = {}): SenderAuthenticator {
  const resolver = o.resolver ?? cachedResolver();
  const trusted = o.trustedArcSealers ?? TRUSTED_ARC_SEALERS;
  const timeoutMs = o.timeoutMs ?? 20_000;
  const reuseMs = o.reuseMs ?? 60_000;
  // Unsigned messages' results by unsignedResultKey, oldest first (a sender that keeps sending is re-verified every reuseMs).
  const recent = new Map<string, { until: number; result: SenderAuth }>();
  const MAX_RECENT = 10_000;
  return async (raw, envelope) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      const input = unsignedHeaderOnly(raw);
      const key = reuseMs > 0 && input !== raw ? unsignedResultKey(input, envelope) : null;
      if (key !== null) {
        const hit = recent.get(key);
        if (hit && hit.until > Date.now()) return structuredClone(hit.result);
        if (hit) recent.delete(key);
      }
      mailauth ??= import('mailauth').catch((err: unknown) => {
        mailauth = null;
        throw err;
      });
      const run = (await mailauth).authenticate(input, {
        ip: envelope.ip,
        helo: envelope.helo || undefined,
        sender: envelope.mailFrom || undefined,
        mta: o.hostname,
        resolver,
        disableBimi: true,
      });
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`sender authentication took over ${timeoutMs} ms`)), timeoutMs);
      });
      const r = await Promise.race([run, timeout]);
      const summary = summarize(r, trusted);
      if (key !== null && reusable(summary)) {
        if (recent.size >= MAX_RECENT) recent.delete(recent.keys().next().value!);
        recent.set(key, { until: Date.now() + reuseMs, result: structuredClone(summary) });
      }
      return summary;
    } catch (err) {
      o.onError?.(err as Error);
      return null;
    } finally {
      clearTimeout(timer);
    }
  };
}

type Authenticated = Awaited<ReturnType<typeof authenticate>>;

export function summarize(r: Authenticated, trusted: readonly string[]): SenderAuth {
  const spf = r.spf ? { result: result(r.spf.status.result), domain: r.spf.domain || null } : { result: 'none' as const, domain: null };
  const dkim = (r.dkim?.results ?? [])
    .filter((s) => s.signingDomain)
    .slice(0, 10)
    .map((s) => ({ domain: s.signingDomain.toLowerCase(), selector: s.selector ?? null, result: result(s.status.result), aligned: Boolean(s.status.aligned) }));
  const dmarc = r.dmarc && r.dmarc.domain ? { result: result(r.dmarc.status.result), domain: r.dmarc.domain.toLowerCase(), policy: policyOf(r.dmarc.policy) } : null;
  let arc: SenderAuth['arc'] = null;
  if (r.arc && typeof r.arc.i === 'number' && r.arc.i > 0) {
    const sealer = (r.arc.signature && r.arc.signature.signingDomain) || null;
    arc = { result: result(r.arc.status.result), instance: Number(r.arc.i), sealer: sealer ? sealer.toLowerCase() : null };
  }
  const dmarcRejects = dmarc !== null && dmarc.result === 'fail' && (dmarc.policy === 'reject' || dmarc.policy === 'quarantine');
  // Rescued only when the trusted forwarder itself saw DMARC pass before it forwarded (its ARC-Authentication-Results).
  const sealerSaw = (r.arc && r.arc.authenticationResults?.dmarc?.result) || null;
  const rescued = arc !== null && arc.result === 'pass' && trustedSealer(arc.sealer, trusted) && sealerSaw === 'pass';
  return { spf, dkim, dmarc, arc, flagged: dmarcRejects && !rescued };
}

/** A stored `messages.sender_auth` value, or null (not verified: IMAP, import, our own mail, older rows). */
export function readSenderAuth(text: string | null | undefined): SenderAuth | null {
  if (!text) return null;
  try {
    const v = JSON.parse(text) as SenderAuth;
    return v && typeof v === 'object' && typeof v.flagged === 'boolean' ? v : null;
  } catch {
    return null;
  }
}

/**
 * The system resolver with short timeouts, caching answers (and "no such record") for a few minutes: a
 * sending domain's SPF, DMARC and DKIM key are asked again for each of its messages otherwise.
 */
export function cachedResolver(o: { ttlMs?: number; maxEntries?: number; timeoutMs?: number } = {}): DNSResolver {
  const ttl = o.ttlMs ?? 5 * 60_000;
  const max = o.maxEntries ?? 10_000;
  const system = new dns.promises.Resolver({ timeout: o.timeoutMs ?? 3000, tries: 2 });
  const cache = new Map<string, { until: number; answer: Promise<string[][] | string[]> }>();
  return (name, rrtype) => {
    const key = `${rrtype} ${name.toLowerCase()}`;
    const now = Date.now();
    const hit = cache.get(key);
    if (hit && hit.until > now) return hit.answer;
    const answer = system.resolve(name, rrtype) as Promise<string[][] | string[]>;
    if (cache.size >= max) cache.delete(cache.keys().next().value!);
    cache.set(key, { until: now + ttl, answer });
    // Only answers and "does not exist" are kept; a timeout or server failure is asked again next time.
    answer.catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOTFOUND' && err.code !== 'ENODATA') cache.delete(key);
    });
    return answer;
  };
}

/**
 * What the API shows of a message's sender authentication, as mail clients do: "mailed by" (the envelope
 * domain SPF authorised), "signed by" (domains whose DKIM signature verified), and the details. Null: the
 * message was not verified (synced over IMAP, imported, our own mail, stored before verification).
 */
export function senderAuthView(text: string | null | undefined) {
  const a = readSenderAuth(text);
  if (!a) return null;
  return {
    mailedBy: a.spf.result === 'pass' ? a.spf.domain : null,
    signedBy: [...new Set(a.dkim.filter((d) => d.result === 'pass').map((d) => d.domain))],
    spf: a.spf,
    dkim: a.dkim,
    dmarc: a.dmarc,
    arc: a.arc,
    flagged: a.flagged,
  };
}
export type SenderAuthView = NonNullable<ReturnType<typeof senderAuthView>>;

const nullableString = { type: ['string', 'null'] } as const;
const resultSchema = { type: 'string', enum: ['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror', 'policy', 'skipped'] } as const;

/** The API schema of `senderAuthView` (OpenAPI; the web app's types are generated from it). */
export const SENDER_AUTH_SCHEMA = {
  type: ['object', 'null'],
  description:
    "Sender authentication checked when inbound SMTP received the message (null: not checked: synced over IMAP, imported, sent by Mailroom). mailedBy: the envelope domain SPF authorised; signedBy: domains with a valid DKIM signature; flagged: DMARC failed under a reject or quarantine policy, so the From cannot be trusted (kept, never logged as the contact's words)",
  required: ['mailedBy', 'signedBy', 'spf', 'dkim', 'dmarc', 'arc', 'flagged'],
  properties: {
    mailedBy: nullableString,
    signedBy: { type: 'array', items: { type: 'string' } },
    spf: { type: 'object', required: ['result', 'domain'], properties: { result: resultSchema, domain: nullableString } },
    dkim: {
      type: 'array',
      items: {
        type: 'object',
        required: ['domain', 'selector', 'result', 'aligned'],
        properties: { domain: { type: 'string' }, selector: nullableString, result: resultSchema, aligned: { type: 'boolean' } },
      },
    },
    dmarc: {
      type: ['object', 'null'],
      required: ['result', 'domain', 'policy'],
      properties: { result: resultSchema, domain: { type: 'string' }, policy: { type: ['string', 'null'], enum: ['none', 'quarantine', 'reject', null] } },
    },
    arc: { type: ['object', 'null'], required: ['result', 'instance', 'sealer'], properties: { result: resultSchema, instance: { type: 'integer' }, sealer: nullableString } },
    flagged: { type: 'boolean' },
  },
} as const;
