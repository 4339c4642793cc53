import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { c1ToWindows1252, decodeHeaderLine, isSevenBitCharset, preferUtf8Reading, utf8Shape } from './charsets.js';
import { parseMessageInline } from './parse-inline.js';

const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

describe('c1ToWindows1252', () => {
  it.each([
    ['ellipsis (0x85)', 'Wait\u0085', 'Wait…'],
    ['euro, quotes, dashes', '\u0080 \u0093q\u0094 \u0096 \u0097', '€ “q” – —'],
    ['undefined bytes stay', '\u0081\u008d\u008f\u0090\u009d', '\u0081\u008d\u008f\u0090\u009d'],
    ['plain Latin-1 untouched', 'café ÿ', 'café ÿ'],
    ['empty', '', ''],
  ])('%s', (_name, input, expected) => {
    expect(c1ToWindows1252(input)).toBe(expected);
  });
});

describe('decodeHeaderLine', () => {
  it.each<[string, Buffer, string | null, string]>([
    ['valid UTF-8', bytes('Caf', [0xc3, 0xa9]), null, 'Café'],
    ['UTF-8 but for one bad byte: U+FFFD, no mojibake', bytes('Caf', [0xc3, 0xa9], ' na', [0xef], 've'), null, 'Café na\ufffdve'],
    ['one sequence, one bad byte', bytes('J', [0xc3, 0xb6], 'rg ', [0xff]), null, 'Jörg \ufffd'],
    ['Latin-1 bytes (no UTF-8 sequence): Windows-1252', bytes('caf', [0xe9], ' ', [0x85]), null, 'café …'],
    ['declared body charset used when not UTF-8', bytes([0xcf, 0xf0, 0xe8, 0xe2, 0xe5, 0xf2]), 'windows-1251', 'Привет'],
    ['unknown fallback label: Windows-1252', bytes([0x93, 0x61, 0x94]), 'no-such-charset', '“a”'],
  ])('%s', (_name, input, fallback, expected) => {
    expect(decodeHeaderLine(input, fallback)).toBe(expected);
  });

  it('counts UTF-8 sequences and stray bytes', () => {
    expect(utf8Shape(bytes('a', [0xc3, 0xa9], [0xe2, 0x80, 0xa6], [0xf0, 0x9f, 0x98, 0x80], [0xff], [0xc3]))).toEqual({ sequences: 3, invalid: 2 });
    expect(utf8Shape(bytes([0xed, 0xa0, 0x80]))).toEqual({ sequences: 0, invalid: 3 }); // a surrogate is not UTF-8
  });
});

describe('the label first, then UTF-8 validity', () => {
  it.each<[string, string, string, boolean]>([
    ['label failed, UTF-8 reading clean', 'a\ufffd\ufffd', '日本', true],
    ['label read fine', '日本', 'x', false],
    ['UTF-8 reading no better', 'a\ufffd', 'b\ufffd', false],
    ['ISO-2022 escapes in the UTF-8 reading: keep the label', 'a\ufffd', '\u001b$B$3\u001b(B', false],
  ])('%s', (_name, labelled, asUtf8, expected) => {
    expect(preferUtf8Reading(labelled, asUtf8)).toBe(expected);
  });

  it.each([
    ['ISO-2022-JP', true],
    ['"iso-2022-jp"', true],
    ['x-iso-2022-jp-2', true],
    ['iso-2022-kr', true],
    ['shift_jis', false],
    ['utf-8', false],
  ])('%s is a 7-bit label: %s', (label, expected) => {
    expect(isSevenBitCharset(label)).toBe(expected);
  });
});

describe('through the parse', () => {
  const head = 'From: Ann <ann@example.com>\r\nTo: b@example.com\r\nMessage-ID: <c@example.com>\r\nDate: Mon, 3 Jan 2022 09:00:00 +0000\r\n';
  it.each<[string, Buffer, { subject?: string; fromName?: string; text?: string }]>([
    ['a UTF-8 Subject with one bad byte', bytes(head, 'Subject: R', [0xc3, 0xa9], 'sum', [0xc3, 0xa9], ' ', [0x9f], 'final\r\n\r\nbody\r\n'), { subject: 'Résumé \ufffdfinal' }],
    ['a raw Latin-1 Subject with 0x85', bytes(head, 'Subject: Wait', [0x85], ' caf', [0xe9], '\r\n\r\nbody\r\n'), { subject: 'Wait… café' }],
    ['an encoded word labelled ISO-8859-1 with 0x85 and 0x80', bytes(head, 'Subject: =?ISO-8859-1?Q?Wait=85_=80_5?=\r\n\r\nbody\r\n'), { subject: 'Wait… € 5' }],
    ['a display name labelled Latin-1 with smart quotes', bytes('From: =?iso-8859-1?Q?=93Ann=94?= <ann@example.com>\r\nSubject: x\r\n\r\nbody\r\n'), { fromName: '“Ann”' }],
    [
      'a body labelled ISO-8859-1 (quoted-printable) with 0x85',
      bytes(head, 'Subject: x\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nWait=85 caf=E9 =80\r\n'),
      { text: 'Wait… café €\r\n' },
    ],
    [
      'a body labelled ISO-2022-JP that holds UTF-8',
      bytes(head, 'Subject: x\r\nContent-Type: text/plain; charset="ISO-2022-JP"\r\n\r\n日本語のテキストです。\r\n'),
      { text: '日本語のテキストです。\r\n' },
    ],
    [
      'a base64 body labelled ISO-2022-JP that holds UTF-8',
      bytes(
        head,
        `Subject: x\r\nContent-Type: text/plain; charset=iso-2022-jp\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.from('こんにちは、世界').toString('base64')}\r\n`,
      ),
      { text: 'こんにちは、世界' },
    ],
    [
      'a real ISO-2022-JP body still decodes with its label',
      bytes(head, 'Subject: x\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n\r\n\u001b$B$3$s$K$A$O\u001b(B\r\n'),
      { text: 'こんにちは\r\n' },
    ],
  ])('%s', async (_name, raw, expected) => {
    const m = await parseMessageInline(raw);
    if (expected.subject !== undefined) expect(m.subject).toBe(expected.subject);
    if (expected.fromName !== undefined) expect(m.from?.name).toBe(expected.fromName);
    if (expected.text !== undefined) expect(m.text?.replace(/\r?\n$/, '')).toBe(expected.text.replace(/\r?\n$/, ''));
  });
});

describe('properties', () => {
  it('any UTF-8 header line decodes to itself; any Windows-1252 line without a UTF-8 sequence decodes as Windows-1252', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (s) => {
        expect(decodeHeaderLine(Buffer.from(s, 'utf8'), null)).toBe(s);
      }),
    );
    const cp1252 = new TextDecoder('windows-1252');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const shape = utf8Shape(bytes);
        fc.pre(shape.sequences === 0 && shape.invalid > 0);
        expect(decodeHeaderLine(bytes, null)).toBe(c1ToWindows1252(cp1252.decode(bytes)));
      }),
    );
  });

  it('c1ToWindows1252 leaves strings without C1 controls alone and removes every mapped one', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (s) => {
        const out = c1ToWindows1252(s);
        expect(out.length).toBe(s.length);
        if (!/[\u0080-\u009f]/.test(s)) expect(out).toBe(s);
        expect(/[\u0080\u0082-\u008c\u008e\u0091-\u009c\u009e\u009f]/.test(out)).toBe(false);
      }),
    );
  });
});
