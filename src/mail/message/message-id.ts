/**
 * Message-ID normalisation, used on both sides of every comparison (the stored ids and the ids read
 * from In-Reply-To / References), so the rule lives here once:
 *
 * - the id between the first `<` and its `>`, with whitespace removed (folding inside long ids);
 * - when there are no angle brackets, the first whitespace-free token that contains an `@`
 *   (some old or broken senders omit them), else the whole trimmed value if it has no spaces;
 * - case is kept: RFC 5322 ids are compared as opaque strings, and lower-casing would break ids
 *   whose local part differs only by case (base64-style ids do).
 */

const MAX_ID_LENGTH = 998;

export function normaliseMessageId(value: string | null | undefined): string | null {
  if (value == null) return null;
  const ids = messageIdsIn(value, 1);
  return ids[0] ?? null;
}

/**
 * All ids in a References / In-Reply-To value, in order, de-duplicated. Bracketed ids win; without
 * any brackets, whitespace- or comma-separated tokens containing `@` are taken.
 * `limit` caps the result (References chains can be thousands long in broken mail); when it bites,
 * the first id (the thread root) and the last `limit - 1` ids (the nearest ancestors) are kept.
 */
export function messageIdsIn(value: string | null | undefined, limit = 200): string[] {
  if (!value) return [];
  const found: string[] = [];
  const bracketed = /<([^<>]*)>/g;
  let m: RegExpExecArray | null;
  let any = false;
  while ((m = bracketed.exec(value)) !== null) {
    any = true;
    const id = clean(m[1] ?? '');
    if (id) found.push(id);
  }
  if (!any) {
    const tokens = value.split(/[\s,]+/).map(clean).filter((t) => t !== '');
    const withAt = tokens.filter((t) => t.includes('@') && !/^[("']/.test(t));
    if (withAt.length > 0) found.push(...withAt);
    else if (tokens.length === 1 && tokens[0]) found.push(tokens[0]);
  }
  const unique = [...new Set(found)];
  if (unique.length <= limit) return unique;
  if (limit <= 1) return unique.slice(0, limit);
  return [unique[0]!, ...unique.slice(unique.length - (limit - 1))];
}

function clean(s: string): string {
  // eslint-disable-next-line no-control-regex
  const id = s.replace(/[\s\u0000]+/g, '').replace(/^<|>$/g, '');
  // In UTF-8 bytes too (RFC 5322 lines are 998 octets): the id is stored in indexes, and a PostgreSQL
  // btree entry holds at most 2,704 bytes (990 CJK characters made ingest fail there).
  if (id.length > MAX_ID_LENGTH || utf8Length(id) > MAX_ID_LENGTH) return '';
  // A stray bracket in an unbracketed token ("!<") is not an id (found by the fuzzer).
  if (/[<>]/.test(id)) return '';
  return id;
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
