/**
 * A small, bounded reader for an RFC 5322 header block (the lines before the first empty line).
 * Used where a full MIME parse is not wanted: the original-message headers inside a bounce
 * (text/rfc822-headers), the per-recipient groups of a delivery-status part, and the fallback
 * when the MIME parser failed or timed out. Pure and linear in its (capped) input.
 */
export interface RawHeaderField {
  /** Lower-case name. */
  key: string;
  /** Unfolded value, trimmed, not decoded. */
  value: string;
}

export interface HeaderBlockOptions {
  /** Stop reading after this many characters (default 256 KiB). */
  maxChars?: number;
  /** Stop after this many fields (default 1,000). */
  maxFields?: number;
  /** Cap each value at this many characters (default 16 KiB). */
  maxValueChars?: number;
}

/**
 * Reads header fields from the start of `text` up to the first empty line (or the cap).
 * Lines that are neither a field nor a continuation are skipped (mbox `From ` lines, junk).
 */
export function readHeaderBlock(text: string, opts: HeaderBlockOptions = {}): { fields: RawHeaderField[]; complete: boolean } {
  const maxChars = opts.maxChars ?? 256 * 1024;
  const maxFields = opts.maxFields ?? 1000;
  const maxValue = opts.maxValueChars ?? 16 * 1024;
  const src = text.length > maxChars ? text.slice(0, maxChars) : text;
  const fields: RawHeaderField[] = [];
  let current: { key: string; parts: string[]; len: number } | null = null;
  let complete = false;
  const flush = () => {
    if (current && fields.length < maxFields) {
      fields.push({ key: current.key, value: current.parts.join('').replace(/[\r\n]+/g, ' ').trim().slice(0, maxValue) });
    }
    current = null;
  };
  let pos = 0;
  while (pos < src.length) {
    let end = src.indexOf('\n', pos);
    if (end < 0) end = src.length;
    let line = src.slice(pos, end);
    pos = end + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line === '' || /^\r*$/.test(line)) {
      complete = true;
      break;
    }
    if (/^[ \t]/.test(line)) {
      if (current) {
        const c: { key: string; parts: string[]; len: number } = current;
        if (c.len < maxValue) {
          c.parts.push(line);
          c.len += line.length;
        }
      }
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0 || /[\s]/.test(line.slice(0, colon).trim()) || line.slice(0, colon).trim() === '') {
      flush();
      continue;
    }
    flush();
    if (fields.length >= maxFields) break;
    const value = line.slice(colon + 1);
    current = { key: line.slice(0, colon).trim().toLowerCase(), parts: [value.slice(0, maxValue + 1)], len: value.length };
  }
  flush();
  return { fields, complete };
}

/** First value of `key` (lower-case) or null. */
export function firstField(fields: readonly RawHeaderField[], key: string): string | null {
  for (const f of fields) if (f.key === key) return f.value;
  return null;
}
