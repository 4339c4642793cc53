/**
 * Charset repairs the MIME parser does not make, as browsers and mail clients make them:
 *
 * - ISO-8859-1 (and US-ASCII, and Latin-1 guessed for raw 8-bit headers) is read as Windows-1252
 *   (WHATWG Encoding: the label `iso-8859-1` means windows-1252). Node 20's TextDecoder maps the
 *   label but still decodes 0x80-0x9F as C1 control characters, so `0x85` showed as U+0085 instead
 *   of an ellipsis. `c1ToWindows1252` turns those control characters back into what the sender typed;
 *   C1 controls have no use in mail text, so this is safe on any decoded string.
 * - A header line that is UTF-8 but for a stray byte or two is decoded as UTF-8 with U+FFFD for the
 *   bad bytes (`decodeHeaderLine`), not as Latin-1 mojibake ("CafÃ©").
 * - A body labelled with a 7-bit charset (ISO-2022-JP) that holds 8-bit UTF-8: the label is tried
 *   first and, when it fails, the UTF-8 reading is used if it is valid (`preferUtf8Reading`).
 *
 * Pure functions over strings and bytes.
 */

/** Windows-1252 characters for bytes 0x80-0x9F (undefined bytes 0x81, 0x8D, 0x8F, 0x90, 0x9D stay as they are). */
const CP1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8d, 0x017d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013,
  0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x9d, 0x017e, 0x0178,
];

// eslint-disable-next-line no-control-regex
const C1 = /[\u0080-\u009f]/g;

/** Replaces C1 control characters (what a Latin-1 decoder makes of Windows-1252 bytes) with the Windows-1252 characters. */
export function c1ToWindows1252(s: string): string {
  C1.lastIndex = 0;
  if (!C1.test(s)) return s;
  return s.replace(C1, (ch) => String.fromCharCode(CP1252_HIGH[ch.charCodeAt(0) - 0x80]!));
}

/** Counts of well-formed multi-byte UTF-8 sequences and of bytes that are not part of one. */
export function utf8Shape(bytes: Uint8Array): { sequences: number; invalid: number } {
  let sequences = 0;
  let invalid = 0;
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    const len = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    let ok = len > 0 && i + len <= bytes.length;
    for (let k = 1; ok && k < len; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) ok = false;
    if (ok && len === 3) {
      const b1 = bytes[i + 1]!;
      if ((b === 0xe0 && b1 < 0xa0) || (b === 0xed && b1 >= 0xa0)) ok = false;
    }
    if (ok && len === 4) {
      const b1 = bytes[i + 1]!;
      if ((b === 0xf0 && b1 < 0x90) || (b === 0xf4 && b1 >= 0x90)) ok = false;
    }
    if (ok) {
      sequences++;
      i += len;
    } else {
      invalid++;
      i++;
    }
  }
  return { sequences, invalid };
}

const utf8Lossy = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * One raw header line (8-bit bytes written straight into the header): UTF-8 when it is UTF-8, or
 * UTF-8 but for a few bad bytes (at least as many well-formed sequences as bad bytes: each bad byte becomes
 * U+FFFD); otherwise the fallback charset (the message's declared body charset, else Windows-1252).
 */
export function decodeHeaderLine(bytes: Uint8Array, fallbackCharset: string | null): string {
  const { sequences, invalid } = utf8Shape(bytes);
  if (invalid === 0 || (sequences > 0 && sequences >= invalid)) return utf8Lossy.decode(bytes);
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(fallbackCharset ?? 'windows-1252');
  } catch {
    decoder = new TextDecoder('windows-1252');
  }
  return c1ToWindows1252(decoder.decode(bytes));
}

/** Charset labels for 7-bit encodings: a body with 8-bit bytes cannot be in them. */
export function isSevenBitCharset(label: string): boolean {
  return /^(?:x-)?(?:iso-?2022-?(?:jp|kr|cn)(?:-\d|-ext)?|csiso2022jp|utf-?7)$/i.test(label.trim().replace(/^["']|["']$/g, ''));
}

// eslint-disable-next-line no-control-regex
const ESCAPE = /\u001b/;

/**
 * Picks between the body decoded with its label (`labelled`) and the same body decoded as UTF-8
 * (`asUtf8`): the label wins unless its reading has replacement characters and the UTF-8 reading
 * has fewer and no escape sequences (ISO-2022 text read as UTF-8 keeps its ESC bytes).
 */
export function preferUtf8Reading(labelled: string, asUtf8: string): boolean {
  const bad = (s: string) => {
    let n = 0;
    for (let i = s.indexOf('\ufffd'); i >= 0; i = s.indexOf('\ufffd', i + 1)) n++;
    return n;
  };
  const before = bad(labelled);
  if (before === 0) return false;
  return !ESCAPE.test(asUtf8) && bad(asUtf8) < before;
}
