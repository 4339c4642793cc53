/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): a `whsec_<base64>` secret per
 * endpoint; each attempt carries `webhook-id` (stable across attempts), `webhook-timestamp` (seconds,
 * of this attempt) and `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">` keyed with
 * the secret's base64-decoded bytes.
 */
import crypto from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';

/** A new signing secret: whsec_ and 32 random bytes in base64. */
export function newSigningSecret(): string {
  return SECRET_PREFIX + crypto.randomBytes(32).toString('base64');
}

/** Signing keys by secret, decoded once (an endpoint signs every delivery with the same one). */
const keys = new Map<string, crypto.KeyObject>();

function keyOf(secret: string): crypto.KeyObject {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.createSecretKey(Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64'));
    if (keys.size >= 1000) keys.clear();
    keys.set(secret, key);
  }
  return key;
}

/** The `v1,<signature>` of one attempt. */
export function sign(secret: string, id: string, timestampSeconds: number, body: string): string {
  return `v1,${crypto.createHmac('sha256', keyOf(secret)).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
}

/**
 * The three Standard Webhooks headers of one attempt. Several secrets (during a rotation's overlap: the
 * new one first, then the previous one) give several space-separated signatures; a receiver accepts the
 * delivery when any of them verifies with its secret.
 */
export function signatureHeaders(secrets: string | readonly string[], id: string, timestampSeconds: number, body: string): Record<string, string> {
  return { 'webhook-id': id, 'webhook-timestamp': String(timestampSeconds), 'webhook-signature': signatures(secrets, id, timestampSeconds, body) };
}

/** The `webhook-signature` header's value: one `v1,<signature>` per secret, space-separated. */
export function signatures(secrets: string | readonly string[], id: string, timestampSeconds: number, body: string): string {
  if (typeof secrets === 'string') return sign(secrets, id, timestampSeconds, body);
  if (secrets.length === 1) return sign(secrets[0]!, id, timestampSeconds, body);
  return secrets.map((s) => sign(s, id, timestampSeconds, body)).join(' ');
}
