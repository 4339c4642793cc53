/**
 * Delivery reports that carry no RFC 3464 status part, recognised by their own format: one small
 * strategy per family, tried in order, each pure over the subject, the human-readable text and the
 * header fields. They recognise the report whoever sent it: relays and forwarders often rewrite the
 * sender of a qmail, sendmail, Exim or Domino report to a person or a plain mailbox, so the sender
 * is not required to be a mail daemon (the daemon-sender heuristics in classify.ts stay for the
 * rest).
 *
 * Written from the public descriptions of these formats (the MTAs' own documentation and sample
 * reports, RFC 3464 for the fields, Amazon SES's notification-contents page, the format lists of
 * sisimai and flufl.bounce), not from any library's code.
 *
 *   amazon_ses   Amazon SES notifications delivered by email (SNS email subscription): a JSON body
 *                with notificationType (or eventType) Bounce, Complaint or Delivery
 *   qmail        "This is the qmail-send program at ..."; "<rcpt>:" blocks; "Below this line is a copy"
 *   sendmail     "----- The following addresses had permanent fatal errors -----", "Transcript of
 *                session follows"; the four-hour warning ("THIS IS A WARNING MESSAGE ONLY")
 *   exim         "This message was created automatically by mail delivery software." then either
 *                "could not be delivered ... The following address(es) failed" or the delay notice
 *                "has not yet been delivered ... after more than N hours on the queue"
 *   postfix      "This is the mail system at host ..."; the delay notice "THIS IS A WARNING ONLY"
 *   domino       Lotus Notes / Domino: Subject "DELIVERY FAILURE: ...", body "was not delivered to:
 *                <rcpt> because: <reason>"
 *   exchange     "Delivery has failed to these recipients or groups:" / "Your message did not reach
 *                some or all of the intended recipients"
 *   gmail        "Delivery to the following recipient failed permanently" / "has been delayed"
 *   delay        any delay notice by its subject ("Warning: message ... delayed 24 hours", "Delayed
 *                Mail (still being retried)", "Delivery Status Notification (Delay)"...)
 *   fml          the fml mailing-list manager (X-MLServer: fml) returning a post it refused: a
 *                bounce, not list mail
 */
import { firstField, type RawHeaderField } from '../../../mail/message/header-block.js';

export interface FormatRecipient {
  address: string;
  status: string | null;
  diagnostic: string | null;
}

export interface FormatHit {
  /** Which strategy recognised it (`qmail`, `exim`...), recorded in the reasons as `format:<name>`. */
  format: string;
  type: 'failure' | 'delay';
  /** Recipients the format names in its own layout (the generic text reader adds the rest). */
  recipients: FormatRecipient[];
}

export interface FormatInput {
  subject: string;
  /** The human-readable text (text/plain, or what stands for it). */
  text: string;
  headerFields: readonly RawHeaderField[];
}

export interface BounceFormat {
  name: string;
  detect(input: FormatInput): FormatHit | null;
}

const hit = (format: string, type: FormatHit['type'], recipients: FormatRecipient[] = []): FormatHit => ({ format, type, recipients });

/** A message forwarded by a person ("Fwd: Undeliverable ...") is theirs, not the MTA's report. */
const FORWARDED_SUBJECT = /^\s*(?:fwd?|fw|wg|tr|rv|doorst)\s*:/i;
const FORWARD_MARKER =
  /^\s*(?:-{5,}\s*(?:original message|forwarded message|mensaje original|ursprüngliche nachricht|message d'origine)|begin forwarded message:|_{10,}\s*$|on .{1,200} wrote:\s*$|am .{1,200} schrieb .{0,200}:\s*$|le .{1,200} a écrit\s*:\s*$|from: .*\r?\n\s*(?:sent|date|gesendet|envoyé): )/im;

/**
 * The report's own text: quoted lines (">") dropped, and nothing after a forwarded/original-message
 * marker, so a person quoting a bounce does not make a bounce.
 */
export function ownText(text: string): string {
  const m = FORWARD_MARKER.exec(text);
  const head = m ? text.slice(0, m.index) : text;
  return head
    .slice(0, 64 * 1024)
    .split(/\r?\n/)
    .filter((l) => !/^\s*>/.test(l))
    .join('\n');
}

export const qmail: BounceFormat = {
  name: 'qmail',
  detect: ({ text }) =>
    /\bThis is the qmail-send program at\b|I'm afraid I wasn't able to deliver your message to the following addresses|I'm not going to try again; this message has been in the queue too long/i.test(
      text,
    )
      ? hit('qmail', 'failure')
      : null,
};

export const sendmail: BounceFormat = {
  name: 'sendmail',
  detect: ({ subject, text }) => {
    const warning =
      /THIS IS A WARNING MESSAGE ONLY|YOU DO NOT NEED TO RESEND YOUR MESSAGE|Warning: message still undelivered after|Will keep trying until message is/i.test(text) ||
      /^\s*warning: could not send message for past/i.test(subject);
    const report =
      /-{3,}\s*(?:The following addresses had (?:permanent fatal|transient non-fatal) errors|Transcript of session follows|(?:Unsent|Returned|Original) message follows)\s*-{3,}/i.test(
        text,
      );
    if (warning && (report || /^\s*warning: could not send message for past/i.test(subject))) return hit('sendmail', 'delay');
    return report ? hit('sendmail', 'failure') : null;
  },
};

export const exim: BounceFormat = {
  name: 'exim',
  detect: ({ text }) => {
    if (!/This message was created automatically by mail delivery software\./i.test(text)) return null;
    if (/has not yet been delivered to one or more of its\s+recipients|No action is required on your part\.\s+Delivery attempts will continue/i.test(text))
      return hit('exim', 'delay');
    if (/could not be delivered to one or more of its\s+recipients|The following address(?:\(es\)|es)? failed:|delivery to the following address(?:\(es\)|es)? failed/i.test(text))
      return hit('exim', 'failure');
    return null;
  },
};

export const postfix: BounceFormat = {
  name: 'postfix',
  detect: ({ text }) => {
    if (!/This is the mail system at host\s/i.test(text)) return null;
    if (/THIS IS A WARNING ONLY\.?\s+YOU DO NOT NEED TO RESEND YOUR MESSAGE|Your message could not be delivered for more than \d+ hours?/i.test(text))
      return hit('postfix', 'delay');
    if (/your message could not\s+be delivered to one or more recipients|could not be delivered to one or more recipients/i.test(text)) return hit('postfix', 'failure');
    return null;
  },
};

const DOMINO_ADDRESS = /([a-z0-9._%+'=/-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+)/i;

export const domino: BounceFormat = {
  name: 'domino',
  detect: ({ subject, text }) => {
    const subjectHit = /^\s*delivery[ _]failure\s*:/i.test(subject);
    const block = /\bwas not delivered to:\s*\n([\s\S]{0,4000}?)\n\s*because:\s*\n([\s\S]{0,2000}?)(?:\n\s*\n|$)/i.exec(text);
    if (!subjectHit && !block) return null;
    const recipients: FormatRecipient[] = [];
    if (block) {
      const reason = block[2]!.replace(/\s+/g, ' ').trim() || null;
      for (const line of block[1]!.split('\n')) {
        const m = DOMINO_ADDRESS.exec(line);
        if (m) recipients.push({ address: m[1]!.toLowerCase(), status: null, diagnostic: reason });
      }
    }
    const delay = /delay/i.test(subject) && !/failure/i.test(subject);
    return hit('domino', delay ? 'delay' : 'failure', recipients);
  },
};

export const exchange: BounceFormat = {
  name: 'exchange',
  detect: ({ text }) =>
    /Delivery has failed to these recipients or groups:|Your message did not reach some or all of the intended recipients|The following recipient\(s\) cannot be reached:/i.test(
      text,
    )
      ? hit('exchange', 'failure')
      : /Delivery is delayed to these recipients or groups:/i.test(text)
        ? hit('exchange', 'delay')
        : null,
};

export const gmail: BounceFormat = {
  name: 'gmail',
  detect: ({ text }) =>
    /Delivery to the following recipients? failed permanently|Your message wasn't delivered to .+ because/i.test(text)
      ? hit('gmail', 'failure')
      : /Delivery to the following recipients? has been delayed|Delivery incomplete\s+There was a temporary problem delivering your message/i.test(text)
        ? hit('gmail', 'delay')
        : null,
};

/**
 * Delay notices named by their subject alone, whatever their sender (sendmail, Exim, Postfix, Gmail):
 * only subjects no person writes. "Delivery delayed: my order" may well be a customer's; those count
 * only from a mail daemon (classify.ts).
 */
export const DELAY_NOTICE_SUBJECT =
  /^\s*(?:warning: message \S+ delayed \d+ (?:minutes?|hours?|days?)|warning: could not send message for past \d+|delayed mail \(still being retried\)|delivery status notification \(delay\))/i;

export const delayNotice: BounceFormat = {
  name: 'delay',
  detect: ({ subject }) => (DELAY_NOTICE_SUBJECT.test(subject) ? hit('delay', 'delay') : null),
};

export const fml: BounceFormat = {
  name: 'fml',
  detect: ({ subject, text, headerFields }) => {
    const server = firstField(headerFields, 'x-mlserver') ?? '';
    if (!/\bfml\b/i.test(server)) return null;
    const refused =
      /\b(?:not (?:a )?member|is not member|rejected|ignored e?mail from|ignore mails? from|because its size is over the limit|size exceeds? the limit|unknown command|invalid command|security alert|not permitted|deny|denied)\b|Original mail as follows:/i;
    return refused.test(subject) || refused.test(text) ? hit('fml', 'failure') : null;
  },
};

/** The strategies in the order they are tried; the first that recognises the report wins. */
export const BOUNCE_FORMATS: readonly BounceFormat[] = [qmail, sendmail, exim, postfix, domino, exchange, gmail, fml, delayNotice];

/** The format of a DSN-less delivery report, or null when the message is not one. */
export function detectBounceFormat(input: FormatInput, formats: readonly BounceFormat[] = BOUNCE_FORMATS): FormatHit | null {
  if (FORWARDED_SUBJECT.test(input.subject)) return null;
  const own = { ...input, text: ownText(input.text) };
  for (const f of formats) {
    const h = f.detect(own);
    if (h) return h;
  }
  return null;
}

// ---- Amazon SES --------------------------------------------------------------------------------

export interface SesNotification {
  kind: 'bounce' | 'complaint' | 'delivery';
  /** Bounce: Permanent / Transient / Undetermined (lower-case); complaint: the feedback type; delivery: null. */
  subtype: string | null;
  recipients: Array<{ address: string; status: string | null; action: string | null; diagnostic: string | null }>;
  /** The Message-ID header of the message the notification is about, when SES included the headers. */
  originalMessageId: string | null;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);
const obj = (v: unknown): Record<string, unknown> | null => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null);

/**
 * An Amazon SES bounce, complaint or delivery notification read from a message body: the JSON
 * object itself, or the SNS envelope whose `Message` holds it as a string. Null for anything else.
 */
export function readAmazonSesNotification(text: string): SesNotification | null {
  const start = text.indexOf('{');
  if (start < 0 || start > 2000 || !/"(?:notificationType|eventType|Message)"/.test(text)) return null;
  const end = text.lastIndexOf('}');
  if (end <= start || end - start > 512 * 1024) return null;
  let root: Record<string, unknown> | null;
  try {
    root = obj(JSON.parse(text.slice(start, end + 1)));
  } catch {
    return null;
  }
  if (root && typeof root.Message === 'string' && !root.notificationType && !root.eventType) {
    try {
      root = obj(JSON.parse(root.Message));
    } catch {
      return null;
    }
  }
  if (!root) return null;
  const type = (str(root.notificationType) ?? str(root.eventType))?.toLowerCase();
  const mail = obj(root.mail);
  const originalMessageId = mail ? messageIdOfSesMail(mail) : null;
  const list = (v: unknown) =>
    Array.isArray(v)
      ? v
          .map(obj)
          .filter((x): x is Record<string, unknown> => x !== null)
          .slice(0, 100)
      : [];
  if (type === 'bounce') {
    const b = obj(root.bounce);
    if (!b) return null;
    return {
      kind: 'bounce',
      subtype: str(b.bounceType)?.toLowerCase() ?? null,
      recipients: list(b.bouncedRecipients)
        .map((r) => ({
          address: str(r.emailAddress)?.toLowerCase() ?? '',
          status: str(r.status),
          action: str(r.action)?.toLowerCase() ?? null,
          diagnostic: str(r.diagnosticCode)?.slice(0, 1000) ?? null,
        }))
        .filter((r) => r.address.includes('@')),
      originalMessageId,
    };
  }
  if (type === 'complaint') {
    const c = obj(root.complaint);
    if (!c) return null;
    return {
      kind: 'complaint',
      subtype: str(c.complaintFeedbackType)?.toLowerCase() ?? null,
      recipients: list(c.complainedRecipients)
        .map((r) => ({ address: str(r.emailAddress)?.toLowerCase() ?? '', status: null, action: null, diagnostic: null }))
        .filter((r) => r.address.includes('@')),
      originalMessageId,
    };
  }
  if (type === 'delivery') {
    const d = obj(root.delivery);
    return {
      kind: 'delivery',
      subtype: null,
      recipients: (Array.isArray(d?.recipients) ? d.recipients : [])
        .map((a) => str(a)?.toLowerCase() ?? '')
        .filter((a) => a.includes('@'))
        .slice(0, 100)
        .map((address) => ({ address, status: null, action: 'delivered', diagnostic: null })),
      originalMessageId,
    };
  }
  return null;
}

function messageIdOfSesMail(mail: Record<string, unknown>): string | null {
  const common = obj(mail.commonHeaders);
  const fromCommon = common ? str(common.messageId) : null;
  if (fromCommon) return fromCommon.replace(/^<|>$/g, '');
  if (Array.isArray(mail.headers)) {
    for (const h of mail.headers) {
      const o = obj(h);
      if (o && typeof o.name === 'string' && o.name.toLowerCase() === 'message-id') {
        const v = str(o.value);
        if (v) return v.replace(/^<|>$/g, '');
      }
    }
  }
  return null;
}
