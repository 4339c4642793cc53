import { domainToASCII } from 'node:url';
import punycode from 'punycode/punycode.js';

/**
 * THE comparison key of an email address. Every place that asks "is this the same address?"
 * (connection rules, database unique indexes, sign-in, contact matching) compares `addressKey(x).key`
 * and nothing else.
 *
 * How the key is made from what a person typed:
 * 1. Surrounding whitespace is trimmed, then one pair of surrounding angle brackets is removed
 *    (`<ann@example.com>`). A display name (`Ann <ann@example.com>`) is refused: enter the address only.
 * 2. Exactly one `@` splits the local part (before) from the domain (after).
 * 3. The local part is put in Unicode NFC form and lower-cased. Strictly, RFC 5321 lets a server treat
 *    `Ann` and `ann` as different mailboxes; in practice no provider does, and people type both.
 *    Nothing else is changed: plus tags (`ann+news@`) and dots (`a.nn@`) are kept, so `ann+news@x` and
 *    `ann@x` are DIFFERENT addresses (only the provider knows they share a mailbox, and a customer may
 *    deliberately connect a plus address as a separate team address).
 * 4. The domain goes through IDNA (UTS #46, as browsers do: `node:url` `domainToASCII`): lower-cased,
 *    Unicode labels become punycode (`Bücher.Example` → `xn--bcher-kva.example`), full-width letters
 *    and ideographic full stops map to their ASCII forms. One trailing dot (the DNS root) is removed.
 *    Labels already in punycode (`xn--...`) are checked here, not by Node: Node's IDNA (WHATWG URL,
 *    ICU in Node 20, Ada in Node 24) changed which malformed `xn--` labels it refuses, so
 *    `xn--zz.com` was refused on Node 20 and accepted on Node 24. A punycode label must decode (RFC 3492,
 *    the `punycode` package), encode back to itself, decode to a lower-case NFC label that has at least
 *    one non-ASCII character and only letters, marks, digits, symbols and hyphens; the displayed Unicode
 *    form is decoded the same way. The result is the same on every Node version.
 *    Look-alike (homograph) domains are NOT folded together: `аррӏе.com` in Cyrillic is
 *    `xn--80ak6aa92e.com`, a different address from `apple.com`, as it is in the DNS.
 *
 * What is refused (`invalid_address`, with a message that says what to fix):
 * - no `@`, more than one `@`, an empty part before or after it, spaces anywhere inside;
 * - quoted local parts (`"ann lee"@example.com`): legal but practically unused, and no provider we
 *   connect to accepts them as a mailbox login;
 * - local part characters other than letters, digits, `!#$%&'*+/=?^_\`{|}~-` and non-ASCII letters
 *   (internationalised local parts, RFC 6532, are accepted); a dot at the start or end, or two dots
 *   in a row; more than 64 bytes (UTF-8);
 * - invisible characters (control and format characters such as zero-width spaces) anywhere: IDNA would
 *   silently drop some of them, which would make two different-looking inputs the same key;
 * - domains that are an address literal (`[192.0.2.1]`), an IP address, a single label (`localhost`),
 *   have an empty label, a label over 63 characters, a label starting or ending with `-`, characters
 *   other than letters, digits and `-` (so no `_`), or more than 253 characters in ASCII form;
 * - keys longer than 254 bytes (the SMTP path limit of 256 minus the angle brackets).
 *
 * `display` is the address as people should see it: the local part as typed (NFC, case kept) and the
 * domain in Unicode, lower-case (`Info@bücher.example`). Use it in messages, never for comparison.
 */
export function addressKey(input: string): AddressKeyResult {
  if (typeof input !== 'string') return fail('empty', 'Enter an email address, like name@example.com.');
  let s = input.trim();
  if (s.startsWith('<') && s.endsWith('>')) s = s.slice(1, -1).trim();
  if (s === '') return fail('empty', 'Enter an email address, like name@example.com.');
  if (/[\s\p{Z}]/u.test(s)) {
    return fail('whitespace', `"${input.trim()}" contains a space. Enter only the email address, like name@example.com, without a name or spaces.`);
  }
  if (/[\p{Cc}\p{Cf}]/u.test(s)) {
    return fail('invisible_character', 'The address contains an invisible character (often pasted by accident). Type the address again.');
  }
  if (s.startsWith('"')) {
    return fail('quoted_local_part', 'Addresses with quotation marks before the @ are not supported. Use a plain address like name@example.com.');
  }
  const at = s.split('@');
  if (at.length < 2) return fail('missing_at', `"${s}" is not an email address: it has no @. Enter an address like name@example.com.`);
  if (at.length > 2) return fail('multiple_at', `"${s}" has more than one @. An email address has exactly one, like name@example.com.`);
  const [rawLocal, rawDomain] = at as [string, string];
  if (rawLocal === '') return fail('empty_local_part', `"${s}" has nothing before the @. Enter the full address, like name@example.com.`);
  if (rawDomain === '') return fail('empty_domain', `"${s}" has nothing after the @. Enter the full address, like name@example.com.`);

  const local = rawLocal.normalize('NFC');
  const localProblem = checkLocalPart(local);
  if (localProblem) return fail(localProblem.reason, localProblem.message);

  // Case folding can lengthen a local part ("İ" is one code point, its lower case two): the limit
  // holds for the key too, so a key is always accepted as input again (found by the fuzzer).
  const foldedLocal = local.toLowerCase().normalize('NFC');
  if (utf8Length(foldedLocal) > MAX_LOCAL_PART_BYTES) {
    return fail('local_part_too_long', `The part before the @ is too long (at most ${MAX_LOCAL_PART_BYTES} characters).`);
  }

  const domain = asciiDomain(rawDomain);
  if (!domain.ok) return fail(domain.reason, domain.message);

  const key = `${foldedLocal}@${domain.ascii}`;
  if (utf8Length(key) > MAX_ADDRESS_BYTES) {
    return fail('too_long', `The address is too long (at most ${MAX_ADDRESS_BYTES} characters).`);
  }
  return { ok: true, key, display: `${local}@${domain.unicode}` };
}

/** True when both inputs are valid addresses with the same comparison key. */
export function sameAddress(a: string, b: string): boolean {
  const ka = addressKey(a);
  const kb = addressKey(b);
  return ka.ok && kb.ok && ka.key === kb.key;
}

export type AddressKeyResult = { ok: true; key: string; display: string } | { ok: false; code: 'invalid_address'; reason: InvalidAddressReason; message: string };

/** Why an address was refused: for tests and logs; users read `message`. */
export type InvalidAddressReason =
  | 'empty'
  | 'whitespace'
  | 'invisible_character'
  | 'quoted_local_part'
  | 'missing_at'
  | 'multiple_at'
  | 'empty_local_part'
  | 'empty_domain'
  | 'local_part_too_long'
  | 'invalid_local_part'
  | 'address_literal'
  | 'invalid_domain'
  | 'single_label_domain'
  | 'ip_address_domain'
  | 'domain_too_long'
  | 'too_long';

/** Longest address (key) in UTF-8 bytes: SMTP's 256-byte path minus the angle brackets. */
export const MAX_ADDRESS_BYTES = 254;
/** Longest local part in UTF-8 bytes (RFC 5321). */
export const MAX_LOCAL_PART_BYTES = 64;
/** Longest domain in ASCII form (RFC 1035 without the root dot). */
export const MAX_DOMAIN_LENGTH = 253;

const fail = (reason: InvalidAddressReason, message: string): AddressKeyResult => ({ ok: false, code: 'invalid_address', reason, message });

/** Letters, digits and RFC 5322 atext symbols, plus any non-ASCII character (RFC 6532). */
const LOCAL_ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\u{10FFFF}]+$/u;

function checkLocalPart(local: string): { reason: InvalidAddressReason; message: string } | null {
  if (utf8Length(local) > MAX_LOCAL_PART_BYTES) {
    return { reason: 'local_part_too_long', message: `The part before the @ is too long (at most ${MAX_LOCAL_PART_BYTES} characters).` };
  }
  if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) {
    return { reason: 'invalid_local_part', message: 'The part before the @ cannot start or end with a dot or have two dots in a row.' };
  }
  for (const atom of local.split('.')) {
    if (!LOCAL_ATOM.test(atom)) {
      const bad = [...atom].find((c) => !LOCAL_ATOM.test(c)) ?? '';
      return { reason: 'invalid_local_part', message: `The part before the @ contains "${bad}", which email addresses cannot use there.` };
    }
  }
  return null;
}

const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

function asciiDomain(raw: string): { ok: true; ascii: string; unicode: string } | { ok: false; reason: InvalidAddressReason; message: string } {
  const bad = (reason: InvalidAddressReason, why: string) => ({ ok: false as const, reason, message: `The domain "${raw}" (after the @) ${why}` });
  if (raw.startsWith('[')) return bad('address_literal', 'is an IP address in brackets. Use the domain name of the mail server, like example.com.');
  // ASCII characters other than letters, digits, '-' and '.' are refused before IDNA: the URL-based
  // converter would otherwise decode '%41', cut at '/' or parse '0x7f.1' as an IP address.
  if (/[\x00-\x2c\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]/.test(raw)) {
    const c = [...raw].find((ch) => /[\x00-\x2c\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]/.test(ch));
    return bad('invalid_domain', `contains "${c}". A domain has only letters, digits, hyphens and dots, like example.com.`);
  }
  let ascii = domainToASCII(raw);
  if (ascii === '') return bad('invalid_domain', 'is not a valid domain name. Check it for typing mistakes.');
  ascii = ascii.toLowerCase();
  if (ascii.endsWith('.')) ascii = ascii.slice(0, -1);
  if (ascii.length > MAX_DOMAIN_LENGTH) return bad('domain_too_long', `is too long (at most ${MAX_DOMAIN_LENGTH} characters).`);
  const labels = ascii.split('.');
  if (labels.some((l) => l === '')) return bad('invalid_domain', 'has an empty part (two dots in a row, or a dot at the start or end).');
  if (labels.length < 2) return bad('single_label_domain', 'has no dot. Use the full domain, like example.com.');
  for (const l of labels) {
    if (l.length > 63) return bad('invalid_domain', 'has a part longer than 63 characters between dots.');
    if (!LDH_LABEL.test(l)) return bad('invalid_domain', 'has a part that starts or ends with a hyphen or uses characters a domain cannot have.');
    if (l.startsWith('xn--') && decodePunycodeLabel(l) === null) return bad('invalid_domain', 'is not a valid domain name. Check it for typing mistakes.');
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) {
    return bad('ip_address_domain', 'is an IP address. Use the domain name of the mail server, like example.com.');
  }
  const unicode = labels.map((l) => (l.startsWith('xn--') ? (decodePunycodeLabel(l) ?? l) : l)).join('.');
  return { ok: true, ascii, unicode };
}

/** Characters a decoded IDN label may have: letters, combining marks, digits, symbols (emoji domains exist) and hyphens. */
const UNICODE_LABEL = /^[\p{L}\p{M}\p{N}\p{S}-]+$/u;

/**
 * The Unicode form of one lower-case `xn--` label, or null when it is not a well-formed IDN label:
 * it must decode as punycode, encode back to the same text, have at least one non-ASCII character
 * (an all-ASCII label must not be written as punycode), be lower-case NFC, and have only the characters
 * of UNICODE_LABEL. Independent of the Node version (see addressKey, step 4).
 */
export function decodePunycodeLabel(label: string): string | null {
  const body = label.slice(4);
  if (body === '') return null;
  let decoded: string;
  try {
    decoded = punycode.decode(body);
    if (punycode.encode(decoded) !== body) return null;
  } catch {
    return null;
  }
  if (decoded === '' || !/[^\x00-\x7f]/.test(decoded)) return null;
  if (decoded.normalize('NFC') !== decoded || decoded.toLowerCase() !== decoded) return null;
  if (!UNICODE_LABEL.test(decoded) || decoded.startsWith('-') || decoded.endsWith('-')) return null;
  if (/^\p{M}/u.test(decoded)) return null;
  return decoded;
}

function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}
