/**
 * The hostile mail corpus (issue 8), generated in memory by our own code so tests and benchmarks need
 * no files: a 2 MB format=flowed body, 5,000 sibling parts, 500-deep nesting, a 25 MB attachment,
 * broken base64 / quoted-printable, unknown charsets, encoded-word tricks in From, NUL bytes, missing
 * and duplicate Message-ID / Date / Content-Type, header-only messages, 1,000-recipient headers, very
 * long header lines, CR-only line endings, and a few more shapes seen in the wild.
 *
 * Each case says what must hold once the message went through ingest (`checkStored`): the row exists,
 * the raw bytes are kept, and the `malformed` flags the message deserves are set. Messages are built
 * lazily (`build()`), so a caller holds at most the one being ingested.
 *
 * `scripts/generate-hostile-corpus.ts` writes the same messages as .eml files.
 */
import crypto from 'node:crypto';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { MalformedReason } from '../../src/mail/message/message.js';
import type { MessagesTable } from '../../src/platform/database/schema.js';
import { watchEventLoop, type StallFigures } from './loop-stall.js';
import { deepNestingMessage, manyPartsMessage } from '../../src/mail/parse/fixtures.js';

export interface HostileExpect {
  /** Reasons that must be flagged (others may be too). */
  malformed?: MalformedReason[];
  /** No reason at all may be flagged. */
  clean?: boolean;
  subject?: string | RegExp;
  messageId?: string | null;
  fromAddress?: string | null;
  /** The display name, when given, must be exactly this. */
  fromName?: string;
  toCount?: number;
  ccCount?: number;
  attachments?: { count?: number; minCount?: number; maxCount?: number; size?: number; sha256?: string };
  /** Substrings the stored text body (first 256 K characters) must contain. */
  textIncludes?: string[];
  textExcludes?: string[];
}

export interface HostileCase {
  name: string;
  /** What the message tries to do. */
  about: string;
  build: () => Buffer;
  expect: HostileExpect;
}

const DATE = 'Mon, 3 Jan 2022 10:00:00 +0000';
const CRLF = '\r\n';

function lines(...ls: string[]): string {
  return ls.join(CRLF);
}

/** Standard top-level header lines, each overridable or removable (value null). */
function head(name: string, over: Record<string, string | null> = {}): string[] {
  const h: Record<string, string | null> = {
    From: `Hostile Sender <sender-${name}@hostile.example>`,
    To: 'support@acme.test',
    Subject: `hostile ${name}`,
    'Message-ID': `<hostile-${name}@hostile.example>`,
    Date: DATE,
    'MIME-Version': '1.0',
    ...over,
  };
  return Object.entries(h)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k}: ${v}`);
}

/** Deterministic pseudo-random bytes (xorshift32), so the corpus is the same on every run. */
export function pseudoRandomBytes(size: number, seed = 0x9e3779b9): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  let i = 0;
  for (; i + 4 <= size; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out.writeUInt32LE(x, i);
  }
  for (; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Base64 in 76-character lines with CRLF, written straight into one Buffer (fast for tens of MB). */
export function base64Lines(data: Buffer): Buffer {
  const b64 = Buffer.from(data.toString('base64'), 'latin1');
  const full = Math.floor(b64.length / 76);
  const rest = b64.length % 76;
  const out = Buffer.allocUnsafe(full * 78 + (rest ? rest + 2 : 0));
  let o = 0;
  for (let i = 0; i < full; i++) {
    b64.copy(out, o, i * 76, i * 76 + 76);
    o += 76;
    out[o++] = 13;
    out[o++] = 10;
  }
  if (rest) {
    b64.copy(out, o, full * 76);
    o += rest;
    out[o++] = 13;
    out[o++] = 10;
  }
  return out;
}

const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

// ---- the big ones ------------------------------------------------------------------------------

function flowed(bytes: number): Buffer {
  const line = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod te ';
  const count = Math.ceil(bytes / (line.length + 2));
  const body = `FLOWED-START ${Array.from({ length: count }, () => line).join(CRLF)}${CRLF}`;
  return Buffer.from(lines(...head('flowed-2mb', { 'Content-Type': 'text/plain; charset=utf-8; format=flowed; delsp=yes' }), '', body), 'utf8');
}

function siblings(n: number): Buffer {
  return manyPartsMessage(n, head('parts-5000'));
}

function nested(depth: number): Buffer {
  return deepNestingMessage(depth, head('nesting-500'));
}

/** message/rfc822 inside message/rfc822, `depth` times (forwarded-as-attachment chains). */
function nestedRfc822(depth: number): Buffer {
  let inner = lines('From: bottom@hostile.example', 'Subject: the innermost', 'Content-Type: text/plain', '', 'innermost text', '');
  for (let i = depth - 1; i >= 0; i--) {
    inner = lines(`From: level${i}@hostile.example`, `Subject: level ${i}`, 'MIME-Version: 1.0', `Content-Type: multipart/mixed; boundary="r${i}"`, '', `--r${i}`, 'Content-Type: text/plain', '', `wrapper ${i}`, `--r${i}`, 'Content-Type: message/rfc822', '', inner, `--r${i}--`, '');
  }
  return Buffer.from(lines(...head('rfc822-200', { 'Content-Type': 'multipart/mixed; boundary="outer"' }), '', '--outer', 'Content-Type: text/plain', '', 'outer text', '--outer', 'Content-Type: message/rfc822', '', inner, '--outer--', ''));
}

export const BIG_ATTACHMENT_BYTES = 25 * 1024 * 1024;
let bigAttachmentSha: string | null = null;

function bigAttachmentContent(): Buffer {
  return pseudoRandomBytes(BIG_ATTACHMENT_BYTES, 0x2525);
}

function bigAttachment(): Buffer {
  const content = bigAttachmentContent();
  bigAttachmentSha ??= sha256(content);
  const before = Buffer.from(
    lines(
      ...head('attachment-25mb', { 'Content-Type': 'multipart/mixed; boundary="BIG"' }),
      '',
      '--BIG',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Here is the 25 MB file you asked for.',
      '--BIG',
      'Content-Type: application/octet-stream; name="big.bin"',
      'Content-Disposition: attachment; filename="big.bin"',
      'Content-Transfer-Encoding: base64',
      '',
      '',
    ),
  );
  return Buffer.concat([before, base64Lines(content), Buffer.from(`--BIG--${CRLF}`)]);
}

// ---- encodings and charsets --------------------------------------------------------------------

function brokenBase64(): Buffer {
  return Buffer.from(
    lines(
      ...head('broken-base64', { 'Content-Type': 'multipart/mixed; boundary="B64"' }),
      '',
      '--B64',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      // "BASE64-TEXT survives" then junk characters, a stray '=' in the middle and no padding
      Buffer.from('BASE64-TEXT survives').toString('base64').replace(/=+$/, '') + '!!$$%%',
      'SGVsbG8=gd29ybGQ',
      'not base64 at all \u00ff\u00fe',
      '--B64',
      'Content-Type: application/pdf; name="broken.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      'JVBERi0xLjQK===*&^%$#@!',
      'A',
      '--B64--',
      '',
    ),
    'latin1',
  );
}

function brokenQp(): Buffer {
  return Buffer.from(
    lines(
      ...head('broken-qp', { 'Content-Type': 'text/plain; charset=iso-8859-1', 'Content-Transfer-Encoding': 'quoted-printable' }),
      '',
      'QP-TEXT caf=E9 and a bad escape =ZZ and =4 and a lone =',
      'soft break in the mid=',
      'dle, a very long line ' + 'x'.repeat(5000) + '=',
      '=0D=0A=00 encoded NUL and CRLF',
      'ends with =',
    ),
    'latin1',
  );
}

function unknownCharset(): Buffer {
  return Buffer.from(
    lines(
      ...head('unknown-charset', {
        Subject: '=?x-klingon-8?Q?qapla=E9?= and =?utf-8?B?w6ljaGVj?=',
        'Content-Type': 'text/plain; charset="x-klingon-8"',
        'Content-Transfer-Encoding': '8bit',
      }),
      '',
      'CHARSET-TEXT with high bytes \u00e9\u00e8\u00ff',
      '',
    ),
    'latin1',
  );
}

function mixedCharsets(): Buffer {
  return Buffer.from(
    lines(
      ...head('mixed-charsets', { 'Content-Type': 'multipart/alternative; boundary="ALT"' }),
      '',
      '--ALT',
      'Content-Type: text/plain; charset=utf-7',
      '',
      'UTF7-TEXT +AOk-',
      '--ALT',
      'Content-Type: text/html; charset=""',
      '',
      '<p>empty charset</p>',
      '--ALT',
      'Content-Type: text/plain; charset=unicode-1-1-utf-7; charset=utf-8',
      '',
      'two charsets',
      '--ALT--',
      '',
    ),
  );
}

/** Raw 8-bit Latin-1 header bytes (no encoded words), as old clients send them. */
function raw8bitHeaders(): Buffer {
  return Buffer.concat([
    Buffer.from(lines(...head('raw-8bit-headers', { Subject: null, From: null, 'Content-Type': 'text/plain; charset=iso-8859-1' })) + CRLF),
    Buffer.from(`Subject: R\u00e9ponse \u00e0 votre courrier${CRLF}From: Fran\u00e7ois <francois@hostile.example>${CRLF}${CRLF}texte accentu\u00e9${CRLF}`, 'latin1'),
  ]);
}

// ---- From tricks -------------------------------------------------------------------------------

function fromLooksLikeAddress(): Buffer {
  // The display name is an encoded word that decodes to another (trusted-looking) address.
  return Buffer.from(lines(...head('from-encoded-address', { From: '=?utf-8?Q?ceo=40bank=2Eexample?= <attacker@evil.example>' }), '', 'Please wire the money today.', ''));
}

function fromEncodedAngle(): Buffer {
  // The encoded word decodes to `"CEO" <ceo@bank.example>`: the decoded text must not become the address.
  const name = Buffer.from('CEO <ceo@bank.example>').toString('base64');
  return Buffer.from(lines(...head('from-encoded-angle', { From: `=?utf-8?B?${name}?= <attacker@evil.example>` }), '', 'Urgent.', ''));
}

function fromOnlyEncodedWord(): Buffer {
  // No addr-spec at all, just an encoded word that decodes to an address.
  return Buffer.from(lines(...head('from-only-encoded-word', { From: '=?utf-8?Q?ceo=40bank=2Eexample?=' }), '', 'Who am I?', ''));
}

function fromTwoAddresses(): Buffer {
  return Buffer.from(lines(...head('from-two-mailboxes', { From: '"support@acme.test" <a@evil.example>, ceo@bank.example' }), '', 'Two senders.', ''));
}

function fromRtlOverride(): Buffer {
  const name = Buffer.from('Bank \u202Eelpmaxe.knab@oec\u202C').toString('base64');
  return Buffer.from(lines(...head('from-rtl-override', { From: `=?utf-8?B?${name}?= <attacker@evil.example>` }), '', 'RTL override in the name.', ''));
}

// ---- NUL bytes ---------------------------------------------------------------------------------

function nulBytes(): Buffer {
  return Buffer.concat([
    Buffer.from(lines(...head('nul-bytes', { Subject: 'NUL\u0000in the subject', 'Content-Type': 'multipart/mixed; boundary="NUL"' }), '', '--NUL', 'Content-Type: text/plain', '', 'NUL-TEXT before')),
    Buffer.from([0, 0, 0]),
    Buffer.from(lines('', 'after the NULs', '--NUL', 'Content-Type: application/octet-stream; name="n\u0000ul.bin"', '', '')),
    Buffer.from([0, 1, 2, 0, 0]),
    Buffer.from(`${CRLF}--NUL--${CRLF}`),
  ]);
}

// ---- missing and duplicate headers -------------------------------------------------------------

function missingHeaders(): Buffer {
  return Buffer.from(lines(...head('missing-headers', { 'Message-ID': null, Date: null, 'MIME-Version': null }), '', 'MISSING-TEXT no id, no date, no content type', ''));
}

function missingFrom(): Buffer {
  return Buffer.from(lines(...head('missing-from', { From: null }), '', 'Nobody wrote this.', ''));
}

function duplicateHeaders(): Buffer {
  return Buffer.from(
    lines(
      'From: first@hostile.example',
      'From: second@hostile.example',
      'To: support@acme.test',
      'Subject: hostile duplicate-headers',
      'Message-ID: <hostile-duplicate-first@hostile.example>',
      'Message-ID: <hostile-duplicate-second@hostile.example>',
      `Date: ${DATE}`,
      'Date: Tue, 4 Jan 2022 11:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Type: multipart/mixed; boundary="nope"',
      '',
      'DUPLICATE-TEXT first ones win',
      '',
    ),
  );
}

function unparseableDate(): Buffer {
  return Buffer.from(lines(...head('unparseable-date', { Date: '31 Feb 2022 25:61:00 +9999' }), '', 'A date that cannot be.', ''));
}

function emptyHeaderValues(): Buffer {
  return Buffer.from(lines('From:', 'To:', 'Subject:', 'Message-ID: <>', 'Date:', 'Content-Type:', '', 'EMPTY-VALUES text', ''));
}

// ---- header-only and degenerate ----------------------------------------------------------------

function headerOnlyNoBlank(): Buffer {
  // Headers and nothing else: no empty line, no body.
  return Buffer.from(lines(...head('header-only'), ''));
}

function headerOnlyNoNewline(): Buffer {
  return Buffer.from(lines(...head('header-only-no-newline')));
}

function headerOnlyWithJunk(): Buffer {
  // Body lines follow the header without the empty line in between.
  return Buffer.from(lines(...head('header-only-junk'), 'this line is not a header field', 'neither is this one', ''));
}

function empty(): Buffer {
  return Buffer.alloc(0);
}

function binaryGarbage(): Buffer {
  return pseudoRandomBytes(64 * 1024, 0xbad);
}

// ---- big headers -------------------------------------------------------------------------------

function manyRecipients(n: number): Buffer {
  const to = Array.from({ length: n }, (_, i) => `"Recipient ${i}" <rcpt${i}@many.example>`).join(`,${CRLF} `);
  const cc = Array.from({ length: n }, (_, i) => `cc${i}@many.example`).join(', '); // one unfolded line
  return Buffer.from(lines(...head('recipients-1000', { To: to, Cc: cc }), '', 'To a thousand people.', ''));
}

function longHeaderLines(): Buffer {
  const longSubject = 'LONG '.repeat(20_000); // 100 KB, one line
  const refs = Array.from({ length: 10_000 }, (_, i) => `<ref${i}@hostile.example>`).join(' ');
  return Buffer.from(lines(...head('long-header-lines', { Subject: longSubject, References: refs, 'In-Reply-To': '<ref9999@hostile.example>' }), `X-Long: ${'y'.repeat(1024 * 1024)}`, '', 'LONG-HEADERS text', ''));
}

/** 990 distinct CJK characters (about 3 KB in UTF-8, incompressible) in Message-ID, In-Reply-To and References. */
function longNonAsciiIds(): Buffer {
  const cjk = Array.from({ length: 990 }, (_, i) => String.fromCharCode(0x4e00 + ((i * 7919) % 20000))).join('');
  return Buffer.from(lines(...head('long-non-ascii-ids', { 'Message-ID': `<${cjk}@hostile.example>`, 'In-Reply-To': `<r${cjk}@hostile.example>`, References: `<f${cjk}@hostile.example>`, 'Content-Type': 'text/plain; charset=utf-8' }), '', 'LONG-IDS text', ''));
}

function headerBomb(): Buffer {
  const fields = Array.from({ length: 20_000 }, (_, i) => `X-Bomb-${i}: ${'v'.repeat(40)}`);
  return Buffer.from(lines(...head('header-bomb'), ...fields, '', 'HEADER-BOMB text', ''));
}

function encodedWordFlood(): Buffer {
  const subject = Array.from({ length: 5_000 }, (_, i) => `=?utf-8?B?${Buffer.from(`w${i} `).toString('base64')}?=`).join(' ');
  return Buffer.from(lines(...head('encoded-word-flood', { Subject: subject }), '', 'ENCODED-FLOOD text', ''));
}

// ---- line endings and structure ----------------------------------------------------------------

function crOnly(): Buffer {
  const text = lines(...head('cr-only', { 'Content-Type': 'multipart/mixed; boundary="CR"' }), '', '--CR', 'Content-Type: text/plain', '', 'CR-ONLY-TEXT first line', 'second line', '--CR--', '');
  return Buffer.from(text.replace(/\r\n/g, '\r'));
}

function lfOnly(): Buffer {
  return Buffer.from(lines(...head('lf-only'), '', 'LF-ONLY-TEXT', '').replace(/\r\n/g, '\n'));
}

function mixedLineEndings(): Buffer {
  return Buffer.from(`From: mixed@hostile.example\r\nTo: support@acme.test\nSubject: hostile mixed-line-endings\r\rMessage-ID: <hostile-mixed-line-endings@hostile.example>\n\rDate: ${DATE}\r\n\r\nMIXED-TEXT body\r\n\n\r`);
}

function unterminatedMultipart(): Buffer {
  return Buffer.from(lines(...head('unterminated-multipart', { 'Content-Type': 'multipart/mixed; boundary="CUT"' }), '', '--CUT', 'Content-Type: text/plain', '', 'UNTERMINATED-TEXT cut short here', '--CUT', 'Content-Type: application/octet-stream', 'Content-Transfer-Encoding: base64', '', 'AAAA'));
}

function boundaryTricks(): Buffer {
  const long = 'b'.repeat(2000);
  return Buffer.from(
    lines(
      ...head('boundary-tricks', { 'Content-Type': `multipart/mixed; boundary="${long}"` }),
      '',
      `--${long}`,
      'Content-Type: multipart/alternative; boundary=""',
      '',
      '--',
      'Content-Type: text/plain',
      '',
      'BOUNDARY-TEXT inside an empty boundary',
      '----',
      `--${long}`,
      `Content-Type: multipart/related; boundary="${long}"`,
      '',
      `--${long}`,
      'Content-Type: text/plain',
      '',
      'same boundary as the parent',
      `--${long}--`,
      `--${long}--`,
      '',
    ),
  );
}

function dsnReport(): Buffer {
  return Buffer.from(
    lines(
      ...head('dsn-garbage', { From: 'Mail Delivery System <MAILER-DAEMON@hostile.example>', Subject: 'Undelivered Mail Returned to Sender', 'Content-Type': 'multipart/report; report-type=delivery-status; boundary="R"' }),
      '',
      '--R',
      'Content-Type: text/plain',
      '',
      'DSN-TEXT your message could not be delivered',
      '--R',
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mx.hostile.example',
      '',
      'Final-Recipient: rfc822; ' + 'x'.repeat(3000) + '@hostile.example',
      'Action: failed',
      'Status: 5.1.1',
      'Diagnostic-Code: smtp; ' + '550 '.repeat(2000),
      '',
      'Final-Recipient: rfc822;',
      'Action:',
      'Status: 9.9.9.9.9',
      '',
      'Final-Recipient: rfc822; gone@customer.example',
      'Action: failed',
      'Status: 5.1.1',
      '--R',
      'Content-Type: text/rfc822-headers',
      '',
      'Message-ID: <original@acme.test>',
      '--R--',
      '',
    ),
  );
}

/** The corpus, in ingest order. The big ones are spread out so a slow one does not hide another. */
export function hostileCorpus(): HostileCase[] {
  return [
    { name: 'flowed-2mb', about: '2 MB format=flowed body (one giant paragraph)', build: () => flowed(2 * 1024 * 1024), expect: { clean: true, textIncludes: ['FLOWED-START Lorem ipsum'], subject: 'hostile flowed-2mb' } },
    { name: 'parts-5000', about: '5,000 sibling MIME parts', build: () => siblings(5000), expect: { malformed: ['too_many_parts'], textIncludes: ['part 0'], attachments: { minCount: 400, maxCount: 500 } } },
    { name: 'nesting-500', about: 'multiparts nested 500 deep', build: () => nested(500), expect: { malformed: ['too_deep'], textIncludes: ['before the bomb', 'after the bomb'], textExcludes: ['the bottom'] } },
    { name: 'rfc822-200', about: 'message/rfc822 nested 200 deep', build: () => nestedRfc822(200), expect: { malformed: ['too_deep'], textIncludes: ['outer text'] } },
    {
      name: 'attachment-25mb',
      about: '25 MB base64 attachment',
      build: bigAttachment,
      expect: {
        clean: true,
        textIncludes: ['25 MB file'],
        get attachments() {
          return { count: 1, size: BIG_ATTACHMENT_BYTES, sha256: bigAttachmentSha ?? sha256(bigAttachmentContent()) };
        },
      } as HostileExpect,
    },
    { name: 'broken-base64', about: 'base64 with junk characters, stray padding, truncated quanta', build: brokenBase64, expect: { textIncludes: ['BASE64-TEXT survives'], attachments: { count: 1 } } },
    { name: 'broken-qp', about: 'quoted-printable with invalid escapes and soft breaks', build: brokenQp, expect: { textIncludes: ['QP-TEXT caf\u00e9', '=ZZ'] } },
    { name: 'unknown-charset', about: 'unknown charset in body and encoded word', build: unknownCharset, expect: { malformed: ['unknown_charset'], textIncludes: ['CHARSET-TEXT'] } },
    { name: 'mixed-charsets', about: 'utf-7, empty and repeated charset parameters', build: mixedCharsets, expect: { textIncludes: ['two charsets'] } },
    { name: 'raw-8bit-headers', about: 'raw Latin-1 bytes in Subject and From', build: raw8bitHeaders, expect: { subject: 'R\u00e9ponse \u00e0 votre courrier', fromAddress: 'francois@hostile.example', fromName: 'Fran\u00e7ois' } },
    { name: 'from-encoded-address', about: 'encoded-word display name that decodes to another address', build: fromLooksLikeAddress, expect: { clean: true, fromAddress: 'attacker@evil.example', fromName: 'ceo@bank.example' } },
    { name: 'from-encoded-angle', about: 'encoded word decoding to "CEO <ceo@bank.example>"', build: fromEncodedAngle, expect: { fromAddress: 'attacker@evil.example' } },
    { name: 'from-only-encoded-word', about: 'From is only an encoded word that decodes to an address', build: fromOnlyEncodedWord, expect: {} },
    { name: 'from-two-mailboxes', about: 'two mailboxes in From, the first with an address as its name', build: fromTwoAddresses, expect: { fromAddress: 'a@evil.example' } },
    { name: 'from-rtl-override', about: 'right-to-left override characters in the display name', build: fromRtlOverride, expect: { fromAddress: 'attacker@evil.example' } },
    { name: 'nul-bytes', about: 'NUL bytes in header, body and a file name', build: nulBytes, expect: { malformed: ['nul_bytes'], textIncludes: ['NUL-TEXT before'] } },
    { name: 'missing-headers', about: 'no Message-ID, Date or Content-Type', build: missingHeaders, expect: { malformed: ['missing_message_id', 'missing_date'], messageId: null, textIncludes: ['MISSING-TEXT'] } },
    { name: 'missing-from', about: 'no From', build: missingFrom, expect: { malformed: ['missing_from'], fromAddress: null } },
    {
      name: 'duplicate-headers',
      about: 'two From, Message-ID, Date and Content-Type fields',
      build: duplicateHeaders,
      expect: { messageId: 'hostile-duplicate-first@hostile.example', fromAddress: 'first@hostile.example', textIncludes: ['DUPLICATE-TEXT'] },
    },
    { name: 'unparseable-date', about: 'a Date that cannot be', build: unparseableDate, expect: { malformed: ['unparseable_date'] } },
    { name: 'empty-header-values', about: 'every header present but empty', build: emptyHeaderValues, expect: { malformed: ['missing_message_id', 'missing_date', 'missing_from'], messageId: null } },
    { name: 'header-only', about: 'header block only, no empty line, no body', build: headerOnlyNoBlank, expect: { clean: true, subject: 'hostile header-only', messageId: 'hostile-header-only@hostile.example' } },
    { name: 'header-only-no-newline', about: 'header block only, no final newline', build: headerOnlyNoNewline, expect: { clean: true, subject: 'hostile header-only-no-newline', messageId: 'hostile-header-only-no-newline@hostile.example' } },
    { name: 'header-only-junk', about: 'body lines directly after the header, no empty line', build: headerOnlyWithJunk, expect: { malformed: ['header_only'], subject: 'hostile header-only-junk' } },
    { name: 'empty', about: 'zero bytes', build: empty, expect: { malformed: ['missing_message_id', 'missing_date', 'missing_from'] } },
    { name: 'binary-garbage', about: '64 KB of random bytes', build: binaryGarbage, expect: { malformed: ['missing_message_id'] } },
    { name: 'recipients-1000', about: '1,000 recipients in To (folded) and in Cc (one line)', build: () => manyRecipients(1000), expect: { clean: true, toCount: 1000, ccCount: 1000 } },
    { name: 'long-header-lines', about: '100 KB Subject, 1 MB header line, 10,000 References', build: longHeaderLines, expect: { subject: /^LONG LONG/, textIncludes: ['LONG-HEADERS text'] } },
    { name: 'long-non-ascii-ids', about: 'Message-ID, In-Reply-To and References of 990 distinct CJK characters (~3 KB)', build: longNonAsciiIds, expect: { malformed: ['missing_message_id'], messageId: null, textIncludes: ['LONG-IDS text'] } },
    { name: 'header-bomb', about: '20,000 header fields', build: headerBomb, expect: { subject: 'hostile header-bomb' } },
    { name: 'encoded-word-flood', about: '5,000 encoded words in Subject (a 4,096-character subject of distinct words)', build: encodedWordFlood, expect: { subject: /^w0 w1 w2/, textIncludes: ['ENCODED-FLOOD text'] } },
    { name: 'cr-only', about: 'CR-only line endings (old Mac)', build: crOnly, expect: { subject: 'hostile cr-only', messageId: 'hostile-cr-only@hostile.example', textIncludes: ['CR-ONLY-TEXT first line'] } },
    { name: 'lf-only', about: 'bare LF line endings', build: lfOnly, expect: { clean: true, subject: 'hostile lf-only', textIncludes: ['LF-ONLY-TEXT'] } },
    { name: 'mixed-line-endings', about: 'CRLF, LF and CR mixed', build: mixedLineEndings, expect: { fromAddress: 'mixed@hostile.example' } },
    { name: 'unterminated-multipart', about: 'multipart cut short (no closing boundary)', build: unterminatedMultipart, expect: { malformed: ['truncated_parts'], textIncludes: ['UNTERMINATED-TEXT'] } },
    { name: 'boundary-tricks', about: '2,000-character boundary, empty boundary, child reusing the parent boundary', build: boundaryTricks, expect: {} },
    { name: 'dsn-garbage', about: 'delivery report with a 3,000-character recipient, empty fields, bad status', build: dsnReport, expect: { textIncludes: ['DSN-TEXT'] } },
  ];
}

/** What a stored message row must look like for its case; returns the problems found ([] = fine). */
export function checkStored(c: HostileCase, row: MessagesTable, raw: { length: number; sha256: string }): string[] {
  const problems: string[] = [];
  const e = c.expect;
  const flags = JSON.parse(row.malformed) as string[];
  if (row.size !== raw.length) problems.push(`size ${row.size} != ${raw.length}`);
  if (row.raw_sha256 !== raw.sha256) problems.push('raw_sha256 is not the digest of the raw bytes');
  for (const bad of ['parse_error', 'parse_timeout'] as const) if (flags.includes(bad)) problems.push(`flagged ${bad}: the parser failed instead of flagging`);
  for (const r of e.malformed ?? []) if (!flags.includes(r)) problems.push(`not flagged ${r} (flags: ${flags.join(',') || 'none'})`);
  if (e.clean && flags.length) problems.push(`expected no flags, got ${flags.join(',')}`);
  if (e.subject !== undefined) {
    const ok = typeof e.subject === 'string' ? row.subject === e.subject : e.subject.test(row.subject);
    if (!ok) problems.push(`subject ${JSON.stringify(row.subject.slice(0, 80))} does not match ${String(e.subject)}`);
  }
  if (e.messageId !== undefined && row.message_id !== (e.messageId?.toLowerCase() ?? null)) problems.push(`message_id ${row.message_id} != ${e.messageId}`);
  if (e.fromAddress !== undefined && row.from_address !== e.fromAddress) problems.push(`from_address ${row.from_address} != ${e.fromAddress}`);
  if (e.fromName !== undefined && row.from_name !== e.fromName) problems.push(`from_name ${JSON.stringify(row.from_name)} != ${JSON.stringify(e.fromName)}`);
  if (e.toCount !== undefined) {
    const n = (JSON.parse(row.to) as unknown[]).length;
    if (n !== e.toCount) problems.push(`${n} To addresses, expected ${e.toCount}`);
  }
  if (e.ccCount !== undefined) {
    const n = (JSON.parse(row.cc) as unknown[]).length;
    if (n !== e.ccCount) problems.push(`${n} Cc addresses, expected ${e.ccCount}`);
  }
  if (e.attachments) {
    const atts = JSON.parse(row.attachments) as Array<{ size: number; sha256: string }>;
    const a = e.attachments;
    if (a.count !== undefined && atts.length !== a.count) problems.push(`${atts.length} attachments, expected ${a.count}`);
    if (a.minCount !== undefined && atts.length < a.minCount) problems.push(`${atts.length} attachments, expected at least ${a.minCount}`);
    if (a.maxCount !== undefined && atts.length > a.maxCount) problems.push(`${atts.length} attachments, expected at most ${a.maxCount}`);
    if (a.size !== undefined && atts[0]?.size !== a.size) problems.push(`attachment size ${atts[0]?.size} != ${a.size}`);
    if (a.sha256 !== undefined && atts[0]?.sha256 !== a.sha256) problems.push('attachment digest differs from the content sent');
  }
  const text = row.text_body ?? '';
  for (const s of e.textIncludes ?? []) if (!text.includes(s)) problems.push(`text lacks ${JSON.stringify(s)}`);
  for (const s of e.textExcludes ?? []) if (text.includes(s)) problems.push(`text has ${JSON.stringify(s)}`);
  // Nothing that PostgreSQL's text type refuses may reach a row.
  for (const [k, v] of Object.entries(row)) if (typeof v === 'string' && v.includes('\u0000')) problems.push(`NUL character stored in ${k}`);
  return problems;
}

// ---- ingest with measurements (shared by the hardening test and bench/hostile-mail.ts) ----------

export interface HostileResult {
  case: HostileCase;
  /** Id of the stored message row. */
  messageId: string;
  stored: number;
  duplicates: number;
  bytes: number;
  sha256: string;
  ms: number;
  /** Worst main event-loop stall while this message was ingested, ms, not counting waits for a CPU. */
  maxStallMs: number;
  /** The same, raw (as monitorEventLoopDelay sees it). */
  rawMaxStallMs: number;
}

export interface HostileRun {
  results: HostileResult[];
  /** Main event-loop delay over the whole run (see test/support/loop-stall.ts). */
  stall: StallFigures;
  /** RSS (whole process, parse workers included), bytes. */
  rss: { start: number; peak: number; end: number };
  /**
   * What the main thread holds (V8 heap + external + array buffers) after a full garbage collection,
   * at the start and at the end of the run, bytes: a leak shows here, whatever the collector's timing.
   */
  retained: { start: number; end: number };
  seconds: number;
}

/** The garbage collector, exposed at run time (the test runner starts Node without --expose-gc). */
let gcFn: (() => void) | undefined;
function collectGarbage(): void {
  if (!gcFn) {
    v8.setFlagsFromString('--expose-gc');
    gcFn = vm.runInNewContext('gc') as () => void;
  }
  gcFn();
}

/** Full collections until what is held stops shrinking (a Buffer's memory goes a collection after its object). */
async function settledHeldBytes(): Promise<number> {
  let held = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 6; i++) {
    collectGarbage();
    await new Promise((r) => setTimeout(r, 20));
    const now = heldBytes();
    if (now >= held - 256 * 1024) return Math.min(now, held);
    held = now;
  }
  return held;
}

function heldBytes(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external; // external includes array buffers (Node's Buffers)
}

/**
 * Builds every case (before measuring: building a 35 MB message is the test's work, not Mailroom's),
 * then ingests them one per call, as mail arrives, watching the main event loop (whole run and per
 * message) and sampling RSS every 20 ms.
 */
export async function ingestHostile(
  cases: readonly HostileCase[],
  ingest: (raw: Buffer) => Promise<{ stored: number; duplicates: number; messageIds: string[] }>,
): Promise<HostileRun> {
  let built: Array<{ c: HostileCase; raw: Buffer | null; sha256: string; bytes: number }> = cases.map((c) => {
    const raw = c.build();
    return { c, raw, sha256: sha256(raw), bytes: raw.length };
  });
  const retainedStart = await settledHeldBytes();
  await new Promise((r) => setTimeout(r, 50)); // let timers that the build delayed fire unmeasured
  const rss = { start: process.memoryUsage().rss, peak: 0, end: 0 };
  rss.peak = rss.start;
  const sampler = setInterval(() => {
    rss.peak = Math.max(rss.peak, process.memoryUsage().rss);
  }, 20);
  const results: HostileResult[] = [];
  const t0 = performance.now();
  const watch = watchEventLoop();
  let stall: StallFigures;
  try {
    for (const b of built) {
      watch.mark();
      const started = performance.now();
      const r = await ingest(b.raw!);
      const ms = performance.now() - started;
      const m = watch.mark();
      b.raw = null; // let it go
      results.push({ case: b.c, messageId: r.messageIds[0] ?? '', stored: r.stored, duplicates: r.duplicates, bytes: b.bytes, sha256: b.sha256, ms, maxStallMs: m.ownMax, rawMaxStallMs: m.max });
    }
  } finally {
    stall = watch.stop();
    clearInterval(sampler);
  }
  built = [];
  rss.end = process.memoryUsage().rss;
  const retained = { start: retainedStart, end: await settledHeldBytes() };
  return { results, stall, rss, retained, seconds: (performance.now() - t0) / 1000 };
}
