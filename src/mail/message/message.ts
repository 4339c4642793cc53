/**
 * THE normalised inbound message. `src/mail/parse` builds it from raw bytes once; threading,
 * classification, filters, storage and the timeline read this value and never parse MIME again.
 *
 * It is a plain value (no methods, no classes other than Date and Buffer), so it crosses a worker
 * thread boundary by structured clone and can be built by hand in tests.
 */

/** One mailbox. `address` is trimmed and lower-cased; `name` is the decoded display name as sent. */
export interface MailAddress {
  /**
   * The decoded display name exactly as the sender wrote it (encoded words decoded, NUL removed,
   * trimmed), or '' when there is none. It is NOT trusted: it may itself look like an address
   * (`"boss@bank.example" <attacker@evil.example>`); see `displayNameLooksLikeAddress`.
   */
  name: string;
  /** The address, trimmed and lower-cased. May lack an `@` for broken or local senders (`mailer-daemon`). */
  address: string;
}

export interface ParsedAttachment {
  /** Decoded file name, or null when the part names none. */
  filename: string | null;
  /** Lower-case MIME type (`application/pdf`). */
  contentType: string;
  /** `attachment`, `inline`, another token as sent, or null when the part had no Content-Disposition. */
  disposition: string | null;
  /** Content-ID without angle brackets, or null. */
  contentId: string | null;
  /** True when the part sits in multipart/related and is referenced by Content-ID (inline image). */
  related: boolean;
  /** Decoded size in bytes. */
  size: number;
  /** Hex SHA-256 of the decoded content (the blob key). */
  sha256: string;
  content: Buffer;
}

/** A machine-readable report part (RFC 3464 DSN, RFC 6533, RFC 5965 ARF, RFC 8098 MDN), decoded as text. */
export interface ReportPart {
  /** Lower-case MIME type, e.g. `message/delivery-status`. */
  contentType: string;
  text: string;
}

/**
 * The top-level header fields classification needs, unfolded and trimmed, first occurrence wins.
 * A field absent from the message is null.
 */
export interface ClassificationHeaders {
  autoSubmitted: string | null;
  xAutoreply: string | null;
  xAutorespond: string | null;
  /** X-Autoresponder, X-Autoreply-From, X-Mail-Autoreply, X-Cron-Env and similar variants, first seen. */
  xAutoreplyOther: string | null;
  precedence: string | null;
  listId: string | null;
  listUnsubscribe: string | null;
  listPost: string | null;
  /** ezmlm `Mailing-List:` / `X-Mailing-List:` */
  mailingList: string | null;
  xAutoResponseSuppress: string | null;
  /** The Return-Path value as sent (`<>` for bounces), or null. */
  returnPath: string | null;
  /** Lower-case MIME type of the top part, `text/plain` when absent. */
  contentType: string;
  /** `report-type` parameter of a top-level multipart/report, lower-case, or null. */
  reportType: string | null;
  /** Addresses from X-Failed-Recipients (Exim and others), lower-cased. */
  xFailedRecipients: string[];
  /** Our own loop marker (value = account id of the Mailroom account that sent it). */
  xMailroomLoop: string | null;
}

/** Why a message needed care. Never fatal: the message is always returned and kept. */
export type MalformedReason =
  | 'missing_message_id'
  | 'missing_date'
  | 'missing_from'
  | 'unparseable_date'
  | 'parse_error'
  | 'parse_timeout'
  | 'nul_bytes'
  /** A multipart ends without its closing boundary (message cut short). */
  | 'truncated_parts'
  /** MIME nesting deeper than the limit; deeper parts were not parsed. */
  | 'too_deep'
  /** More MIME parts than the limit; the extra parts were not parsed. */
  | 'too_many_parts'
  /** Input larger than the limit; only the first bytes were parsed (raw bytes are still kept in full). */
  | 'too_large'
  /** text or html longer than the limit and cut. */
  | 'body_truncated'
  /** A declared charset the runtime does not know; text decoded as windows-1252. */
  | 'unknown_charset'
  /** No blank line between header and body: everything was read as header. */
  | 'header_only'
  /** No usable Date: ingest dated it by its newest Received header, the file's time, or its arrival (a guess: it anchors no subject join). */
  | 'dated_by_received'
  | 'dated_by_file_time'
  | 'dated_by_arrival';

export interface HeaderField {
  /** Lower-case field name. */
  key: string;
  /** Unfolded value, not decoded. */
  value: string;
}

export interface ParsedMessage {
  /** Message-ID without angle brackets, trimmed, case kept; null when absent or empty. */
  messageId: string | null;
  /** First message id in In-Reply-To, normalised like messageId. */
  inReplyTo: string | null;
  /** Message ids in References, in order, normalised, de-duplicated. */
  references: string[];
  /** Decoded subject, '' when absent. */
  subject: string;
  /** Date header as a Date, null when absent or unparseable (see `malformed`). */
  date: Date | null;
  from: MailAddress | null;
  sender: MailAddress | null;
  replyTo: MailAddress[];
  to: MailAddress[];
  cc: MailAddress[];
  bcc: MailAddress[];
  /** Plain text body (format=flowed unwrapped), null when there is none. */
  text: string | null;
  html: string | null;
  attachments: ParsedAttachment[];
  /** Machine-readable report parts (also present in attachments). */
  reports: ReportPart[];
  headers: ClassificationHeaders;
  /** Every top-level header field in order (capped at 1,000 fields, values at 16 KB). */
  headerFields: HeaderField[];
  /** Size of the raw message in bytes (the whole input, even when only part of it was parsed). */
  sizeBytes: number;
  /** SHA-256 (hex) of the raw message, when the parser computed it (the worker pool does, off the main thread). */
  rawSha256?: string;
  /** MIME parts seen (leaves and containers, including the top part). */
  partCount: number;
  /** Deepest MIME nesting seen (0 = single-part message). */
  maxDepth: number;
  malformed: MalformedReason[];
}

/** True when a display name could be mistaken for an address (a phishing tell). */
export function displayNameLooksLikeAddress(a: MailAddress): boolean {
  return /[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+/.test(a.name);
}

/** All mailboxes a message mentions (from, sender, reply-to, to, cc, bcc), de-duplicated by address. */
export function participantsOf(m: Pick<ParsedMessage, 'from' | 'sender' | 'replyTo' | 'to' | 'cc' | 'bcc'>): string[] {
  const out = new Set<string>();
  const add = (a: MailAddress | null) => {
    if (a && a.address) out.add(a.address);
  };
  add(m.from);
  add(m.sender);
  m.replyTo.forEach(add);
  m.to.forEach(add);
  m.cc.forEach(add);
  m.bcc.forEach(add);
  return [...out];
}

/** A compact, log-safe description of a message (no bodies, no attachment contents). */
export function summariseMessage(m: ParsedMessage): Record<string, unknown> {
  return {
    messageId: m.messageId,
    inReplyTo: m.inReplyTo,
    references: m.references.length,
    subject: m.subject.length > 120 ? `${m.subject.slice(0, 117)}...` : m.subject,
    date: m.date ? m.date.toISOString() : null,
    from: m.from?.address ?? null,
    to: m.to.map((a) => a.address),
    cc: m.cc.length,
    textChars: m.text?.length ?? 0,
    htmlChars: m.html?.length ?? 0,
    attachments: m.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, size: a.size })),
    reports: m.reports.map((r) => r.contentType),
    contentType: m.headers.contentType,
    sizeBytes: m.sizeBytes,
    partCount: m.partCount,
    maxDepth: m.maxDepth,
    malformed: m.malformed,
  };
}
