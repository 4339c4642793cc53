/**
 * Outlook's conversation threading headers, [MS-OXOMSG] 2.2.1.3 (PidTagConversationIndex) as sent in
 * `Thread-Index` (base64), and `Thread-Topic`. Outlook groups a conversation by them, not by References.
 *
 *   header block (22 bytes): 6 bytes of time (the upper 48 bits of a FILETIME, big-endian; its first byte
 *                            is 0x01 for any date between 1970 and 2200) + a 16-byte GUID
 *   child block  (5 bytes):  1 bit DeltaCode, 31 bits TimeDelta (big-endian), 4 random bits, 4 bits of
 *                            sequence count. The delta is the reply's FILETIME minus the header's: while it
 *                            is below 2^48, DeltaCode 0 and TimeDelta is bits 18..48 of the delta; else
 *                            DeltaCode 1 and bits 23..53.
 *
 * A reply's index is its parent's (header and child blocks) followed by one new child block. Pure: the
 * caller passes the time, the GUID bytes and the random nibble.
 */
import { baseSubject } from '../../ingest/domain/subject.js';

/** 100-ns intervals between 1601-01-01 (FILETIME's epoch) and 1970-01-01. */
const EPOCH_DIFF = 116_444_736_000_000_000n;
const HEADER = 22;
const CHILD = 5;
/** Beyond this many child blocks a parent's index is not extended any further (only its header is kept). */
export const MAX_CHILD_BLOCKS = 100;

export function filetimeOf(ms: number): bigint {
  return BigInt(Math.max(0, Math.floor(ms))) * 10_000n + EPOCH_DIFF;
}

export function msOfFiletime(ft: bigint): number {
  return Number((ft - EPOCH_DIFF) / 10_000n);
}

export interface ThreadIndex {
  /** The header block's time (milliseconds since 1970; the FILETIME's lower 16 bits are not kept). */
  at: number;
  /** The conversation GUID, 32 lower-case hex digits. */
  guid: string;
  /** The child blocks' time deltas in milliseconds (approximate: the low bits are not kept) and their last nibble. */
  children: Array<{ deltaMs: number; low: number }>;
  bytes: Uint8Array;
}

/** Reads a Thread-Index value; null unless it is base64 of a 22-byte header and whole 5-byte child blocks. */
export function decodeThreadIndex(value: string | null | undefined): ThreadIndex | null {
  if (!value) return null;
  const s = value.replace(/\s+/g, '');
  if (!s || !/^[A-Za-z0-9+/]+={0,2}$/.test(s) || s.length > 4096) return null;
  const bytes = new Uint8Array(Buffer.from(s, 'base64'));
  if (bytes.length < HEADER || (bytes.length - HEADER) % CHILD !== 0) return null;
  const headerFt = headerFiletime(bytes);
  if (headerFt < EPOCH_DIFF) return null;
  const guid = Buffer.from(bytes.subarray(6, HEADER)).toString('hex');
  const children: ThreadIndex['children'] = [];
  for (let off = HEADER; off < bytes.length; off += CHILD) {
    const word = ((bytes[off]! << 24) >>> 0) + (bytes[off + 1]! << 16) + (bytes[off + 2]! << 8) + bytes[off + 3]!;
    const code = word >>> 31;
    const td = BigInt(word & 0x7fffffff);
    const delta = code ? td << 23n : td << 18n;
    children.push({ deltaMs: Number(delta / 10_000n), low: bytes[off + 4]! });
  }
  return { at: msOfFiletime(headerFt), guid, children, bytes };
}

/** The exact FILETIME of a header block (its 6 bytes are the FILETIME's upper 48 bits). */
function headerFiletime(bytes: Uint8Array): bigint {
  let hi = 0n;
  for (let i = 0; i < 6; i++) hi = (hi << 8n) | BigInt(bytes[i]!);
  return hi << 16n;
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** A new conversation's index: the time `now` and a 16-byte GUID. */
export function newThreadIndex(now: number, guid: Uint8Array): string {
  if (guid.length !== 16) throw new TypeError('a Thread-Index GUID has 16 bytes');
  const out = new Uint8Array(HEADER);
  const hi = filetimeOf(now) >> 16n;
  for (let i = 0; i < 6; i++) out[i] = Number((hi >> BigInt(8 * (5 - i))) & 0xffn);
  out.set(guid, 6);
  return b64(out);
}

/** The 5-byte child block of a reply written at `now` under a header whose FILETIME is `headerFt`. */
export function childBlock(headerFt: bigint, now: number, random: number, sequence: number): Uint8Array {
  let delta = filetimeOf(now) - headerFt;
  if (delta < 0n) delta = 0n; // a sender's clock ahead of ours: the reply sorts right after its parent
  const code = delta < 1n << 48n ? 0 : 1;
  const td = Number((code ? delta >> 23n : delta >> 18n) & 0x7fffffffn);
  const word = ((code << 31) | td) >>> 0;
  return new Uint8Array([(word >>> 24) & 0xff, (word >>> 16) & 0xff, (word >>> 8) & 0xff, word & 0xff, ((random & 0x0f) << 4) | (sequence & 0x0f)]);
}

/**
 * The Thread-Index of a reply: the parent's index (header and child blocks; only its header when it
 * already has MAX_CHILD_BLOCKS) plus one child block for `now`; a new header from `now` and `guid` when
 * the parent has no (valid) index.
 */
export function replyThreadIndex(p: { parent: string | null | undefined; now: number; guid: Uint8Array; random: number }): string {
  const parent = decodeThreadIndex(p.parent);
  if (!parent) return newThreadIndex(p.now, p.guid);
  const base = parent.children.length >= MAX_CHILD_BLOCKS ? parent.bytes.subarray(0, HEADER) : parent.bytes;
  const child = childBlock(headerFiletime(parent.bytes), p.now, p.random, (base.length - HEADER) / CHILD + 1);
  const out = new Uint8Array(base.length + CHILD);
  out.set(base, 0);
  out.set(child, base.length);
  return b64(out);
}

/**
 * The Thread-Topic of a reply: the parent's, kept as it is (Outlook matches on it); the base subject
 * (no Re:/Fwd: prefixes) when the parent has none. Line breaks never pass into the header.
 */
export function replyThreadTopic(parentTopic: string | null | undefined, subject: string): string {
  const kept = (parentTopic ?? '').replace(/[\r\n]+/g, ' ').trim();
  if (kept) return kept.slice(0, 998);
  return (baseSubject(subject) || subject).replace(/[\r\n]+/g, ' ').trim().slice(0, 998);
}
