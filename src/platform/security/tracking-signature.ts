/**
 * Signed ids for open-tracking pixels and click-tracking links.
 *
 * A token is `<k>.<id>.<mac>`: `k` is `o` (open) or `c` (click), `id` the base64url of the
 * tracked message's or link's id, `mac` a truncated HMAC-SHA256 (128 bits) over a domain tag,
 * the kind and the id. Everything is URL-safe. The token carries ONLY the id: the click handler
 * looks up the destination stored for that link id and redirects there, and never takes a URL
 * from the request, so a token cannot be turned into an open redirect. Signing the kind means
 * an open token cannot be replayed as a click token and the reverse.
 *
 * The secret should be derived for this purpose only, e.g. `deriveKey(keyring, 'tracking')`
 * from secret-box.ts. Several secrets may be given to verify during a rotation: the first signs.
 */

import crypto from 'node:crypto';

export type TrackingKind = 'open' | 'click';

export type TrackingSecret = string | Buffer;

const KIND_CODE: Record<TrackingKind, string> = { open: 'o', click: 'c' };
const CODE_KIND: Record<string, TrackingKind> = { o: 'open', c: 'click' };
const DOMAIN = 'mailroom tracking v1';
const MAC_BYTES = 16;
const MAX_ID_LENGTH = 200;
const MAX_TOKEN_LENGTH = 512;
const TOKEN_RE = /^([oc])\.([A-Za-z0-9_-]{1,300})\.([A-Za-z0-9_-]{22})$/;

function secretBytes(secret: TrackingSecret): Buffer {
  const b = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  if (b.length < 16) throw new Error('A tracking secret must be at least 16 bytes.');
  return b;
}

function mac(secret: TrackingSecret, kind: TrackingKind, id: string): Buffer {
  return crypto
    .createHmac('sha256', secretBytes(secret))
    .update(`${DOMAIN}\0${kind}\0${id}`, 'utf8')
    .digest()
    .subarray(0, MAC_BYTES);
}

function secretsOf(secret: TrackingSecret | readonly TrackingSecret[]): readonly TrackingSecret[] {
  const list = Array.isArray(secret) ? (secret as readonly TrackingSecret[]) : [secret as TrackingSecret];
  if (list.length === 0) throw new Error('No tracking secret given.');
  return list;
}

/** Signs a message id (open) or link id (click) into a URL-safe token. */
export function signTrackingId(
  kind: TrackingKind,
  id: string,
  secret: TrackingSecret | readonly TrackingSecret[],
): string {
  if (kind !== 'open' && kind !== 'click') throw new Error(`Unknown tracking kind ${String(kind)}.`);
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) {
    throw new Error(`A tracking id must be 1 to ${MAX_ID_LENGTH} characters.`);
  }
  const first = secretsOf(secret)[0]!;
  const encodedId = Buffer.from(id, 'utf8').toString('base64url');
  return `${KIND_CODE[kind]}.${encodedId}.${mac(first, kind, id).toString('base64url')}`;
}

/**
 * Checks a token and returns what it was signed for, or null for anything else (changed,
 * truncated, signed with another secret, or not a token). Constant time in the MAC comparison.
 * Pass `expected` to accept only one kind (the click route should pass 'click').
 */
export function verifyTrackingId(
  token: string,
  secret: TrackingSecret | readonly TrackingSecret[],
  expected?: TrackingKind,
): { kind: TrackingKind; id: string } | null {
  const secrets = secretsOf(secret);
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return null;
  const m = TOKEN_RE.exec(token);
  if (!m) return null;
  const [, code, encodedId, macText] = m as unknown as [string, string, string, string];
  const kind = CODE_KIND[code];
  if (!kind || (expected && kind !== expected)) return null;
  const idBytes = Buffer.from(encodedId, 'base64url');
  // Only the canonical encoding is accepted, so each id has exactly one valid token.
  if (idBytes.toString('base64url') !== encodedId) return null;
  const id = idBytes.toString('utf8');
  if (Buffer.from(id, 'utf8').toString('base64url') !== encodedId) return null; // not valid UTF-8
  if (id.length === 0 || id.length > MAX_ID_LENGTH) return null;
  const given = Buffer.from(macText, 'base64url');
  if (given.length !== MAC_BYTES || given.toString('base64url') !== macText) return null;
  let ok = false;
  for (const s of secrets) {
    // Check every secret (no early exit) so timing does not reveal which one matched.
    if (crypto.timingSafeEqual(mac(s, kind, id), given)) ok = true;
  }
  return ok ? { kind, id } : null;
}
