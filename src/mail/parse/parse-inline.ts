/**
 * The MIME parse itself, in the calling thread. Production code calls `parseMessage` (worker pool,
 * timeout); this is what the worker runs, and what benchmarks and scripts may call directly.
 * It never throws: on any failure it returns the header-only fallback flagged `parse_error`.
 */
import crypto from 'node:crypto';
import PostalMime from 'postal-mime';
import type { Email } from 'postal-mime';
import type { MalformedReason, ParsedAttachment, ParsedMessage, ReportPart } from '../message/message.js';
import { readHeaderBlock } from '../message/header-block.js';
import { fallbackMessage, fromHeaderFields, sortReasons, stripNul } from './build.js';
import { resolveLimits, type ParseLimits } from './limits.js';
import { scanStructure } from './structure.js';
import { c1ToWindows1252, decodeHeaderLine, isSevenBitCharset, preferUtf8Reading } from './charsets.js';

const REPORT_TYPES = new Set([
  'message/delivery-status',
  'message/global-delivery-status',
  'message/feedback-report',
  'message/disposition-notification',
  'message/global-disposition-notification',
]);
const MAX_REPORT_CHARS = 64 * 1024;

type ParseOptions = NonNullable<ConstructorParameters<typeof PostalMime>[0]>;
interface ParserState {
  root: { headers: Array<{ key: string; originalKey?: string; value: string }> };
  textContent: { html?: string; plain?: string };
  attachments: Email['attachments'];
}

/**
 * postal-mime, keeping of its result only what we read: the header fields, the text and HTML bodies and
 * the attachments. Its own reading of the address fields (From, Sender, To, Cc, Bcc, Reply-To,
 * Delivered-To, Return-Path), of Subject, Message-ID, References and Date is skipped: `fromHeaderFields`
 * reads them from the header fields by our rules, and the parser's address reading was about an eighth
 * of a parse (issue 18, import speed). Nested messages (message/rfc822 parts) are parsed by postal-mime's
 * own class, whole: their headers are shown in the text. `buildMessage` is the step of postal-mime 4.0
 * (pinned) that assembles the result; a test compares this with the whole parse on every fixture.
 */
class PartsParser extends PostalMime {
  static async parseParts(buf: Buffer, options: ParseOptions): Promise<Email> {
    return new PartsParser(options).parse(buf);
  }

  buildMessage(): Email {
    const self = this as unknown as ParserState;
    const message = { headers: self.root.headers.map((h) => ({ key: h.key, originalKey: h.originalKey, value: h.value })) } as Email;
    if (self.textContent.html) message.html = self.textContent.html;
    if (self.textContent.plain) message.text = self.textContent.plain;
    message.attachments = self.attachments;
    return message;
  }
}

/** The parse the ingest uses (`PartsParser`); `PostalMime.parse` gives the same fields and more. */
export function parseParts(input: Buffer, options: ParseOptions): Promise<Email> {
  return PartsParser.parseParts(input, options);
}

export async function parseMessageInline(raw: Uint8Array, limits?: Partial<ParseLimits>): Promise<ParsedMessage> {
  let resolved: ParseLimits;
  try {
    resolved = resolveLimits(limits);
  } catch {
    resolved = resolveLimits();
  }
  let value: ParsedMessage;
  try {
    value = await parseWithPostalMime(raw, resolved);
  } catch {
    value = fallbackMessage(raw, 'parse_error');
  }
  // The raw message's content address, computed where the parse runs (a worker): ~50 ms for 40 MB.
  value.rawSha256 = crypto.createHash('sha256').update(raw).digest('hex');
  return value;
}

async function parseWithPostalMime(raw: Uint8Array, limits: ParseLimits): Promise<ParsedMessage> {
  const malformed = new Set<MalformedReason>();
  let input = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  if (input.length > limits.maxInputBytes) {
    input = input.subarray(0, limits.maxInputBytes);
    malformed.add('too_large');
  }
  if (input.indexOf(0) >= 0) malformed.add('nul_bytes');
  // Old Mac line endings (CR only): the parser splits on LF, so the whole message would be one header line.
  if (input.indexOf(10) < 0 && input.indexOf(13) >= 0) {
    input = Buffer.from(input.toString('latin1').replace(/\r/g, '\r\n'), 'latin1');
  }
  // No empty line after the header, and body text follows: it was read as header and is lost.
  if (bodyReadAsHeader(input)) malformed.add('header_only');

  const scan = scanStructure(input, limits);
  if (scan.tooDeep) malformed.add('too_deep');
  if (scan.tooManyParts) malformed.add('too_many_parts');
  if (scan.unterminated) malformed.add('truncated_parts');
  if (scan.charsets.some((c) => !charsetKnown(c))) malformed.add('unknown_charset');
  const parseInput = scan.keep ? Buffer.concat(scan.keep.map(([a, b]) => input.subarray(a, b))) : input;

  let email: Email;
  try {
    email = await parseParts(parseInput, { attachmentEncoding: 'arraybuffer' });
  } catch {
    try {
      // Usually an inline message/rfc822 nested past the parser's own depth limit: keep nested
      // messages as attachments instead of parsing them.
      email = await parseParts(parseInput, { attachmentEncoding: 'arraybuffer', forceRfc822Attachments: true });
    } catch {
      return fallbackMessage(raw, 'parse_error', [...malformed]);
    }
  }

  const derived = fromHeaderFields(
    raw8bitHeaderFields(input, scan.charsets) ?? email.headers.map((h) => ({ key: h.key, value: h.value })),
    malformed,
    scan.topContentType,
  );

  const capBody = (s: string | undefined): string | null => {
    if (s === undefined || s === null) return null;
    let out = stripNul(s);
    if (out.length > limits.maxBodyChars) {
      out = out.slice(0, limits.maxBodyChars);
      malformed.add('body_truncated');
    }
    return out;
  };
  let text = capBody(email.text);
  let html = capBody(email.html);
  // A multipart whose boundary never appears (a wrong or missing boundary parameter): the parser finds
  // no part at all and the body would be lost from view. Show it as plain text instead.
  if (!text && !html && email.attachments.length === 0 && derived.headers.contentType.startsWith('multipart/')) {
    const body = bodyAfterHeader(parseInput);
    if (body !== null && body.trim() !== '') text = capBody(body);
  }
  // A body labelled ISO-2022-JP (a 7-bit charset) that holds UTF-8: the label failed (replacement
  // characters), so read it again as UTF-8 and keep that reading when it is valid.
  if (scan.charsets.some(isSevenBitCharset) && (text?.includes('\ufffd') || html?.includes('\ufffd'))) {
    const relabelled = await reparseAsUtf8(parseInput);
    if (relabelled) {
      const t = capBody(relabelled.text);
      const h = capBody(relabelled.html);
      if (text !== null && t !== null && preferUtf8Reading(text, t)) text = t;
      if (html !== null && h !== null && preferUtf8Reading(html, h)) html = h;
    }
  }
  // ISO-8859-1 is Windows-1252 (as browsers read it): 0x85 is an ellipsis, not a C1 control.
  if (text !== null) text = c1ToWindows1252(text);
  if (html !== null) html = c1ToWindows1252(html);

  const attachments: ParsedAttachment[] = [];
  const reports: ReportPart[] = [];
  for (const a of email.attachments) {
    const content = toBuffer(a.content);
    const contentType = cleanMimeType(a.mimeType);
    attachments.push({
      filename: a.filename ? stripNul(a.filename) : null,
      contentType,
      disposition: a.disposition ? stripNul(a.disposition) || null : null,
      contentId: a.contentId ? a.contentId.trim().replace(/^<|>$/g, '') || null : null,
      related: a.related === true,
      size: content.length,
      sha256: crypto.createHash('sha256').update(content).digest('hex'),
      content,
    });
    if (REPORT_TYPES.has(contentType)) {
      const slice = content.subarray(0, MAX_REPORT_CHARS * 2);
      reports.push({ contentType, text: stripNul(slice.toString('utf8')).slice(0, MAX_REPORT_CHARS) });
    }
  }

  return {
    ...derived,
    text,
    html,
    attachments,
    reports,
    sizeBytes: raw.byteLength,
    partCount: scan.partCount,
    maxDepth: scan.maxDepth,
    malformed: sortReasons(malformed),
  };
}

/** The bytes after the top-level header block, as UTF-8 (bad bytes as U+FFFD), or null when there is no body. */
function bodyAfterHeader(input: Buffer): string | null {
  const lf = input.indexOf('\n\n', 0, 'latin1');
  const crlf = input.indexOf('\r\n\r\n', 0, 'latin1');
  if (lf < 0 && crlf < 0) return null;
  const at = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf + 4 : lf + 2;
  return stripNul(input.subarray(at).toString('utf8'));
}

/** The same input with every 7-bit charset label (ISO-2022-JP...) replaced by UTF-8, parsed again; null on failure. */
async function reparseAsUtf8(input: Buffer): Promise<Email | null> {
  const relabelled = input.toString('latin1').replace(/(charset\s*=\s*)(["']?)((?:x-)?(?:iso-?2022-?(?:jp|kr|cn)(?:-\d|-ext)?|csiso2022jp))\2/gi, '$1$2utf-8$2');
  try {
    return await parseParts(Buffer.from(relabelled, 'latin1'), { attachmentEncoding: 'arraybuffer' });
  } catch {
    return null;
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Raw 8-bit header bytes that are not UTF-8 (old clients writing Latin-1, Windows-1251 or Big5
 * straight into Subject and From). The parser reads headers as UTF-8 and would turn them into
 * U+FFFD; decode them instead, line by line: a line that is UTF-8 but for a stray byte stays UTF-8
 * (U+FFFD for that byte), any other with the first declared non-UTF-8 body charset, else
 * Windows-1252. Returns null when the header is ASCII or valid UTF-8 (the normal case).
 */
function raw8bitHeaderFields(input: Buffer, charsets: string[]): Array<{ key: string; value: string }> | null {
  const limit = Math.min(input.length, 256 * 1024);
  let end = input.indexOf('\n\n', 0, 'latin1');
  const crlfEnd = input.indexOf('\r\n\r\n', 0, 'latin1');
  if (crlfEnd >= 0 && (end < 0 || crlfEnd < end)) end = crlfEnd;
  if (end < 0 || end > limit) end = limit;
  const head = input.subarray(0, end);
  let high = false;
  for (let i = 0; i < head.length; i++) {
    if (head[i]! >= 0x80) {
      high = true;
      break;
    }
  }
  if (!high) return null;
  try {
    strictUtf8.decode(head);
    return null;
  } catch {
    /* not UTF-8: decode below */
  }
  const candidate = charsets.find((c) => !/^(utf-?8|us-ascii|ascii)$/i.test(c) && !isSevenBitCharset(c) && charsetKnown(c)) ?? null;
  const lines: string[] = [];
  for (let start = 0; start <= head.length; ) {
    let nl = head.indexOf(10, start);
    if (nl < 0) nl = head.length;
    lines.push(decodeHeaderLine(head.subarray(start, nl), candidate));
    start = nl + 1;
  }
  return readHeaderBlock(lines.join('\n').replace(/\r\n?/g, '\n') + '\n\n', { maxValueChars: 256 * 1024 }).fields;
}

/**
 * True when no empty line ends the header block AND lines that are not header fields follow: body
 * text written straight after the header, which the parser reads as (junk) header and drops. A
 * message that is only a header (no body at all) is valid and not flagged.
 */
function bodyReadAsHeader(input: Buffer): boolean {
  if (input.length === 0 || input[0] === 10 || (input[0] === 13 && input[1] === 10)) return false;
  if (input.indexOf('\n\n', 0, 'latin1') >= 0 || input.indexOf('\n\r\n', 0, 'latin1') >= 0) return false;
  const head = input.toString('latin1', 0, Math.min(input.length, 256 * 1024));
  let first = true;
  for (const line of head.split('\n')) {
    const l = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (l === '' || /^[ \t]/.test(l) || /^[!-9;-~]+[ \t]*:/.test(l) || (first && l.startsWith('From '))) {
      first = false;
      continue;
    }
    return true;
  }
  return false;
}

function toBuffer(content: ArrayBuffer | Uint8Array | string): Buffer {
  if (typeof content === 'string') return Buffer.from(content, 'utf8');
  if (content instanceof ArrayBuffer) return Buffer.from(content);
  return Buffer.from(content.buffer, content.byteOffset, content.byteLength);
}

const knownCache = new Map<string, boolean>();

/** Whether a declared charset decodes as itself (postal-mime falls back to windows-1252 silently otherwise). */
export function charsetKnown(label: string): boolean {
  const key = label.trim().toLowerCase().replace(/^["']+|["']+$/g, '');
  const hit = knownCache.get(key);
  if (hit !== undefined) return hit;
  const ok = computeKnown(key);
  if (knownCache.size < 500) knownCache.set(key, ok);
  return ok;
}

function tryLabel(l: string): boolean {
  try {
    new TextDecoder(l);
    return true;
  } catch {
    return false;
  }
}

function computeKnown(key: string): boolean {
  if (key === '') return true;
  if (tryLabel(key) || tryLabel(key.replace(/^x-/, ''))) return true;
  const n = key.replace(/^x-/, '').replace(/[^a-z0-9]/g, '');
  const families: Array<[RegExp, (m: RegExpExecArray) => string]> = [
    [/^iso8859(\d{1,2})[ie]?$/, (m) => `iso-8859-${m[1]}`],
    [/^(?:cp|ms|windows|win)(125\d)$/, (m) => `windows-${m[1]}`],
    [/^(?:cp|ibm)(\d{3,4})$/, (m) => `ibm${m[1]}`],
    [/^(?:cp|ms)(\d{3})$/, (m) => `windows-${m[1]}`],
    [/^iso2022jp\d?$/, () => 'iso-2022-jp'],
    [/^(?:shiftjis|sjis|windows31j|mskanji|cp932)$/, () => 'shift_jis'],
    [/^eucjp$/, () => 'euc-jp'],
    [/^(?:euckr|ksc56011987|cp949|uhc)$/, () => 'euc-kr'],
    [/^koi8([ru])$/, (m) => `koi8-${m[1]}`],
    [/^utf8$/, () => 'utf-8'],
    [/^(?:usascii|ascii|ansix341968)$/, () => 'us-ascii'],
    [/^(?:gb2312|gbk|cp936|euccn)$/, () => 'gbk'],
    [/^big5(?:hkscs)?$/, () => 'big5'],
  ];
  for (const [re, to] of families) {
    const m = re.exec(n);
    if (m && tryLabel(to(m))) return true;
  }
  return false;
}

/**
 * A part's MIME type as stored: lower case, without NUL, spaces or control characters, and
 * `application/octet-stream` when what is left is not type/subtype (the fuzzer found a NUL byte
 * before a type reaching the stored JSON).
 */
export function cleanMimeType(raw: string | null | undefined): string {
  const s = stripNul(raw ?? '').replace(/[\s\p{Cc}]+/gu, '').toLowerCase();
  return /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(s) ? s : 'application/octet-stream';
}
