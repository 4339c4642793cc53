/**
 * Fuzz targets (issue 8): property-based checks with fast-check over the parsing paths that read
 * what strangers write. Each target has an arbitrary whose values are plain JSON (so a failing input
 * is saved under test/fuzz/regressions/ and replayed by regressions.test.ts) and a `check` that throws
 * when a property does not hold. The properties: never throws, returns a value of the right shape,
 * flags rather than drops.
 *
 *   mime-structured   generated MIME trees -> parseMessageInline: shape, flags for what is missing,
 *                     every part's marker comes back unless a loss is flagged
 *   mime-mutated      the same messages with bytes flipped, inserted, deleted, cut, duplicated
 *   mime-bytes        arbitrary bytes -> parseMessageInline and fallbackMessage
 *   address-key       any string -> addressKey: ok with a canonical key (a fixed point) or a reason
 *   classify-dsn      generated delivery reports -> parse -> classifyMessage: a bounce for the
 *                     failed recipient it names, a well-formed classification for anything
 *   classify-fields   random classification headers and bodies -> classifyMessage
 *   subject           any subject -> analyseSubject / subjectKey: bounded, idempotent key
 *   threading         message ids, References chains, reply tokens, findConversation, orphans
 */
import crypto from 'node:crypto';
import fc from 'fast-check';
import { parseMessageInline, fallbackMessage, DEFAULT_PARSE_LIMITS } from '../../src/mail/parse/index.js';
import type { MalformedReason, ParsedMessage, MailAddress } from '../../src/mail/message/message.js';
import { addressKey, MAX_ADDRESS_BYTES, type InvalidAddressReason } from '../../src/features/connections/domain/address-key.js';
import { classifyMessage, type Classification, type ClassifyInput } from '../../src/features/ingest/domain/classify.js';
import { analyseSubject, subjectKey, baseSubject } from '../../src/features/ingest/domain/subject.js';
import { messageIdsIn, normaliseMessageId } from '../../src/mail/message/message-id.js';
import { makeMessageId, readReplyToken } from '../../src/mail/message/reply-token.js';
import { findConversation, orphansToRethread, parentIdsOf, snapshotFromMaps, type ThreadingInput } from '../../src/features/ingest/domain/threading.js';
import { applyMutations, genMessage, genMutations, renderMessage, type GenMessage, type Mutation } from './mime-gen.js';

export interface FuzzTarget<T = unknown> {
  name: string;
  arbitrary: fc.Arbitrary<T>;
  /** Throws when a property does not hold. */
  check(input: T): void | Promise<void>;
  /** Runs in the test suite (per target); the long runner does as many as time allows. */
  suiteRuns: number;
  /** JSON-safe forms for saved counterexamples. */
  encode(input: T): unknown;
  decode(json: unknown): T;
}

class PropertyFailure extends Error {
  override name = 'PropertyFailure';
}
function must(cond: unknown, what: string): asserts cond {
  if (!cond) throw new PropertyFailure(what);
}

const identity = <T>(): Pick<FuzzTarget<T>, 'encode' | 'decode'> => ({ encode: (x) => x, decode: (x) => x as T });

// ---- the parsed-message shape ------------------------------------------------------------------

const REASONS: MalformedReason[] = [
  'parse_error', 'parse_timeout', 'too_large', 'too_deep', 'too_many_parts', 'truncated_parts', 'body_truncated',
  'header_only', 'nul_bytes', 'unknown_charset', 'missing_message_id', 'missing_date', 'unparseable_date', 'missing_from',
];
/** Reasons that say "some content was not parsed": a marker may be missing only with one of these. */
const LOSS: MalformedReason[] = ['parse_error', 'parse_timeout', 'too_large', 'too_deep', 'too_many_parts', 'truncated_parts', 'body_truncated', 'header_only'];

const utf8Bytes = (s: string) => Buffer.byteLength(s, 'utf8');
const noNul = (s: string, what: string) => must(!s.includes('\u0000'), `${what} contains NUL`);

function checkId(id: string | null, what: string): void {
  if (id === null) return;
  must(typeof id === 'string' && id.length > 0, `${what} is an empty string`);
  must(!/[\s\u0000<>]/.test(id), `${what} ${JSON.stringify(id.slice(0, 80))} has whitespace, NUL or brackets`);
  must(utf8Bytes(id) <= 998, `${what} is ${utf8Bytes(id)} bytes (over 998)`);
}

function checkAddress(a: MailAddress | null, what: string): void {
  if (a === null) return;
  must(typeof a.name === 'string' && typeof a.address === 'string', `${what} is not {name, address}`);
  must(a.address !== '', `${what} has an empty address`);
  must(a.address === a.address.toLowerCase(), `${what} address not lower-cased`);
  must(a.address === a.address.trim() && a.name === a.name.trim(), `${what} not trimmed`);
  noNul(a.name, `${what} name`);
  noNul(a.address, `${what} address`);
}

/** The shape every parse result must have, whatever the input. */
export function checkParsedShape(m: ParsedMessage, raw: Uint8Array): void {
  must(m && typeof m === 'object', 'not an object');
  checkId(m.messageId, 'messageId');
  checkId(m.inReplyTo, 'inReplyTo');
  must(Array.isArray(m.references) && m.references.length <= 200, 'references not an array of at most 200');
  must(new Set(m.references).size === m.references.length, 'references not de-duplicated');
  m.references.forEach((r, i) => checkId(r, `references[${i}]`));
  must(typeof m.subject === 'string' && m.subject.length <= 4096, 'subject not a string of at most 4,096');
  noNul(m.subject, 'subject');
  must(m.date === null || (m.date instanceof Date && Number.isFinite(m.date.getTime())), 'date not null or a valid Date');
  if (m.date) must(m.date.getUTCFullYear() >= 1900 && m.date.getUTCFullYear() <= 9999, 'date year out of 1900..9999');
  checkAddress(m.from, 'from');
  checkAddress(m.sender, 'sender');
  for (const key of ['to', 'cc', 'bcc', 'replyTo'] as const) {
    must(Array.isArray(m[key]) && m[key].length <= 1000, `${key} not an array of at most 1,000`);
    m[key].forEach((a, i) => checkAddress(a, `${key}[${i}]`));
  }
  for (const key of ['text', 'html'] as const) {
    const v = m[key];
    must(v === null || typeof v === 'string', `${key} not null or a string`);
    if (v !== null) {
      noNul(v, key);
      must(v.length <= DEFAULT_PARSE_LIMITS.maxBodyChars, `${key} longer than the limit`);
    }
  }
  must(Array.isArray(m.attachments), 'attachments not an array');
  for (const [i, a] of m.attachments.entries()) {
    must(Buffer.isBuffer(a.content), `attachments[${i}].content not a Buffer`);
    must(a.size === a.content.length, `attachments[${i}].size != content length`);
    must(a.sha256 === crypto.createHash('sha256').update(a.content).digest('hex'), `attachments[${i}].sha256 wrong`);
    must(typeof a.contentType === 'string' && a.contentType === a.contentType.toLowerCase() && a.contentType !== '', `attachments[${i}].contentType not lower-case`);
    if (a.filename !== null) noNul(a.filename, `attachments[${i}].filename`);
    if (a.contentId !== null) noNul(a.contentId, `attachments[${i}].contentId`);
  }
  for (const [i, r] of m.reports.entries()) {
    must(typeof r.text === 'string' && r.text.length <= 64 * 1024, `reports[${i}].text too long`);
    noNul(r.text, `reports[${i}].text`);
  }
  must(typeof m.headers.contentType === 'string' && m.headers.contentType.includes('/'), 'headers.contentType not a MIME type');
  must(Array.isArray(m.headers.xFailedRecipients), 'headers.xFailedRecipients not an array');
  must(Array.isArray(m.headerFields) && m.headerFields.length <= 1000, 'headerFields not at most 1,000');
  for (const f of m.headerFields) {
    noNul(f.key, 'header field name');
    noNul(f.value, 'header field value');
    must(f.value.length <= 16 * 1024, 'header field value over 16 KB');
  }
  must(m.sizeBytes === raw.byteLength, `sizeBytes ${m.sizeBytes} != ${raw.byteLength}`);
  must(m.partCount >= 1 && m.partCount <= DEFAULT_PARSE_LIMITS.maxParts, `partCount ${m.partCount} out of range`);
  must(m.maxDepth >= 0 && m.maxDepth <= DEFAULT_PARSE_LIMITS.maxDepth, `maxDepth ${m.maxDepth} out of range`);
  const order = m.malformed.map((r) => REASONS.indexOf(r));
  must(order.every((i) => i >= 0), `unknown malformed reason in ${m.malformed.join(',')}`);
  must(order.every((v, i) => i === 0 || v > order[i - 1]!), `malformed reasons not unique and in order: ${m.malformed.join(',')}`);
  // It can be stored as JSON (the database keeps parts of it as JSON text).
  const json = JSON.stringify({ ...m, attachments: m.attachments.map((a) => ({ ...a, content: null })) });
  must(!json.includes('\\u0000'), 'NUL reaches the stored JSON');
}

function searchable(m: ParsedMessage): string {
  return [m.text ?? '', m.html ?? '', ...m.attachments.map((a) => a.content.toString('latin1')), ...m.reports.map((r) => r.text)].join('\n');
}

async function checkGenerated(msg: GenMessage, mutations: readonly Mutation[] | null): Promise<void> {
  const rendered = renderMessage(msg);
  const raw = mutations ? applyMutations(rendered.raw, mutations) : rendered.raw;
  const m = await parseMessageInline(raw);
  checkParsedShape(m, raw);
  if (raw.includes(0)) must(m.malformed.includes('nul_bytes'), 'NUL bytes in the input but not flagged nul_bytes');
  if (mutations) return;
  // Flags for what the generator left out.
  if (msg.messageId === null) must(m.malformed.includes('missing_message_id'), 'no Message-ID but not flagged');
  if (msg.date === null) must(m.malformed.includes('missing_date'), 'no Date but not flagged');
  if (msg.from === null) must(m.malformed.includes('missing_from') && m.from === null, 'no From but not flagged');
  must(!m.malformed.includes('parse_error'), 'a generated (well-formed) message failed to parse (parse_error)');
  // Flags rather than drops: every part's marker is found, unless a loss is flagged.
  if (m.malformed.some((r) => LOSS.includes(r))) return;
  const all = searchable(m);
  for (const { marker, path } of rendered.markers) must(all.includes(marker), `part ${path} (${marker}) was dropped without a flag`);
}

// ---- targets -----------------------------------------------------------------------------------

const mimeStructured: FuzzTarget<GenMessage> = {
  name: 'mime-structured',
  arbitrary: genMessage,
  check: (msg) => checkGenerated(msg, null),
  suiteRuns: 300,
  ...identity<GenMessage>(),
};

const mimeMutated: FuzzTarget<{ msg: GenMessage; mutations: Mutation[] }> = {
  name: 'mime-mutated',
  arbitrary: fc.record({ msg: genMessage, mutations: genMutations }),
  check: ({ msg, mutations }) => checkGenerated(msg, mutations),
  suiteRuns: 300,
  ...identity<{ msg: GenMessage; mutations: Mutation[] }>(),
};

const mimeBytes: FuzzTarget<Uint8Array> = {
  name: 'mime-bytes',
  arbitrary: fc.oneof(
    fc.uint8Array({ maxLength: 2000 }),
    // mostly header-looking ASCII with the separators that matter
    fc.array(fc.constantFrom(...'From: To: Subject: Content-Type: multipart/mixed; boundary="b"\r\n--b--=?utf-8?B?Q?=\u0000<>@;:,"\\\t '.split('')), { maxLength: 1500 }).map((cs) => new Uint8Array(Buffer.from(cs.join(''), 'latin1'))),
  ),
  async check(raw) {
    const m = await parseMessageInline(raw);
    checkParsedShape(m, raw);
    if (raw.includes(0)) must(m.malformed.includes('nul_bytes'), 'NUL bytes in the input but not flagged nul_bytes');
    for (const reason of ['parse_error', 'parse_timeout'] as const) {
      const f = fallbackMessage(raw, reason);
      checkParsedShape(f, raw);
      must(f.malformed.includes(reason), `fallback not flagged ${reason}`);
    }
  },
  suiteRuns: 400,
  encode: (raw) => Buffer.from(raw).toString('base64'),
  decode: (json) => new Uint8Array(Buffer.from(String(json), 'base64')),
};

const REFUSALS: InvalidAddressReason[] = [
  'empty', 'whitespace', 'invisible_character', 'quoted_local_part', 'missing_at', 'multiple_at', 'empty_local_part', 'empty_domain',
  'local_part_too_long', 'invalid_local_part', 'address_literal', 'invalid_domain', 'single_label_domain', 'ip_address_domain', 'domain_too_long', 'too_long',
];

const addressInput = fc.oneof(
  fc.emailAddress(),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.tuple(
    fc.oneof(fc.stringMatching(/^[A-Za-z0-9.+_-]{1,30}$/), fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }), fc.constantFrom('İstanbul', 'ÅNGSTRÖM', 'ǅemal', 'ß', 'ﬀ', 'İİİİİİİİİİİİİİİİİİİİİİİİİİİİİİİİ', 'a\u200bb', 'Ａｎｎ')),
    fc.oneof(fc.domain(), fc.constantFrom('Bücher.Example', 'xn--bcher-kva.example', 'ＥＸＡＭＰＬＥ．ＣＯＭ', 'example.com.', 'a..b', '-a.com', 'xn--.com', 'xn--zz.com', 'ex%41mple.com', '0x7f.1', 'localhost', '[1.2.3.4]', 'ΑΒΓ.gr', 'x'.repeat(64) + '.com')),
    fc.constantFrom('', ' ', '<', '>'),
  ).map(([l, d, wrap]) => (wrap === '<' ? `<${l}@${d}>` : wrap === ' ' ? ` ${l}@${d} ` : `${l}@${d}`)),
);

const addressKeyTarget: FuzzTarget<string> = {
  name: 'address-key',
  arbitrary: addressInput,
  check(input) {
    const r = addressKey(input);
    if (!r.ok) {
      must(r.code === 'invalid_address' && REFUSALS.includes(r.reason), `unknown refusal ${JSON.stringify(r)}`);
      must(typeof r.message === 'string' && r.message.length > 0, 'refusal without a message');
      return;
    }
    const { key, display } = r;
    must(key.split('@').length === 2, `key ${key} has not exactly one @`);
    must(!/[\s\p{Cc}\p{Cf}]/u.test(key), `key ${JSON.stringify(key)} has whitespace or invisible characters`);
    must(utf8Bytes(key) <= MAX_ADDRESS_BYTES, `key is ${utf8Bytes(key)} bytes`);
    must(key === key.toLowerCase(), `key ${key} not lower-case`);
    // The key is a fixed point: comparing keys is comparing addresses.
    const again = addressKey(key);
    must(again.ok && again.key === key, `addressKey(key) changes or refuses it: ${key} -> ${JSON.stringify(again)}`);
    const shown = addressKey(display);
    must(shown.ok && shown.key === key, `the display form ${display} does not map back to ${key}: ${JSON.stringify(shown)}`);
  },
  suiteRuns: 2000,
  ...identity<string>(),
};

interface GenDsn {
  groups: Array<{ final: string | null; original: string | null; action: string; status: string; diagnostic: string | null; junk: string[] }>;
  statusType: 'message/delivery-status' | 'message/global-delivery-status' | 'none';
  reportType: boolean;
  from: string;
  subject: string;
  text: string;
  returned: boolean;
}

const dsnAddress = fc.tuple(fc.stringMatching(/^[a-z0-9._+-]{1,20}$/), fc.domain()).map(([l, d]) => `${l}@${d}`);
const dsnArb: fc.Arbitrary<GenDsn> = fc.record({
  groups: fc.array(
    fc.record({
      final: fc.option(fc.oneof(dsnAddress, fc.string({ maxLength: 40 })), { nil: null, freq: 6 }),
      original: fc.option(dsnAddress, { nil: null, freq: 2 }),
      action: fc.constantFrom('failed', 'delayed', 'delivered', 'relayed', 'expanded', 'FAILED', 'failed (permanent)', '', 'bogus'),
      status: fc.oneof(fc.constantFrom('5.1.1', '4.4.1', '2.0.0', '5.7.1 (spam)', '', '9.9.9', '5.1.1.1'), fc.string({ maxLength: 12 })),
      diagnostic: fc.option(fc.oneof(fc.string({ maxLength: 200 }), fc.constantFrom('smtp; 550 5.1.1 user unknown', 'smtp;421 try later', 'x'.repeat(2000))), { nil: null }),
      junk: fc.array(fc.oneof(fc.string({ maxLength: 40 }).map((s) => `X-${s.replace(/[:\r\n\s]/g, '')}: ${s}`), fc.constant('Remote-MTA: dns; mx.example')), { maxLength: 3 }),
    }),
    { maxLength: 6 },
  ),
  statusType: fc.constantFrom('message/delivery-status', 'message/global-delivery-status', 'none'),
  reportType: fc.boolean(),
  from: fc.constantFrom('MAILER-DAEMON@mx.example', 'Mail Delivery System <postmaster@mx.example>', 'someone@example.com', ''),
  subject: fc.oneof(fc.constantFrom('Undelivered Mail Returned to Sender', 'Delivery Status Notification (Delay)', 'Re: hello', ''), fc.string({ maxLength: 40 })),
  text: fc.oneof(fc.string({ maxLength: 200 }), fc.constantFrom('<gone@customer.example>: 550 5.1.1 unknown user', 'Your message could not be delivered.')),
  returned: fc.boolean(),
});

function renderDsn(d: GenDsn): Buffer {
  const line = (s: string) => s.replace(/[\r\n]+/g, ' ');
  const groups = d.groups.map((g) =>
    [
      ...(g.original !== null ? [`Original-Recipient: rfc822;${line(g.original)}`] : []),
      ...(g.final !== null ? [`Final-Recipient: rfc822; ${line(g.final)}`] : []),
      `Action: ${line(g.action)}`,
      `Status: ${line(g.status)}`,
      ...(g.diagnostic !== null ? [`Diagnostic-Code: ${line(g.diagnostic)}`] : []),
      ...g.junk.map(line),
    ].join('\r\n'),
  );
  const parts = [
    '--DSN',
    'Content-Type: text/plain; charset=utf-8',
    '',
    d.text.replace(/^-/gm, ' -'),
    ...(d.statusType !== 'none' ? ['--DSN', `Content-Type: ${d.statusType}`, '', 'Reporting-MTA: dns; mx.example', '', groups.join('\r\n\r\n')] : []),
    ...(d.returned ? ['--DSN', 'Content-Type: text/rfc822-headers', '', 'Message-ID: <original@acme.test>', 'To: gone@customer.example'] : []),
    '--DSN--',
    '',
  ];
  return Buffer.from(
    [
      ...(d.from ? [`From: ${d.from}`] : []),
      'To: support@acme.test',
      `Subject: ${line(d.subject)}`,
      'Message-ID: <dsn@mx.example>',
      'Date: Mon, 3 Jan 2022 10:00:00 +0000',
      'MIME-Version: 1.0',
      `Content-Type: multipart/report${d.reportType ? '; report-type=delivery-status' : ''}; boundary="DSN"`,
      '',
      ...parts,
    ].join('\r\n'),
    'utf8',
  );
}

const KINDS = ['normal', 'auto_reply', 'bounce', 'list', 'loop'];

function checkClassification(c: Classification): void {
  must(KINDS.includes(c.kind), `kind ${c.kind}`);
  must(Array.isArray(c.reasons) && c.reasons.every((r) => typeof r === 'string'), 'reasons not strings');
  must(typeof c.suppressAutoResponse === 'boolean', 'suppressAutoResponse not boolean');
  if (c.kind !== 'normal') must(c.suppressAutoResponse, `${c.kind} does not suppress automatic answers`);
  must(c.kind !== 'loop', 'loop without our loop header');
  must((c.kind === 'bounce') === Boolean(c.bounce), 'bounce info present iff kind is bounce');
  if (c.bounce) {
    must(['failure', 'delay', 'complaint'].includes(c.bounce.type), `bounce type ${c.bounce.type}`);
    must(c.bounce.recipients.length <= 100, 'more than 100 bounce recipients');
    for (const r of c.bounce.recipients) {
      must(typeof r.address === 'string' && r.address !== '' && r.address === r.address.toLowerCase(), `recipient address ${JSON.stringify(r.address)}`);
      must(r.diagnostic === null || r.diagnostic.length <= 1000, 'diagnostic over 1,000 characters');
      must(r.status === null || /^[245]\.\d{1,3}\.\d{1,3}$/.test(r.status), `status ${r.status}`);
    }
  }
  JSON.stringify(c);
}

const classifyDsn: FuzzTarget<GenDsn> = {
  name: 'classify-dsn',
  arbitrary: dsnArb,
  async check(d) {
    const raw = renderDsn(d);
    const m = await parseMessageInline(raw);
    checkParsedShape(m, raw);
    const c = classifyMessage(m, { accountId: 'acc_fuzz' });
    checkClassification(c);
    // Flags rather than drops: a status part naming a failed recipient is a bounce for that recipient.
    if (d.statusType === 'none') return;
    const failed = d.groups.slice(0, 100).find((g) => /^failed$/i.test(g.action.trim()) && (g.original ?? g.final) !== null && /^[a-z0-9._+-]+@[a-z0-9.-]+$/i.test((g.original ?? g.final)!));
    if (!failed) return;
    const expected = (failed.original ?? failed.final)!.toLowerCase();
    must(c.kind === 'bounce', `a report with a failed recipient classified ${c.kind} (${c.reasons.join(',')})`);
    must(c.bounce!.recipients.some((r) => r.address === expected), `failed recipient ${expected} missing from ${JSON.stringify(c.bounce!.recipients.map((r) => r.address))}`);
  },
  suiteRuns: 300,
  ...identity<GenDsn>(),
};

const nullableText = fc.option(fc.string({ unit: 'binary', maxLength: 60 }), { nil: null });
const classifyFields: FuzzTarget<ClassifyInput & { attachments: never[] }> = {
  name: 'classify-fields',
  arbitrary: fc.record({
    subject: fc.string({ unit: 'binary', maxLength: 120 }),
    from: fc.option(fc.record({ name: fc.string({ maxLength: 30 }), address: fc.oneof(fc.emailAddress(), fc.constantFrom('mailer-daemon', 'postmaster@x.example', 'no-reply@x.example', '')) }), { nil: null }),
    sender: fc.constant(null),
    to: fc.array(fc.record({ name: fc.constant(''), address: fc.emailAddress() }), { maxLength: 3 }),
    text: fc.option(fc.oneof(fc.string({ unit: 'binary', maxLength: 500 }), fc.constantFrom('<a@b.example>: 550 5.1.1 unknown\nFinal-Recipient: rfc822; c@d.example\n', 'Original-Recipient: rfc822;x@y.example')), { nil: null }),
    attachments: fc.constant([] as never[]),
    reports: fc.array(fc.record({ contentType: fc.constantFrom('message/delivery-status', 'message/feedback-report', 'message/disposition-notification', 'message/global-delivery-status'), text: fc.string({ unit: 'binary', maxLength: 300 }) }), { maxLength: 2 }),
    headers: fc.record({
      autoSubmitted: nullableText,
      xAutoreply: nullableText,
      xAutorespond: nullableText,
      xAutoreplyOther: nullableText,
      precedence: nullableText,
      listId: nullableText,
      listUnsubscribe: nullableText,
      listPost: nullableText,
      mailingList: nullableText,
      xAutoResponseSuppress: nullableText,
      returnPath: fc.option(fc.constantFrom('<>', '', '<a@b.example>', ' < > '), { nil: null }),
      contentType: fc.constantFrom('text/plain', 'multipart/report', 'multipart/mixed'),
      reportType: fc.option(fc.constantFrom('delivery-status', 'feedback-report', 'disposition-notification', 'x'), { nil: null }),
      xFailedRecipients: fc.array(fc.emailAddress(), { maxLength: 3 }),
      xMailroomLoop: fc.constant(null),
    }),
    headerFields: fc.array(fc.record({ key: fc.constantFrom('x-vacation', 'x-post-messageclass', 'x-other'), value: fc.string({ maxLength: 30 }) }), { maxLength: 3 }),
  }),
  check(input) {
    checkClassification(classifyMessage(input, { accountId: 'acc_fuzz' }));
  },
  suiteRuns: 1500,
  ...identity<ClassifyInput & { attachments: never[] }>(),
};

const subjectInput = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc
    .array(fc.oneof(fc.constantFrom('Re:', 'RE: ', 'Fwd:', 'AW:', 'WG: ', 'Réf. :', 'SV:', 'Antw:', '回复：', 'ＲＥ：', '[list]', '[]', '(fwd)', '[Fwd: ', ']', 'Re[2]:', 'Re^3:', ' ', '\t', '\u00a0', '\ufeff', '\u3000'), fc.string({ maxLength: 12 })), { maxLength: 12 })
    .map((parts) => parts.join('')),
  fc.constantFrom('Re: '.repeat(3000), '[a]'.repeat(2000), '(fwd)'.repeat(900), ' '.repeat(5000)),
);

const subjectTarget: FuzzTarget<string> = {
  name: 'subject',
  arbitrary: subjectInput,
  check(s) {
    const t0 = performance.now();
    const a = analyseSubject(s);
    must(typeof a.base === 'string' && typeof a.reply === 'boolean' && typeof a.forward === 'boolean' && Array.isArray(a.tags), 'analysis shape');
    must(a.base === a.base.trim(), 'base not trimmed');
    must(a.base.length <= 4096, 'base over 4,096');
    const key = subjectKey(s);
    must(key === key.toLowerCase(), 'key not lower-case');
    must(utf8Bytes(key) <= 1000, `key is ${utf8Bytes(key)} bytes`);
    // Stable: the key of a key is the key (stored keys and recomputed keys compare equal).
    must(subjectKey(key) === key, `subjectKey not idempotent: ${JSON.stringify(s.slice(0, 80))} -> ${JSON.stringify(key.slice(0, 80))} -> ${JSON.stringify(subjectKey(key).slice(0, 80))}`);
    must(baseSubject(a.base) === a.base, `baseSubject not idempotent: ${JSON.stringify(s.slice(0, 80))} -> ${JSON.stringify(a.base.slice(0, 80))} -> ${JSON.stringify(baseSubject(a.base).slice(0, 80))}`);
    // A reply to a subject threads with it: "Re: " + subject has the same key.
    if (key !== '' && s.length < 4000) must(subjectKey(`Re: ${s}`) === key || utf8Bytes(key) >= 990, `"Re: " changes the key of ${JSON.stringify(s.slice(0, 80))}`);
    must(performance.now() - t0 < 1000, 'subject analysis took over a second');
  },
  suiteRuns: 2000,
  ...identity<string>(),
};

interface GenThreading {
  messageId: string | null;
  inReplyTo: string | null;
  references: string;
  subject: string;
  known: Array<[string, string]>;
  outboxId: string;
  secret: string;
  domain: string;
  forge: boolean;
  participants: string[];
  orphans: Array<{ inReplyTo: string | null; references: string[]; conversationId: string }>;
}

const msgIdText = fc.oneof(
  fc.tuple(fc.stringMatching(/^[A-Za-z0-9._$%+-]{1,30}$/), fc.domain()).map(([l, d]) => `<${l}@${d}>`),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.constantFrom('<>', '<<a@b>>', '< a @ b >', 'a@b c@d', '<a@b', 'a@b>', '(comment) <x@y>', '<' + 'x'.repeat(1200) + '@y>', '<\u0000@\u0000>'),
);
const threadingArb: fc.Arbitrary<GenThreading> = fc.record({
  messageId: fc.option(msgIdText, { nil: null }),
  inReplyTo: fc.option(msgIdText, { nil: null }),
  references: fc.array(msgIdText, { maxLength: 8 }).map((a) => a.join(' ')),
  subject: fc.string({ maxLength: 40 }),
  known: fc.array(fc.tuple(msgIdText, fc.stringMatching(/^cnv_[a-z0-9]{1,6}$/)), { maxLength: 4 }),
  outboxId: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
  secret: fc.string({ minLength: 16, maxLength: 40 }),
  domain: fc.domain(),
  forge: fc.boolean(),
  participants: fc.array(fc.emailAddress(), { maxLength: 3 }),
  orphans: fc.array(fc.record({ inReplyTo: fc.option(msgIdText, { nil: null }), references: fc.array(msgIdText, { maxLength: 3 }), conversationId: fc.stringMatching(/^cnv_[a-z0-9]{1,6}$/) }), { maxLength: 4 }),
});

const threadingTarget: FuzzTarget<GenThreading> = {
  name: 'threading',
  arbitrary: threadingArb,
  check(g) {
    // Message ids: normalised, bounded, the first id of a header is the normalised header.
    for (const v of [g.messageId, g.inReplyTo, g.references]) {
      const ids = messageIdsIn(v, 200);
      must(ids.length <= 200 && new Set(ids).size === ids.length, 'ids not unique or over the limit');
      ids.forEach((id, i) => checkId(id, `id[${i}]`));
      const first = normaliseMessageId(v);
      must(first === (messageIdsIn(v, 1)[0] ?? null), 'normaliseMessageId is not the first id');
      if (first !== null) must(normaliseMessageId(`<${first}>`) === first, `id ${first} does not survive being written back in brackets`);
    }
    const msg: ThreadingInput = {
      messageId: normaliseMessageId(g.messageId),
      inReplyTo: normaliseMessageId(g.inReplyTo),
      references: messageIdsIn(g.references),
      subject: g.subject,
      from: g.participants[0] ? { name: '', address: g.participants[0] } : null,
      sender: null,
      replyTo: [],
      to: g.participants.slice(1).map((address) => ({ name: '', address })),
      cc: [],
      bcc: [],
    };
    const parents = parentIdsOf(msg);
    must(!msg.messageId || !parents.includes(msg.messageId), 'a message is its own parent');
    // Reply tokens: ours read back, forged or foreign ones are refused, junk never throws.
    const token = makeMessageId({ outboxId: g.outboxId, domain: g.domain, secret: g.secret }).replace(/^<|>$/g, '');
    must(readReplyToken([token], g.secret) === g.outboxId, `reply token for ${g.outboxId} not read back`);
    const forged = token.replace(/\.([0-9a-f]{16})@/, (_m, mac: string) => `.${mac.slice(0, 15)}${mac[15] === '0' ? '1' : '0'}@`);
    must(readReplyToken([forged], g.secret) === null, 'forged reply token accepted');
    readReplyToken(g.references, g.secret);
    readReplyToken([g.messageId ?? '', g.inReplyTo ?? ''], [g.secret, 'another-secret-123456']);
    // findConversation: answers with a known conversation or new, never throws.
    const known = new Map(g.known.map(([id, c]) => [normaliseMessageId(id) ?? id, c]));
    const outbox = new Map(g.forge ? [] : [[g.outboxId, 'cnv_token']]);
    const snapshot = snapshotFromMaps({ messages: known, outbox, stored: g.orphans.map((o) => ({ conversationId: o.conversationId, inReplyTo: normaliseMessageId(o.inReplyTo), references: o.references.map((r) => normaliseMessageId(r) ?? r) })), candidates: [] });
    const withToken = { ...msg, references: [...msg.references, token] };
    for (const input of [msg, withToken]) {
      const d = findConversation(input, snapshot, { replyTokenSecret: g.secret, receivedAt: new Date('2024-05-01T00:00:00Z') });
      const allowed = new Set([...known.values(), 'cnv_token', ...g.orphans.map((o) => o.conversationId)]);
      must(d.kind === 'new' || allowed.has(d.conversationId), `findConversation answered an unknown conversation ${JSON.stringify(d)}`);
    }
    if (!g.forge) {
      const d = findConversation(withToken, snapshot, { replyTokenSecret: g.secret, receivedAt: new Date('2024-05-01T00:00:00Z') });
      must(d.kind === 'existing' && d.conversationId === 'cnv_token' && d.strategy === 'reply_token', `our reply token did not thread: ${JSON.stringify(d)}`);
    }
    const moves = orphansToRethread({ messageId: msg.messageId, conversationId: 'cnv_parent' }, g.orphans.map((o, i) => ({ messageRef: `m${i}`, conversationId: o.conversationId, inReplyTo: normaliseMessageId(o.inReplyTo), references: o.references.map((r) => normaliseMessageId(r) ?? r) })));
    for (const mv of moves) must(mv.fromConversationId !== mv.toConversationId && mv.messageRefs.length > 0, 'empty or self move');
  },
  suiteRuns: 1000,
  ...identity<GenThreading>(),
};

export const TARGETS: FuzzTarget<any>[] = [mimeStructured, mimeMutated, mimeBytes, addressKeyTarget, classifyDsn, classifyFields, subjectTarget, threadingTarget];

export function targetByName(name: string): FuzzTarget<any> | undefined {
  return TARGETS.find((t) => t.name === name);
}

/** The fast-check property of a target. */
export function propertyOf(t: FuzzTarget<any>): fc.IAsyncPropertyWithHooks<[unknown]> {
  return fc.asyncProperty(t.arbitrary, async (input) => {
    await t.check(input);
  });
}
