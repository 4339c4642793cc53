/**
 * fast-check arbitraries for MIME messages, as plain JSON-able values (so a counterexample can be
 * saved under test/fuzz/regressions/ and replayed): a header block with the usual suspects
 * (From forms, encoded words, missing or junk Message-ID and Date, folded fields) and a MIME tree
 * (multipart/mixed, alternative, related, report, digest; leaves in many charsets and transfer
 * encodings, inline message/rfc822), rendered with CRLF, LF or CR-only line endings.
 *
 * Every leaf carries a marker (`MRK<n>Q`) on its first line: the "flags rather than drops" property
 * says each marker comes back somewhere (text, html, an attachment, a report) unless the parser
 * flagged a loss.
 */
import fc from 'fast-check';

export interface GenLeaf {
  kind: 'leaf';
  type: string;
  charset: string | null;
  cte: string;
  text: string;
  disposition: 'inline' | 'attachment' | null;
  filename: string | null;
}
export interface GenMulti {
  kind: 'multi';
  subtype: string;
  boundary: string;
  preamble: string;
  children: GenNode[];
  terminated: boolean;
}
export type GenNode = GenLeaf | GenMulti;

export interface GenMessage {
  from: string | null;
  to: string[];
  subject: string | null;
  messageId: string | null;
  date: string | null;
  extra: Array<[string, string]>;
  fold: boolean;
  eol: '\r\n' | '\n' | '\r';
  root: GenNode;
}

export type Mutation =
  | { op: 'flip'; at: number; byte: number }
  | { op: 'insert'; at: number; bytes: number[] }
  | { op: 'delete'; at: number; length: number }
  | { op: 'truncate'; at: number }
  | { op: 'duplicate'; at: number; length: number };

// ---- arbitraries -------------------------------------------------------------------------------

const anyText = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 80 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '=?utf-8?B?w6k=?=', '=?x-unknown?Q?a=E9?=', '=?utf-8?Q?broken', '\u0000', '\u202e', 'caf\u00e9', '\u{1F600}', '"quoted"', '(comment)', '<a@b>', 'a@b.example') },
);

const localPart = fc.stringMatching(/^[a-z0-9._+-]{1,20}$/);
const domainName = fc.oneof(fc.domain(), fc.constantFrom('example.com', 'b\u00fccher.example', 'xn--bcher-kva.example', 'localhost', '[127.0.0.1]'));
const address = fc.tuple(localPart, domainName).map(([l, d]) => `${l}@${d}`);

const fromField = fc.oneof(
  address,
  fc.tuple(anyText, address).map(([n, a]) => `"${n.replace(/["\\]/g, '')}" <${a}>`),
  fc.tuple(fc.string({ unit: 'binary', maxLength: 30 }), address).map(([n, a]) => `=?utf-8?B?${Buffer.from(n, 'utf8').toString('base64')}?= <${a}>`),
  fc.tuple(address, address).map(([a, b]) => `Team: ${a}, ${b};`),
  fc.tuple(address, address).map(([a, b]) => `"${a}" <${b}>`),
  anyText,
);

const headerName = fc.oneof(
  fc.constantFrom('X-Mailer', 'Received', 'Reply-To', 'Cc', 'In-Reply-To', 'References', 'Auto-Submitted', 'Precedence', 'List-Id', 'X-Failed-Recipients', 'Return-Path', 'Sender', 'Comments', 'X-Autoreply'),
  fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/).map((s) => `X-${s}`),
);

const charset = fc.constantFrom<string | null>(null, 'utf-8', 'UTF-8', 'us-ascii', 'iso-8859-1', 'windows-1252', 'koi8-r', 'shift_jis', 'utf-7', 'x-unknown-charset', '');
const cte = fc.constantFrom('7bit', '8bit', 'binary', 'base64', 'quoted-printable', 'x-uuencode', '');
const leafType = fc.constantFrom('text/plain', 'text/plain', 'text/html', 'application/octet-stream', 'image/png', 'message/delivery-status', 'text/rfc822-headers', 'message/rfc822', 'text/calendar', 'application/pdf');

const leaf: fc.Arbitrary<GenLeaf> = fc.record({
  kind: fc.constant('leaf' as const),
  type: leafType,
  charset,
  cte,
  text: fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 200 }), fc.lorem({ maxCount: 40 })),
  disposition: fc.constantFrom<'inline' | 'attachment' | null>(null, null, 'inline', 'attachment'),
  filename: fc.option(fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('a.pdf', '=?utf-8?B?w6kucGRm?=', 'x\u0000y.bin', '../../etc/passwd')), { nil: null }),
});

const boundary = fc.oneof(fc.stringMatching(/^[0-9A-Za-z'()+_,./:=?-]{1,40}$/), fc.constant('simple'), fc.stringMatching(/^[A-Za-z0-9]{60,150}$/));

const tree = fc.letrec<{ node: GenNode; multi: GenMulti }>((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('multi')),
  multi: fc.record({
    kind: fc.constant('multi' as const),
    subtype: fc.constantFrom('mixed', 'mixed', 'alternative', 'related', 'report', 'digest', 'signed', 'x-unknown'),
    boundary,
    preamble: fc.constantFrom('', 'This is a multi-part message in MIME format.', '--not-a-boundary'),
    children: fc.array(tie('node'), { minLength: 1, maxLength: 4 }),
    terminated: fc.constantFrom(true, true, true, true, false),
  }),
}));

export const genMessage: fc.Arbitrary<GenMessage> = fc.record({
  from: fc.option(fromField, { nil: null, freq: 8 }),
  to: fc.array(fc.oneof(address, fromField), { maxLength: 5 }),
  subject: fc.option(anyText, { nil: null, freq: 8 }),
  messageId: fc.option(fc.oneof(address.map((a) => `<${a}>`), anyText, fc.constant('<>')), { nil: null, freq: 6 }),
  date: fc.option(fc.oneof(fc.date({ min: new Date('1970-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toUTCString()), anyText), { nil: null, freq: 6 }),
  extra: fc.array(fc.tuple(headerName, anyText), { maxLength: 6 }),
  fold: fc.boolean(),
  eol: fc.constantFrom<'\r\n' | '\n' | '\r'>('\r\n', '\r\n', '\n', '\r'),
  root: tree.node,
});

export const genMutations: fc.Arbitrary<Mutation[]> = fc.array(
  fc.oneof(
    fc.record({ op: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.array(fc.constantFrom(0, 13, 10, 45, 61, 34, 58, 32, 9, 0xff, 0xc3, 0x1b, 60, 62), { minLength: 1, maxLength: 8 }) }),
    fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 200 }) }),
    fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 400 }) }),
  ),
  { minLength: 1, maxLength: 6 },
);

// ---- rendering ---------------------------------------------------------------------------------

export interface Rendered {
  raw: Buffer;
  /** Markers the parser must return (or flag a loss), with where they were written. */
  markers: Array<{ marker: string; path: string }>;
}

/** Lines must not look like boundaries or end the header; values must not break the header block. */
function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}
function bodyLines(s: string): string[] {
  return s.split(/\r\n|\r|\n/).map((l) => (l.startsWith('-') ? ` ${l}` : l));
}

function encodeCharset(text: string, cs: string | null): Buffer {
  const c = (cs ?? '').toLowerCase();
  if (c === 'iso-8859-1' || c === 'windows-1252') return Buffer.from(text, 'latin1');
  if (c === '' || c === 'utf-8') return Buffer.from(text, 'utf8');
  // Charsets we cannot encode here: ASCII only (the marker is ASCII either way).
  return Buffer.from(text.replace(/[^\x00-\x7f]/g, '?'), 'latin1');
}

function qp(bytes: Buffer): string {
  let out = '';
  let line = '';
  for (const b of bytes) {
    let piece: string;
    if (b === 10) {
      out += `${line}\n`;
      line = '';
      continue;
    }
    if (b === 13) continue;
    if ((b >= 33 && b <= 126 && b !== 61) || b === 32) piece = String.fromCharCode(b);
    else piece = `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
    if (line.length + piece.length > 73) {
      out += `${line}=\n`;
      line = '';
    }
    line += piece;
  }
  return out + line;
}

function renderNode(node: GenNode, path: string, markers: Rendered['markers'], inAlternative: boolean, depth: number): { head: string[]; body: Buffer[] } {
  if (node.kind === 'leaf') {
    const marker = `MRK${markers.length}Q`;
    if (!inAlternative) markers.push({ marker, path });
    const head: string[] = [];
    const params = node.charset !== null ? `; charset="${node.charset}"` : '';
    const name = node.filename !== null ? `; name="${oneLine(node.filename).replace(/["\\]/g, '')}"` : '';
    head.push(`Content-Type: ${node.type}${params}${name}`);
    if (node.cte) head.push(`Content-Transfer-Encoding: ${node.cte}`);
    if (node.disposition) head.push(`Content-Disposition: ${node.disposition}${node.filename !== null ? `; filename="${oneLine(node.filename).replace(/["\\]/g, '')}"` : ''}`);
    let content: string;
    if (node.type === 'message/rfc822') {
      content = `From: inner@example.com\nSubject: inner\nContent-Type: text/plain\n\n${marker}\n${bodyLines(node.text).join('\n')}`;
    } else {
      content = `${marker}\n${bodyLines(node.text).join('\n')}`;
    }
    const bytes = encodeCharset(content, node.charset);
    const c = node.cte.toLowerCase();
    let encoded: string;
    if (c === 'base64') encoded = (bytes.toString('base64').match(/.{1,76}/g) ?? ['']).join('\n');
    else if (c === 'quoted-printable') encoded = qp(bytes);
    else encoded = bytes.toString('latin1');
    return { head, body: [Buffer.from(encoded, 'latin1')] };
  }
  const b = `${node.boundary}_${depth}_${path.replace(/\D/g, '')}`;
  const head = [`Content-Type: multipart/${node.subtype}; boundary="${b}"${node.subtype === 'report' ? '; report-type=delivery-status' : ''}`];
  const body: Buffer[] = [];
  const lines: Array<string | Buffer> = [];
  if (node.preamble) lines.push(node.preamble);
  node.children.forEach((child, i) => {
    const r = renderNode(child, `${path}.${i}`, markers, inAlternative || node.subtype === 'alternative', depth + 1);
    lines.push(`--${b}`);
    for (const h of r.head) lines.push(h);
    lines.push('');
    // One piece per child: a nested multipart's lines already end in LF, and adding one per line
    // would put blank lines between them (an empty header block after each boundary).
    lines.push(Buffer.concat(r.body));
  });
  if (node.terminated) lines.push(`--${b}--`);
  for (const l of lines) body.push(typeof l === 'string' ? Buffer.from(`${l}\n`, 'latin1') : Buffer.concat([l, Buffer.from('\n')]));
  return { head, body };
}

/** Renders a generated message to bytes (line endings as chosen) and lists the markers to look for. */
export function renderMessage(m: GenMessage): Rendered {
  const markers: Rendered['markers'] = [];
  const top: string[] = [];
  const fold = (name: string, value: string) => {
    const v = oneLine(value);
    if (m.fold && v.length > 20) {
      const cut = v.indexOf(' ', 10);
      if (cut > 0) return `${name}: ${v.slice(0, cut)}\n ${v.slice(cut + 1)}`;
    }
    return `${name}: ${v}`;
  };
  if (m.from !== null) top.push(fold('From', m.from));
  if (m.to.length) top.push(fold('To', m.to.join(', ')));
  if (m.subject !== null) top.push(fold('Subject', m.subject));
  if (m.messageId !== null) top.push(`Message-ID: ${oneLine(m.messageId)}`);
  if (m.date !== null) top.push(`Date: ${oneLine(m.date)}`);
  for (const [k, v] of m.extra) top.push(fold(k, v));
  top.push('MIME-Version: 1.0');
  const r = renderNode(m.root, '0', markers, false, 0);
  const headerText = `${[...top, ...r.head].join('\n')}\n\n`;
  let raw = Buffer.concat([Buffer.from(headerText, 'utf8'), ...r.body]);
  if (m.eol !== '\n') {
    // Line endings: every LF becomes the chosen ending (content carries no CR or LF of its own).
    const s = raw.toString('latin1').replace(/\n/g, m.eol);
    raw = Buffer.from(s, 'latin1');
  }
  return { raw, markers };
}

export function applyMutations(raw: Buffer, mutations: readonly Mutation[]): Buffer {
  let b = Buffer.from(raw);
  for (const mu of mutations) {
    if (b.length === 0) break;
    const at = mu.at % b.length;
    switch (mu.op) {
      case 'flip':
        b[at] = mu.byte;
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), Buffer.from(mu.bytes), b.subarray(at)]);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + mu.length))]);
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'duplicate':
        b = Buffer.concat([b.subarray(0, at + Math.min(mu.length, b.length - at)), b.subarray(at)]);
        break;
    }
  }
  return b;
}
