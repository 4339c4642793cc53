/**
 * A fast pre-scan of the MIME structure, on bytes, before the real parse. It mirrors how
 * postal-mime splits parts (lines ending in LF, trailing CRs ignored, innermost boundary first,
 * first Content-Type wins) closely enough to:
 *
 * - count parts and nesting depth (inline message/rfc822 bodies count as one more level);
 * - cut what is over the limits BEFORE the parser sees it: a subtree deeper than `maxDepth` is
 *   removed up to the next boundary of an ancestor (its siblings survive), and everything from the
 *   part after `maxParts` to the end is removed. postal-mime itself rejects the whole message past
 *   256 levels and accepts any number of siblings, so without this a nesting bomb loses the message
 *   and a part bomb costs unbounded time;
 * - notice a multipart that never closes (message cut short) and the declared text charsets.
 *
 * It never throws on input and is linear in the input size.
 */
import type { ParseLimits } from './limits.js';

export interface StructureScan {
  partCount: number;
  maxDepth: number;
  tooDeep: boolean;
  tooManyParts: boolean;
  /** A multipart without its closing boundary at the end of the input. */
  unterminated: boolean;
  /** Lower-case MIME type of the top part (`text/plain` when absent). */
  topContentType: string;
  /** Charsets declared on text/* parts, lower-case, in order, distinct. */
  charsets: string[];
  /** Byte ranges of the input to parse, or null to parse it all. */
  keep: Array<[number, number]> | null;
}

interface Entity {
  depth: number;
  state: 'header' | 'body';
  parentMultipart: string | null;
  contentType: string | null;
  transferEncoding: string | null;
  /** Which tracked field a continuation line belongs to. */
  collecting: 'contentType' | 'transferEncoding' | null;
  multipart: string | null;
}

interface Boundary {
  value: Buffer;
  entity: Entity;
}

const MAX_TRACKED_VALUE = 8 * 1024;
const MAX_TRACKED_LINE = 8 * 1024;

export function scanStructure(buf: Buffer, limits: Pick<ParseLimits, 'maxParts' | 'maxDepth'>): StructureScan {
  const result: StructureScan = {
    partCount: 1,
    maxDepth: 0,
    tooDeep: false,
    tooManyParts: false,
    unterminated: false,
    topContentType: 'text/plain',
    charsets: [],
    keep: null,
  };
  const keep: Array<[number, number]> = [];
  let keepFrom = 0;
  let skipping = false;
  let skipToEnd = false;

  const root: Entity = newEntity(0, null);
  const stack: Entity[] = [root];
  const boundaries: Boundary[] = [];

  const startSkip = (at: number, toEnd: boolean) => {
    if (at > keepFrom) keep.push([keepFrom, at]);
    skipping = true;
    skipToEnd = toEnd;
  };
  const endSkip = (at: number) => {
    keepFrom = at;
    skipping = false;
  };

  /** Opens a child part; returns false when a limit says its content must be skipped from `skipAt`. */
  const openChild = (parent: Entity, skipAt: number, depthSkipAt: number): Entity | null => {
    if (result.partCount + 1 > limits.maxParts) {
      result.tooManyParts = true;
      startSkip(skipAt, true);
      return null;
    }
    const depth = parent.depth + 1;
    if (depth > limits.maxDepth) {
      result.tooDeep = true;
      startSkip(depthSkipAt, false);
      return null;
    }
    result.partCount++;
    if (depth > result.maxDepth) result.maxDepth = depth;
    const child = newEntity(depth, parent.multipart);
    stack.push(child);
    return child;
  };

  const endOfHeader = (part: Entity, lineStart: number, nextLineStart: number): void => {
    const ct = parseContentType(part.contentType, part.parentMultipart === 'digest' ? 'message/rfc822' : 'text/plain');
    if (part.depth === 0) result.topContentType = ct.type;
    if (ct.type.startsWith('text/') && ct.charset) {
      const cs = ct.charset.toLowerCase();
      if (!result.charsets.includes(cs) && result.charsets.length < 50) result.charsets.push(cs);
    }
    if (ct.type.startsWith('multipart/')) {
      part.multipart = ct.type.slice('multipart/'.length);
      if (ct.boundary) boundaries.push({ value: Buffer.from(ct.boundary, 'latin1'), entity: part });
      return;
    }
    const cte = (part.transferEncoding ?? '').trim().toLowerCase();
    if (ct.type === 'message/rfc822' && !/base64|quoted-printable/.test(cte)) {
      // The body is itself a message: its header starts on the next line, one level deeper.
      const child = openChild(part, lineStart, nextLineStart);
      if (child) child.parentMultipart = null;
    }
  };

  const len = buf.length;
  let pos = 0;
  while (pos < len) {
    const lineStart = pos;
    let nl = buf.indexOf(10, pos);
    if (nl < 0) nl = len;
    pos = nl + 1;
    let lineEnd = nl;
    while (lineEnd > lineStart && (buf[lineEnd - 1] === 13 || buf[lineEnd - 1] === 10)) lineEnd--;
    const lineLen = lineEnd - lineStart;

    if (skipToEnd) break;

    // Boundary lines, innermost first (as postal-mime does).
    if (boundaries.length > 0 && lineLen > 2 && buf[lineStart] === 0x2d && buf[lineStart + 1] === 0x2d) {
      const hit = matchBoundary(buf, lineStart, lineEnd, boundaries);
      if (hit) {
        if (skipping) endSkip(lineStart);
        const owner = hit.boundary.entity;
        // Close everything opened inside the owner, and their boundaries.
        while (stack.length > 0 && stack[stack.length - 1] !== owner) stack.pop();
        boundaries.length = hit.index + 1;
        if (hit.terminator) {
          boundaries.length = hit.index; // the owner's own boundary is closed too
          owner.state = 'body'; // epilogue
        } else {
          openChild(owner, lineStart, lineStart);
        }
        continue;
      }
    }
    if (skipping) continue;

    const current = stack[stack.length - 1]!;
    if (current.state === 'body') continue;

    // Header line of the current part.
    if (lineLen === 0) {
      current.state = 'body';
      endOfHeader(current, lineStart, pos);
      continue;
    }
    const first = buf[lineStart]!;
    if (first === 0x20 || first === 0x09) {
      if (current.collecting) {
        const field = current.collecting;
        const prev = current[field] ?? '';
        if (prev.length < MAX_TRACKED_VALUE) current[field] = prev + buf.toString('latin1', lineStart, Math.min(lineEnd, lineStart + MAX_TRACKED_LINE));
      }
      continue;
    }
    current.collecting = null;
    // Only Content-Type and Content-Transfer-Encoding matter; check the name cheaply.
    if (lineLen >= 13 && (first === 0x43 || first === 0x63)) {
      const head = buf.toString('latin1', lineStart, Math.min(lineEnd, lineStart + 40)).toLowerCase();
      const m = /^(content-type|content-transfer-encoding)[ \t]*:/.exec(head);
      if (m) {
        const field = m[1] === 'content-type' ? 'contentType' : 'transferEncoding';
        if (current[field] === null) {
          const line = buf.toString('latin1', lineStart, Math.min(lineEnd, lineStart + MAX_TRACKED_LINE));
          current[field] = line.slice(line.indexOf(':') + 1);
          current.collecting = field;
        }
      }
    }
  }

  if (root.state === 'header') result.topContentType = parseContentType(root.contentType, 'text/plain').type;
  if (!skipToEnd && boundaries.length > 0) result.unterminated = true;
  if (result.tooDeep || result.tooManyParts) {
    if (!skipping) keep.push([keepFrom, len]);
    result.keep = keep.filter(([a, b]) => b > a);
  }
  return result;
}

function newEntity(depth: number, parentMultipart: string | null): Entity {
  return { depth, state: 'header', parentMultipart, contentType: null, transferEncoding: null, collecting: null, multipart: null };
}

function matchBoundary(
  buf: Buffer,
  lineStart: number,
  lineEnd: number,
  boundaries: Boundary[],
): { index: number; boundary: Boundary; terminator: boolean } | null {
  const lineLen = lineEnd - lineStart;
  for (let i = boundaries.length - 1; i >= 0; i--) {
    const b = boundaries[i]!;
    const bl = b.value.length;
    if (lineLen < bl + 2) continue;
    if (buf.compare(b.value, 0, bl, lineStart + 2, lineStart + 2 + bl) !== 0) continue;
    let end = lineStart + 2 + bl;
    let terminator = false;
    if (lineLen >= bl + 4 && buf[end] === 0x2d && buf[end + 1] === 0x2d) {
      terminator = true;
      end += 2;
    }
    let trailingOk = true;
    for (let j = end; j < lineEnd; j++) {
      if (buf[j] !== 0x20 && buf[j] !== 0x09) {
        trailingOk = false;
        break;
      }
    }
    if (!trailingOk) continue;
    return { index: i, boundary: b, terminator };
  }
  return null;
}

/** Minimal Content-Type reading: type, boundary and charset parameters (comments ignored). */
export function parseContentType(value: string | null, fallback: string): { type: string; boundary: string | null; charset: string | null } {
  if (!value) return { type: fallback, boundary: null, charset: null };
  const v = value.replace(/\([^()]*\)/g, ' ');
  const typeMatch = /^\s*([^\s;]+)/.exec(v);
  let type = typeMatch ? typeMatch[1]!.toLowerCase() : fallback;
  if (!type.includes('/')) type = fallback === 'message/rfc822' ? fallback : type === 'text' ? 'text/plain' : fallback;
  return { type, boundary: param(v, 'boundary'), charset: param(v, 'charset') };
}

function param(v: string, name: string): string | null {
  const re = new RegExp(`;\\s*${name}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^\\s;]+))`, 'i');
  const m = re.exec(v);
  if (!m) return null;
  const raw = m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? '');
  return raw === '' ? null : raw;
}
