/**
 * Bounds an address header before the general address parser reads it. postal-mime's tokenizer grows
 * its tokens a character at a time: a single address element of 130 KB (a hostile message in a public
 * test suite: a name followed by thousands of encoded words) costs it 150-400 ms, most of one message
 * import's parse budget, for an element whose every character past the first few hundred is garbage.
 *
 * The header is split at its top-level separators (`,` and `;` outside quotes, angle brackets and
 * comments: one linear scan), at most `maxElements` elements are kept, and each element longer than
 * `maxElement` characters is cut there, with the quote, angle bracket or comments it had opened closed
 * again, so that the cut cannot swallow the elements after it. An address is at most 254 characters
 * (RFC 5321) and a real display name a few dozen: 1,024 keeps every real element whole. Headers within
 * the bounds come back unchanged (the same string).
 */

export interface AddressHeaderBounds {
  /** Elements kept (recipients beyond are dropped). */
  maxElements: number;
  /** Characters kept of one element. */
  maxElement: number;
}

export function boundAddressHeader(value: string, bounds: AddressHeaderBounds): string {
  // Short headers cannot exceed either bound (n elements take at least 2n - 1 characters): no scan.
  if (value.length <= bounds.maxElement && value.length < 2 * bounds.maxElements) return value;
  const parts: string[] = [];
  let changed = false;
  let start = 0;
  let quoted = false;
  let angle = false;
  let comment = 0;
  /** Where the current element passed maxElement, with what it had open there; -1 while within. */
  let cutAt = -1;
  let cutQuoted = false;
  let cutAngle = false;
  let cutComment = 0;
  const endElement = (end: number, separator: string): boolean => {
    if (cutAt >= 0) {
      parts.push(`${value.slice(start, cutAt)}${cutComment > 0 ? ')'.repeat(cutComment) : ''}${cutQuoted ? '"' : ''}${cutAngle ? '>' : ''}${separator}`);
      changed = true;
    } else {
      parts.push(value.slice(start, end) + separator);
    }
    cutAt = -1;
    start = end + separator.length;
    return parts.length < bounds.maxElements;
  };
  for (let i = 0; i < value.length; i++) {
    if (cutAt < 0 && i - start >= bounds.maxElement) {
      cutAt = i;
      cutQuoted = quoted;
      cutAngle = angle;
      cutComment = comment;
    }
    const c = value.charCodeAt(i);
    if (quoted) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) quoted = false;
    } else if (comment > 0) {
      if (c === 0x5c) i++;
      else if (c === 0x28) comment++;
      else if (c === 0x29) comment--;
    } else if (c === 0x22) {
      quoted = true;
    } else if (c === 0x28) {
      comment = 1;
    } else if (c === 0x3c) {
      angle = true;
    } else if (c === 0x3e) {
      angle = false;
    } else if (!angle && (c === 0x2c || c === 0x3b)) {
      if (!endElement(i, value[i]!)) {
        // maxElements reached: the rest is dropped
        return parts.join('').slice(0, -1);
      }
    }
  }
  if (start < value.length) endElement(value.length, '');
  return changed ? parts.join('') : value;
}
