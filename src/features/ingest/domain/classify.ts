/**
 * What kind of inbound message is this? Pure over the normalised message.
 *
 *   loop        our own auto-notification came back (X-Mailroom-Loop = this account's id)
 *   bounce      a delivery failure or delay report (RFC 3464 DSN, Amazon SES notifications, the
 *               non-RFC formats of bounce-formats.ts whoever relayed them, the common daemon
 *               forms), or an abuse complaint (RFC 5965 ARF, SES complaints): with the affected
 *               recipients. A delay warning is a (transient) bounce, never an auto-reply
 *   challenge   a challenge-response filter (Boxbe, Spam Arrest...) holding our message until we
 *               prove we are a person (challenge-response.ts): not a bounce, not an auto-reply
 *   auto_reply  out-of-office and other automatic responses (RFC 3834 Auto-Submitted, the
 *               X-Autoreply family, Precedence: auto_reply, out-of-office subjects in many
 *               languages, Lotus Notes "AUTO:" notices, the old vacation programs), read receipts,
 *               success DSNs, another Mailroom's notification
 *   list        mailing lists and bulk mail (List-Id, List-Unsubscribe, List-Post, Mailing-List,
 *               Precedence: list/bulk/junk). Bulk is not an auto-reply: a newsletter is not
 *               answering anyone, but it must not get an automatic answer either
 *   normal      everything else
 *
 * First match in that order wins; `reasons` lists every signal seen (for the audit trail and
 * for tuning). `suppressAutoResponse` says whether WE may send an automatic answer (an
 * acknowledgement, an out-of-office of ours): never to anything but normal mail, and not when the
 * sender asked us not to (X-Auto-Response-Suppress) or cannot receive mail (no-reply addresses).
 * Note that X-Auto-Response-Suppress alone does NOT make a message an auto-reply: Outlook puts it
 * on ordinary mail sent by people.
 */
import { firstField, readHeaderBlock, type RawHeaderField } from '../../../mail/message/header-block.js';
import type { MailAddress, ParsedMessage } from '../../../mail/message/message.js';
import { normaliseMessageId } from '../../../mail/message/message-id.js';
import { detectBounceFormat, ownText, readAmazonSesNotification, type FormatHit } from './bounce-formats.js';
import { detectChallenge } from './challenge-response.js';

export type MessageKind = 'normal' | 'auto_reply' | 'bounce' | 'challenge' | 'list' | 'loop';

/** Every kind, in the order the decision tries them (for API schemas and exhaustive tests). */
export const MESSAGE_KINDS: readonly MessageKind[] = ['loop', 'bounce', 'challenge', 'auto_reply', 'list', 'normal'];

export interface BounceRecipient {
  /** The recipient we sent to (Original-Recipient when given, else Final-Recipient), lower-case. */
  address: string;
  /** Final-Recipient when it differs from `address` (aliases, forwarding), else null. */
  finalAddress: string | null;
  /** Enhanced status code (`5.1.1`), or null when none was found. */
  status: string | null;
  /** DSN Action (`failed`, `delayed`, `delivered`, `relayed`, `expanded`), lower-case, or null. */
  action: string | null;
  /** Diagnostic-Code or the SMTP reply line, trimmed, at most 1,000 characters. */
  diagnostic: string | null;
}

export interface BounceInfo {
  /** failure: delivery given up; delay: still retrying; complaint: the recipient reported us as spam (ARF). */
  type: 'failure' | 'delay' | 'complaint';
  /** True when sending to these recipients again is pointless (hard bounce or complaint). */
  permanent: boolean;
  recipients: BounceRecipient[];
  /** Message-ID of the message that bounced (from the returned headers), when found. */
  originalMessageId: string | null;
  /** `dsn` (RFC 3464 / 6533 report), `arf` (RFC 5965), `ses` (Amazon SES JSON notification) or `heuristic` (non-standard bounce text). */
  source: 'dsn' | 'arf' | 'ses' | 'heuristic';
}

export interface Classification {
  kind: MessageKind;
  bounce?: BounceInfo;
  /** List-Id (or Mailing-List) value of list mail, when present. */
  listId?: string | null;
  /** Challenge-response: the service when known (`boxbe`...), else null. */
  challenge?: { service: string | null };
  /** Every signal seen, e.g. `auto_submitted:auto-replied`, `subject:out_of_office`, `list_id`. */
  reasons: string[];
  /** True when Mailroom must not send an automatic answer to this message. */
  suppressAutoResponse: boolean;
}

export interface ClassifyOptions {
  /** This account's id: X-Mailroom-Loop with this value is our own loop. Without it, any value is. */
  accountId?: string;
}

export type ClassifyInput = Pick<ParsedMessage, 'subject' | 'from' | 'sender' | 'to' | 'text' | 'attachments' | 'reports' | 'headers' | 'headerFields'>;

export function classifyMessage(msg: ClassifyInput, opts: ClassifyOptions = {}): Classification {
  const reasons: string[] = [];
  const h = msg.headers;

  // ---- signals -------------------------------------------------------------------------------
  let loop = false;
  let foreignMailroom = false;
  if (h.xMailroomLoop !== null) {
    const v = h.xMailroomLoop.trim();
    if (opts.accountId === undefined || v === opts.accountId) {
      loop = true;
      reasons.push('mailroom_loop');
    } else {
      foreignMailroom = true;
      reasons.push('mailroom_loop:other_account');
    }
  }

  const dsn = readDsn(msg);
  if (dsn) reasons.push(`dsn:${dsn.recipients.map((r) => r.action ?? '?').join(',') || 'no_recipients'}`);
  const arf = readArf(msg);
  if (arf) reasons.push('arf_feedback_report');
  const body = bodyText(msg);
  const ses = dsn || arf ? null : readAmazonSesNotification(body);
  if (ses) reasons.push(`amazon_ses:${ses.kind}`);
  const mdn = msg.reports.some((r) => r.contentType.endsWith('disposition-notification')) || h.reportType === 'disposition-notification';
  if (mdn) reasons.push('read_receipt');

  const precedence = tokenOf(h.precedence);
  if (precedence) reasons.push(`precedence:${precedence}`);

  const autoSubmitted = tokenOf(h.autoSubmitted);
  const autoSignals: string[] = [];
  if (autoSubmitted && autoSubmitted !== 'no') autoSignals.push(`auto_submitted:${autoSubmitted}`);
  for (const [name, value] of [
    ['x_autoreply', h.xAutoreply],
    ['x_autorespond', h.xAutorespond],
    ['x_autoreply_other', h.xAutoreplyOther],
  ] as const) {
    if (value !== null && !/^(no|false|0)$/i.test(value.trim())) autoSignals.push(name);
  }
  if (precedence === 'auto_reply') autoSignals.push('precedence:auto_reply');
  if (outOfOfficeSubject(msg.subject)) autoSignals.push('subject:out_of_office');
  if (hasHeader(msg, 'x-vacation') || /autorespond|auto-?reply/i.test(firstField(msg.headerFields, 'x-post-messageclass') ?? '')) {
    autoSignals.push('vendor_autoreply_header');
  }
  const vacation = vacationProgram(msg, body, precedence);
  if (vacation) autoSignals.push(vacation);
  for (const s of autoSignals) if (!reasons.includes(s)) reasons.push(s);

  const challenge = dsn || arf || ses ? null : detectChallenge({ subject: msg.subject, text: body, from: msg.from, headerFields: msg.headerFields });
  if (challenge) reasons.push(...challenge.why);
  let format = dsn || arf || ses || challenge ? null : detectBounceFormat({ subject: msg.subject, text: body, headerFields: msg.headerFields });
  // A list post that pastes a bounce into a discussion is list mail: a report's text counts on a list
  // only from a mail daemon, or from the list manager itself (FML).
  if (format && format.format !== 'fml' && (h.listId !== null || h.listPost !== null) && !isDaemon(msg.from) && !isDaemon(msg.sender)) format = null;
  if (format) reasons.push(`format:${format.format}`);
  const heuristic = dsn || arf || ses || challenge ? null : heuristicBounce(msg, body, format);
  if (heuristic) reasons.push(...heuristic.why);

  const listId = h.listId ?? h.mailingList;
  const listSignals: string[] = [];
  if (h.listId !== null) listSignals.push('list_id');
  if (h.mailingList !== null) listSignals.push('mailing_list');
  if (h.listUnsubscribe !== null) listSignals.push('list_unsubscribe');
  if (h.listPost !== null) listSignals.push('list_post');
  if (precedence === 'list' || precedence === 'bulk' || precedence === 'junk') listSignals.push(`precedence_${precedence}`);
  for (const s of listSignals) reasons.push(s);

  const suppressRequested = /\b(all|oof|autoreply)\b/i.test(h.xAutoResponseSuppress ?? '');
  if (suppressRequested) reasons.push('x_auto_response_suppress');
  const noReply = isNoReply(msg.from) || (h.returnPath !== null && h.returnPath.replace(/[<>\s]/g, '') === '');
  if (noReply) reasons.push('no_reply_sender');

  // ---- decision ------------------------------------------------------------------------------
  const done = (kind: MessageKind, extra: Partial<Classification> = {}): Classification => ({
    kind,
    ...extra,
    reasons,
    suppressAutoResponse: kind !== 'normal' || suppressRequested || noReply,
  });

  if (loop) return done('loop');
  if (dsn) {
    let recipients = dsn.recipients;
    if (recipients.length === 0) {
      // A report without per-recipient fields (it happens): read the human-readable part.
      recipients = recipientsFromText(msg, body);
      if (DELAY_SUBJECT.test(msg.subject)) for (const r of recipients) r.action = 'delayed';
    }
    const actions = recipients.map((r) => r.action);
    const onlySuccess = recipients.length > 0 && actions.every((a) => a === 'delivered' || a === 'relayed' || a === 'expanded');
    if (onlySuccess) {
      reasons.push('dsn_success');
      return done('auto_reply');
    }
    const failed = recipients.some((r) => r.action === 'failed' || (r.action === null && r.status?.startsWith('5')));
    const delayed = recipients.some((r) => r.action === 'delayed' || (r.action === null && r.status?.startsWith('4')));
    const type: BounceInfo['type'] = !failed && delayed ? 'delay' : 'failure';
    const permanent = type === 'failure' && (recipients.length === 0 || recipients.some((r) => r.action === 'failed' || r.status?.startsWith('5')));
    return done('bounce', {
      bounce: { type, permanent, recipients, originalMessageId: originalMessageIdOf(msg), source: 'dsn' },
    });
  }
  if (arf) {
    return done('bounce', {
      bounce: { type: 'complaint', permanent: true, recipients: arf.recipients, originalMessageId: originalMessageIdOf(msg), source: 'arf' },
    });
  }
  if (ses) {
    const recipients: BounceRecipient[] = ses.recipients.map((r) => ({
      address: r.address,
      finalAddress: null,
      status: r.status,
      action: r.action ?? (ses.kind === 'complaint' ? ses.subtype : null),
      diagnostic: r.diagnostic,
    }));
    if (ses.kind === 'delivery') {
      reasons.push('dsn_success');
      return done('auto_reply');
    }
    if (ses.kind === 'complaint') {
      return done('bounce', { bounce: { type: 'complaint', permanent: true, recipients, originalMessageId: ses.originalMessageId, source: 'ses' } });
    }
    // Permanent: hard bounce. Transient (mailbox full, message too large...) and Undetermined: SES gave up on this message, the address may work later.
    return done('bounce', { bounce: { type: 'failure', permanent: ses.subtype === 'permanent', recipients, originalMessageId: ses.originalMessageId, source: 'ses' } });
  }
  if (challenge) return done('challenge', { challenge: { service: challenge.service } });
  if (heuristic) {
    return done('bounce', {
      bounce: {
        type: heuristic.delay ? 'delay' : 'failure',
        permanent: !heuristic.delay && (heuristic.recipients.every((r) => !r.status || r.status.startsWith('5')) || heuristic.recipients.length === 0),
        recipients: heuristic.recipients,
        originalMessageId: originalMessageIdOf(msg),
        source: 'heuristic',
      },
    });
  }
  if (mdn || autoSignals.length > 0 || foreignMailroom) return done('auto_reply');
  // Machine-generated all the same (e.g. Postfix "errors from" notices). Only MAILER-DAEMON and
  // "Mail Delivery System": a postmaster@ mailbox is often read and answered by a person.
  if (msg.from && (/^mailer-?daemon$/i.test(msg.from.address.split('@')[0] ?? '') || /mail ?delivery (sub)?system/i.test(msg.from.name))) {
    if (!reasons.includes('daemon_sender')) reasons.push('daemon_sender');
    return done('auto_reply');
  }
  if (listSignals.length > 0) return done('list', { listId: listId ?? null });
  return done('normal');
}

// ---- helpers ---------------------------------------------------------------------------------

/** First token of a structured value, lower-case, comments and parameters dropped. */
function tokenOf(value: string | null): string | null {
  if (value === null) return null;
  const v = value
    .replace(/\([^)]*\)/g, ' ')
    .split(/[;\s]/)
    .find((t) => t !== '');
  return v ? v.toLowerCase() : null;
}

function hasHeader(msg: ClassifyInput, key: string): boolean {
  return msg.headerFields.some((f) => f.key === key);
}

function isNoReply(a: MailAddress | null): boolean {
  if (!a) return false;
  const local = a.address.split('@')[0] ?? '';
  return /^(no[-_.]?reply|do[-_.]?not[-_.]?reply|donotreply|noreply[-_.].*|bounces?|mailer[-_]?daemon|postmaster)$/i.test(local);
}

const DAEMON_LOCAL = /^(mailer-?daemon|mail-?daemon|postmaster|mail\.?delivery|mailerdaemon|mdaemon|bounce|bounces)$/i;
const DAEMON_NAME = /mail ?delivery (sub)?system|mailer.?daemon|mail delivery service|postmaster|delivery status notification|mail administrator|post office/i;

function isDaemon(a: MailAddress | null): boolean {
  if (!a) return false;
  const local = a.address.split('@')[0] ?? '';
  return DAEMON_LOCAL.test(local) || DAEMON_NAME.test(a.name);
}

const BOUNCE_SUBJECT = new RegExp(
  [
    'undeliver(?:ed|able)',
    'undelivered mail',
    'returned mail',
    'return(?:ed)? to sender',
    'delivery status notification',
    'delivery (?:status )?notification',
    'delivery fail',
    'delivery failure',
    'delivery has failed',
    'delivery problem',
    'mail delivery fail',
    'mail delivery (?:sub)?system',
    'failure notice',
    'failed delivery',
    'non[- ]?deliver',
    'nondeliverable',
    'message not delivered',
    'message delivery fail',
    'could not be delivered',
    "couldn't be delivered",
    'mail system error',
    'mail could not be delivered',
    'rejected:',
    'returned message',
    'error sending message',
    'unzustellbar',
    'nicht zustellbar',
    'non remis',
    'non recapitabile',
    'no se pudo entregar',
    'onbestelbaar',
    'niet bezorgd',
    'olevererbart',
    'kan ikke leveres',
    'ei voitu toimittaa',
    'nie dostarczon',
    'nedoručiteln',
    'не доставлено',
    'недоставлен',
    '配信エラー',
    '配信不能',
    '未送達',
    '退信',
    '无法投递',
    '系统退信',
  ].join('|'),
  'i',
);
const DELAY_SUBJECT = /delay|warning\W+could not send|not yet been delivered|will retry|still trying|verzögert|retardé/i;

/**
 * The human-readable text the rules read: text/plain, else the HTML's text, else (a multipart/report
 * whose boundary is broken) a first unnamed text-like part the parser kept as an attachment.
 */
function bodyText(msg: ClassifyInput): string {
  if (msg.text && msg.text.trim() !== '') return msg.text.slice(0, 256 * 1024);
  const a = msg.attachments.find(
    (x) => !x.filename && (x.contentType.startsWith('text/') || x.contentType === 'application/octet-stream') && x.content.length > 0 && x.content.length < 256 * 1024,
  );
  if (a && a.content.indexOf(0) < 0) return a.content.toString('utf8');
  return '';
}

function heuristicBounce(msg: ClassifyInput, body: string, format: FormatHit | null): { recipients: BounceRecipient[]; delay: boolean; why: string[] } | null {
  const h = msg.headers;
  const why: string[] = [];
  const subject = msg.subject;
  const subjectHit = BOUNCE_SUBJECT.test(subject);
  const daemon = isDaemon(msg.from) || isDaemon(msg.sender);
  const nullSender = h.returnPath !== null && h.returnPath.replace(/[<>\s]/g, '') === '';
  const failedHeader = h.xFailedRecipients.length > 0;
  if (failedHeader) why.push('x_failed_recipients');
  if (daemon) why.push('daemon_sender');
  if (subjectHit) why.push('bounce_subject');
  if (nullSender) why.push('null_return_path');
  const returned = msg.attachments.some((a) => RETURNED_TYPES.includes(a.contentType));
  if (daemon && returned) why.push('returned_message_attached');
  // A delay warning from a mail system is a transient delivery report, not an auto-reply (sendmail's
  // "Warning: could not send message for past 4 hours", Exim's "Mail delivery delayed").
  const delayHit = daemon && !subjectHit && DELAY_SUBJECT.test(subject);
  if (delayHit) why.push('delay_subject_from_daemon');
  const isBounce = format !== null || failedHeader || (daemon && (subjectHit || nullSender || returned || delayHit)) || (subjectHit && nullSender);
  if (!isBounce) return null;

  const recipients = recipientsFromText(msg, body);
  if (format) {
    for (const r of [...format.recipients].reverse()) {
      const i = recipients.findIndex((x) => x.address === r.address);
      if (i >= 0) recipients.splice(i, 1);
      recipients.unshift({ address: r.address, finalAddress: null, status: r.status ?? statusIn(r.diagnostic ?? ''), action: 'failed', diagnostic: r.diagnostic });
    }
  }
  for (const a of h.xFailedRecipients) {
    if (!recipients.some((r) => r.address === a)) {
      recipients.unshift({ address: a, finalAddress: null, status: statusIn(body), action: 'failed', diagnostic: null });
    }
  }
  const delay = format ? format.type === 'delay' : DELAY_SUBJECT.test(subject) && !recipients.some((r) => r.status?.startsWith('5'));
  if (delay) {
    why.push('delay_subject');
    for (const r of recipients) r.action = 'delayed';
  }
  return { recipients, delay, why };
}

const ADDRESS = /<?([a-z0-9._%+'=\/-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+)>?/gi;
const LEADING_ADDRESS =
  /^(?:[-*>•]+\s*)?(?:(?:(?:failed |original |final |invalid )?(?:recipient|rcpt)(?:\s+address)?s?|address(?:e)?|e-?mail(?: address)?|user|mailbox|destinataire|empfänger)\s*:\s*)?<?([a-z0-9._%+'=\/-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+)>?\s*(?:[:\[(,;]|\s|$)(.*)$/i;
const FAILURE_WORDS =
  /unknown|not exist|n't exist|no such|invalid|rejected|refused|denied|failed|failure|unavailable|quota|mailbox (?:is )?full|disabled|blocked|not found|not listed|undeliverable|could not|couldn't|unable|delayed|deferred|bounced|inactive|suspended|too large|exceed(?:s|ed)?|does not like|not delivered|no mailbox|not permitted|not a member|expired|timed? ?out|over ?quota|not accept/i;
const ORIGINAL_MARKER =
  /^\s*(?:-{2,}.*(?:original|returned|below|copy|header|follows|undelivered|message text).*|.*original (?:message|mail) (?:follows|as follows).*|.*below this line is a copy.*|-+\s*original message\s*-+|(?:received|return-path|message-id|dkim-signature|x-received):\s.*)$/i;
const MAIL_HEADER_LINE = /^\s*(?:from|to|cc|bcc|reply-to|sender|subject|date|message-id|in-reply-to|references):\s/i;

/**
 * Recipients named in the human-readable part of a bounce: the text before the returned message,
 * lines that start with an address ("<a@b>: 550 ...", "a@b [User unknown]", "-- a@b"), or that
 * carry an SMTP code or a failure word next to an address. The bounce's own addresses and
 * daemon addresses are left out. When nothing is found and the returned message had exactly
 * one recipient, that one.
 */
function recipientsFromText(msg: ClassifyInput, body: string): BounceRecipient[] {
  // The bounce's own sender is never the failed recipient. Its To (normally us) is not excluded:
  // people do mail themselves, and test suites bounce mail back to the failed address.
  const own = new Set<string>([msg.from?.address ?? '', msg.sender?.address ?? ''].filter(Boolean));
  const addressees = new Set(msg.to.map((a) => a.address));
  const recipients: BounceRecipient[] = [];
  const seen = new Set<string>();
  const add = (address: string, status: string | null, diagnostic: string | null) => {
    const a = address.trim().replace(/^<|>$/g, '').toLowerCase();
    if (!a.includes('@') || seen.has(a) || own.has(a) || /^mailer-?daemon@/.test(a) || recipients.length >= 100) return;
    seen.add(a);
    const diag = diagnostic ? diagnostic.replace(/\s+/g, ' ').trim().slice(0, 1000) || null : null;
    recipients.push({ address: a, finalAddress: null, status, action: 'failed', diagnostic: diag });
  };
  const codeStatus = (s: string) => statusIn(s) ?? (/\b5\d\d\b/.test(s) ? '5.0.0' : /\b4\d\d\b/.test(s) ? '4.0.0' : null);
  const text = ownText(body).slice(0, 64 * 1024);
  // Inline DSN fields (some gateways paste them into text/plain).
  for (const m of text.matchAll(/^\s*(?:Original|Final)-Recipient:\s*(?:[a-z0-9.-]+;)?\s*<?([^\s<>;]+@[^\s<>;]+)>?/gim)) add(m[1]!, statusIn(text), null);
  const lines = text.split(/\r?\n/).slice(0, 300);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (i > 0 && ORIGINAL_MARKER.test(line)) break;
    if (MAIL_HEADER_LINE.test(line)) continue;
    const lead = LEADING_ADDRESS.exec(line.trim());
    if (lead) {
      let reason = (lead[2] ?? '').replace(/^[\]):\s]+/, '').trim();
      if (reason.length < 4)
        reason = lines
          .slice(i + 1, i + 4)
          .filter((l) => l.trim() !== '' && !ORIGINAL_MARKER.test(l))
          .join(' ')
          .trim();
      add(lead[1]!, codeStatus(reason), reason || null);
      continue;
    }
    if (/\b[45]\d\d[ ,-]|\b[45]\.\d{1,3}\.\d{1,3}\b/.test(line) || FAILURE_WORDS.test(line)) {
      // Lines like "550-F=[sender] T=[recipient]" name the bounce's addressee (us) too: skip it here.
      for (const m of line.matchAll(ADDRESS)) if (!addressees.has(m[1]!.toLowerCase())) add(m[1]!, codeStatus(line), line);
    }
  }
  if (recipients.length === 0) {
    // The notice may sit in a part the parser could not type (a broken multipart): read those too.
    for (const a of msg.attachments) {
      if (a.filename || a.contentType !== 'application/octet-stream' || a.content.length === 0 || a.content.length > 64 * 1024 || a.content.indexOf(0) >= 0) continue;
      const t = ownText(a.content.toString('utf8')).split(/\r?\n/).slice(0, 100);
      for (const line of t) {
        if (ORIGINAL_MARKER.test(line)) break;
        const lead = LEADING_ADDRESS.exec(line.trim());
        if (lead && !MAIL_HEADER_LINE.test(line)) add(lead[1]!, codeStatus(lead[2] ?? ''), (lead[2] ?? '').replace(/^[\]):\s]+/, '').trim() || null);
      }
    }
  }
  if (recipients.length === 0) {
    const sole = soleOriginalRecipient(msg, body);
    if (sole) add(sole, statusIn(text), null);
  }
  return recipients;
}

/** The only To/Cc address of the returned message, when there is exactly one (and it is not the bounce's own). */
function soleOriginalRecipient(msg: ClassifyInput, body = ''): string | null {
  const original = originalHeaderFields(msg) ?? inlineOriginalFields(body);
  if (!original) return null;
  const own = new Set<string>([...msg.to.map((a) => a.address), msg.from?.address ?? ''].filter(Boolean));
  const addrs = [firstField(original, 'to'), firstField(original, 'cc')]
    .filter((v): v is string => v !== null)
    .flatMap((v) => [...v.matchAll(ADDRESS)].map((m) => m[1]!.toLowerCase()));
  const unique = [...new Set(addrs)].filter((a) => !own.has(a));
  return unique.length === 1 ? unique[0]! : null;
}

function statusIn(s: string): string | null {
  const m = /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(s);
  return m ? m[1]! : null;
}

/** RFC 3464 / RFC 6533 delivery-status parts: one entry per recipient group. */
function readDsn(msg: ClassifyInput): { recipients: BounceRecipient[] } | null {
  const parts = msg.reports.filter((r) => r.contentType === 'message/delivery-status' || r.contentType === 'message/global-delivery-status');
  if (parts.length === 0) {
    if (msg.headers.reportType !== 'delivery-status') return null;
    // A multipart/report that lost its status part: a bounce all the same.
    return { recipients: [] };
  }
  const recipients: BounceRecipient[] = [];
  for (const part of parts) {
    const groups = part.text.replace(/\r\n?/g, '\n').split(/\n[ \t]*\n/);
    for (const group of groups) {
      const { fields } = readHeaderBlock(group.replace(/^\n+/, ''), { maxChars: 16 * 1024, maxFields: 50 });
      const finalR = addressOfRecipientField(firstField(fields, 'final-recipient'));
      const original = addressOfRecipientField(firstField(fields, 'original-recipient'));
      const address = original ?? finalR;
      if (!address) continue;
      const action = tokenOf(firstField(fields, 'action'));
      const diagRaw = firstField(fields, 'diagnostic-code');
      const diagnostic = diagRaw
        ? diagRaw
            .replace(/^\s*[a-z-]+\s*;\s*/i, '')
            .replace(/\s+/g, ' ')
            .trim()
            .slice(0, 1000) || null
        : null;
      const status = statusIn(firstField(fields, 'status') ?? '') ?? (diagnostic ? statusIn(diagnostic) : null);
      if (recipients.length < 100) {
        recipients.push({ address, finalAddress: finalR && finalR !== address ? finalR : null, status, action, diagnostic });
      }
    }
  }
  return { recipients };
}

function addressOfRecipientField(value: string | null): string | null {
  if (!value) return null;
  const afterType = value.includes(';') ? value.slice(value.indexOf(';') + 1) : value;
  const a = afterType.trim().replace(/^<|>$/g, '').trim().toLowerCase();
  return a === '' ? null : a;
}

/** RFC 5965 abuse/feedback reports. */
function readArf(msg: ClassifyInput): { recipients: BounceRecipient[] } | null {
  const part = msg.reports.find((r) => r.contentType === 'message/feedback-report');
  if (!part && msg.headers.reportType !== 'feedback-report') return null;
  const recipients: BounceRecipient[] = [];
  if (part) {
    const { fields } = readHeaderBlock(part.text.replace(/\r\n?/g, '\n'), { maxChars: 16 * 1024, maxFields: 100 });
    const feedbackType = tokenOf(firstField(fields, 'feedback-type'));
    for (const f of fields) {
      if (f.key !== 'original-rcpt-to' && f.key !== 'removal-recipient') continue;
      const a = f.value.replace(/^<|>$/g, '').trim().toLowerCase();
      if (a && recipients.length < 100 && !recipients.some((r) => r.address === a))
        recipients.push({ address: a, finalAddress: null, status: null, action: feedbackType, diagnostic: null });
    }
    if (recipients.length === 0) {
      const sole = soleOriginalRecipient(msg);
      if (sole) recipients.push({ address: sole, finalAddress: null, status: null, action: feedbackType, diagnostic: null });
    }
  }
  return { recipients };
}

const RETURNED_TYPES = ['message/rfc822', 'text/rfc822-headers', 'message/global', 'message/global-headers', 'message/rfc822-headers'];

/** Header fields of the returned message (attached message or headers part), or null. */
function originalHeaderFields(msg: ClassifyInput): RawHeaderField[] | null {
  for (const a of msg.attachments) {
    if (!RETURNED_TYPES.includes(a.contentType)) continue;
    const head = a.content
      .subarray(0, 64 * 1024)
      .toString('utf8')
      .replace(/\r\n?/g, '\n')
      .replace(/^\n+/, '');
    const { fields } = readHeaderBlock(head, { maxChars: 64 * 1024 });
    if (fields.length > 0) return fields;
  }
  return null;
}

/**
 * Header fields of a returned message pasted into the text after a marker line ("--- Below this line
 * is a copy of the message.", "----- Unsent message follows -----", "Original message follows."):
 * the first header block after it that has a To or a Subject.
 */
function inlineOriginalFields(body: string): RawHeaderField[] | null {
  const lines = body.slice(0, 128 * 1024).split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    if (!ORIGINAL_MARKER.test(lines[i]!) || MAIL_HEADER_LINE.test(lines[i]!)) continue;
    let j = i + 1;
    while (j < lines.length && lines[j]!.trim() === '') j++;
    const end = lines.indexOf('', j);
    const block = lines
      .slice(j, end < 0 ? lines.length : end)
      .map((l) => l.replace(/^\s+(?=[a-z-]+:)/i, ''))
      .join('\n');
    const { fields } = readHeaderBlock(block, { maxChars: 64 * 1024 });
    if (fields.some((f) => f.key === 'to' || f.key === 'subject')) return fields;
  }
  return null;
}

/** Message-ID of the returned message: from an attached message/headers part, else a Message-ID line in the text. */
function originalMessageIdOf(msg: ClassifyInput): string | null {
  const fields = originalHeaderFields(msg);
  const id = fields ? normaliseMessageId(firstField(fields, 'message-id')) : null;
  if (id) return id;
  const m = /^[ \t>]*Message-ID:\s*(<[^>\s]+>)/im.exec((msg.text ?? '').slice(0, 64 * 1024));
  return m ? normaliseMessageId(m[1]!) : null;
}

// Out-of-office subjects. `PHRASES` may be followed by anything that is not a letter ("Out of
// Office until Monday", "Automatic reply: Re: ..."); `WORDS` are short and common, so they must
// stand alone or be followed by a colon or dash.
const OOO_PHRASES = [
  'out of (?:the )?office',
  'automatic reply',
  'auto(?:matic)?[ -]?(?:reply|response|responder)',
  'autoreply',
  'autoresponse',
  'away from (?:the |my )?office',
  "i(?: am|'m| will be) (?:currently )?(?:out of (?:the )?office|away|on (?:vacation|holiday|leave))",
  'on vacation',
  'on holiday',
  'vacation (?:reply|notice|message|response)',
  'abwesenheitsnotiz',
  'automatische antwort',
  'nicht im büro',
  'abwesenheit',
  'urlaubsabwesenheit',
  'réponse automatique',
  'reponse automatique',
  'absent(?:e)? du bureau',
  'absence du bureau',
  "message d'absence",
  'respuesta automática',
  'respuesta automatica',
  'fuera de (?:la )?oficina',
  'risposta automatica',
  'fuori (?:ufficio|sede)',
  'automatisch antwoord',
  'automatische beantwoording',
  'afwezigheidsbericht',
  'niet aanwezig',
  'resposta automática',
  'resposta automatica',
  'fora do escritório',
  'automatiskt svar',
  'automatisk svar',
  'autosvar',
  'automaattinen vastaus',
  'odpowiedź automatyczna',
  'automatyczna odpowiedź',
  'poza biurem',
  'automatická odpověď',
  'mimo kancelář',
  'automatikus válasz',
  'otomatik yanıt',
  'ofis dışında',
  'автоответ',
  'автоматический ответ',
  'нет на месте',
  'в отпуске',
  '自動返信',
  '自動応答',
  '自動回覆',
  '自动回复',
  '自动答复',
  '不在办公室',
  '자동 회신',
  '부재중',
];
const OOO_WORDS = ['absent', 'absence', 'abwesend', 'ausente', 'assente', 'afwezig', 'ausência', 'frånvaro', 'fravær', 'poissa', 'nieobecność', '不在', '休暇'];
const OOO_RE = new RegExp(`^(?:${OOO_PHRASES.join('|')})(?![\\p{L}])|^(?:${OOO_WORDS.join('|')})\\s*(?:$|[:\\-–—])`, 'iu');

/** Lotus Notes / Domino: "AUTO: Jane Doe is out of the office (returning 05/01/2024)", and its translations. */
const LOTUS_AUTO_RE =
  /^auto:\s.*(?:\bout of (?:the )?office|\bis away|\bon (?:vacation|holiday|leave)|\(returning\b|\bist außer haus|\bist abwesend|\bnicht im büro|\best absente?\b|\bn'est pas au bureau|\bfuori ufficio|\bestá fuera|\bafwezig|\bis niet op kantoor|\(zurück am\b|\(retour le\b)/i;

// Out-of-office wording in a body (first lines): used with other evidence only, a person may write it.
const OOO_BODY =
  /\b(?:i (?:am|will be|'m|shall be) (?:currently )?(?:out of (?:the )?office|away from (?:the |my )?(?:office|desk|e-?mail)|on (?:vacation|holiday|leave|annual leave|parental leave)|away|absent|travelling|traveling)|i will not be reading my (?:e-?)?mail|i am not (?:in the office|available)|will be out of the office starting|will not return until|with limited (?:access to )?e-?mail|ich bin (?:bis|vom|ab|derzeit|zur zeit)\b.{0,40}(?:nicht im büro|abwesend|außer haus|im urlaub)|je suis absente?\b|je serai absente?\b|estoy fuera de la oficina|sono fuori ufficio)/i;
/** Words only the old vacation programs write (BSD/Linux vacation(1) default message and header). */
const VACATION_PROGRAM_BODY = /\bI will not be reading my (?:e-?)?mail for a while\b|\bYour mail (?:concerning|regarding) .{1,200} will be read when I(?:'m| am) back\b/i;
const VACATION_SUBJECT = /^(?:re:\s*)?(?:\(?vacation\)?|away from my (?:e-?)?mail|i am (?:away|on vacation|on holiday)|on vacation|on holiday|abwesend|absent|away)\b/i;

/**
 * Auto-replies the headers do not admit to: the old vacation programs (vacation(1), with Precedence:
 * bulk or junk and the "I will not be reading my mail" message, some with a Delivered-By-The-Graces-Of
 * header) and Lotus Notes "AUTO:" notices whose subject does not say why. Needs the wording AND a
 * machine's mark (the subject, Precedence, a vacation header); a person's short "I am away until
 * Monday" stays normal mail.
 */
function vacationProgram(msg: ClassifyInput, body: string, precedence: string | null): string | null {
  if (/vacation/i.test(firstField(msg.headerFields, 'delivered-by-the-graces-of') ?? '') || /\bvacation\b/i.test(firstField(msg.headerFields, 'x-mailer') ?? ''))
    return 'vacation_program_header';
  const start = ownText(body).trim().slice(0, 600);
  if (start === '') return null;
  if (VACATION_PROGRAM_BODY.test(start)) return 'vacation_program_text';
  if (!OOO_BODY.test(start)) return null;
  if (/^auto:\s/i.test(msg.subject)) return 'lotus_auto_subject';
  if (precedence === 'bulk' || precedence === 'junk') return 'vacation_precedence';
  if (VACATION_SUBJECT.test(msg.subject.trim())) return 'vacation_subject';
  return null;
}

/** True for the usual out-of-office subject forms, in several languages. */
export function outOfOfficeSubject(subject: string): boolean {
  const s = subject.trim().replace(/^[[(]\s*/, '');
  return OOO_RE.test(s) || LOTUS_AUTO_RE.test(s);
}
