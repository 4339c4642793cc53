/**
 * The image token: lets the sandboxed email frame load ONE message's images through the proxy, for a
 * short while.
 *
 * Why it exists: the web app renders email in `<iframe sandbox="">` (an opaque origin), so the
 * browser treats the frame's image requests as cross-site and does not send the SameSite=Lax
 * session cookie (checked in Chromium): the proxy would answer 401 to every image. The HTML endpoint
 * of a message hands the reader a token for that message, and the web app appends it
 * (`/api/v1/image-proxy?url=...&m=<messageId>&t=<token>`).
 *
 * The token is `<sessionIdHash>.<expiresAt base36>.<mac>`: the hash stored for the reader's session
 * (never the session id itself), when it stops working (10 minutes after it was issued), and a
 * 128-bit HMAC over both and the message id under a key derived for this purpose. So a token read out
 * of one message's frame opens no other message's images (the message id is part of what is signed),
 * stops working after its ten minutes, and dies earlier with its session (signing out, expiry or a
 * deactivated user: the route looks the session up on every use). Neither a database dump nor a guess
 * yields a token.
 */
import crypto from 'node:crypto';

const DOMAIN = 'mailroom image proxy v2';
const TOKEN_RE = /^([0-9a-f]{64})\.([0-9a-z]{1,11})\.([A-Za-z0-9_-]{22})$/;

/** How long an image token works after it was issued. */
export const IMAGE_TOKEN_TTL_MS = 10 * 60_000;

function mac(secret: string, sessionIdHash: string, messageId: string, expiresAt: number): Buffer {
  return crypto.createHmac('sha256', secret).update(`${DOMAIN}\0${sessionIdHash}\0${messageId}\0${expiresAt}`, 'utf8').digest().subarray(0, 16);
}

export interface ImageTokenClaims {
  /** The stored hash of the reader's session. */
  sessionIdHash: string;
  /** The message whose images it opens. */
  messageId: string;
  /** Epoch ms after which it is refused. */
  expiresAt: number;
}

/** A token for the reader's session and one message, working until `expiresAt`. */
export function signImageToken(claims: ImageTokenClaims, secret: string): string {
  const exp = Math.floor(claims.expiresAt);
  return `${claims.sessionIdHash}.${exp.toString(36)}.${mac(secret, claims.sessionIdHash, claims.messageId, exp).toString('base64url')}`;
}

export type ImageTokenCheck = { ok: true; sessionIdHash: string; expiresAt: number } | { ok: false; reason: 'invalid' | 'expired' };

/**
 * Checks a token for `messageId` at `now`. A token made for another message, altered, or not a token at
 * all is `invalid`; a genuine one past its time is `expired` (the reader opens the message again).
 */
export function verifyImageToken(token: string, messageId: string, now: number, secret: string): ImageTokenCheck {
  if (typeof token !== 'string' || typeof messageId !== 'string' || !messageId) return { ok: false, reason: 'invalid' };
  const m = TOKEN_RE.exec(token);
  if (!m) return { ok: false, reason: 'invalid' };
  const expiresAt = parseInt(m[2]!, 36);
  if (!Number.isSafeInteger(expiresAt) || expiresAt.toString(36) !== m[2]) return { ok: false, reason: 'invalid' };
  const given = Buffer.from(m[3]!, 'base64url');
  if (given.length !== 16 || given.toString('base64url') !== m[3]) return { ok: false, reason: 'invalid' };
  if (!crypto.timingSafeEqual(mac(secret, m[1]!, messageId, expiresAt), given)) return { ok: false, reason: 'invalid' };
  if (now >= expiresAt) return { ok: false, reason: 'expired' };
  return { ok: true, sessionIdHash: m[1]!, expiresAt };
}
