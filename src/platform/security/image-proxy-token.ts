/**
 * A session's image-proxy token: lets the sandboxed email frame load images through the proxy.
 *
 * Why it exists: the web app renders email in `<iframe sandbox="">` (an opaque origin), so the
 * browser treats the frame's image requests as cross-site and does not send the SameSite=Lax
 * session cookie (checked in Chromium): the proxy would answer 401 to every image. The web app
 * appends this token instead (`/api/v1/image-proxy?url=...&t=<token>`).
 *
 * The token is `<sessionIdHash>.<mac>`: the hash stored for the session (never the session id
 * itself) and a 128-bit HMAC of it under a key derived for this purpose, so neither a database
 * dump nor a guess yields a token. It grants nothing but the image proxy, for as long as the
 * session lives: signing out, expiry or deactivating the user ends it (the route looks the session
 * up on every use).
 */
import crypto from 'node:crypto';

const DOMAIN = 'mailroom image proxy v1';
const TOKEN_RE = /^([0-9a-f]{64})\.([A-Za-z0-9_-]{22})$/;

function mac(secret: string, sessionIdHash: string): Buffer {
  return crypto.createHmac('sha256', secret).update(`${DOMAIN}\0${sessionIdHash}`, 'utf8').digest().subarray(0, 16);
}

/** The token for a session, from the session's stored id hash. */
export function signImageProxyToken(sessionIdHash: string, secret: string): string {
  return `${sessionIdHash}.${mac(secret, sessionIdHash).toString('base64url')}`;
}

/** The session id hash a token was made for, or null when it is not a valid token. */
export function verifyImageProxyToken(token: string, secret: string): string | null {
  if (typeof token !== 'string') return null;
  const m = TOKEN_RE.exec(token);
  if (!m) return null;
  const given = Buffer.from(m[2]!, 'base64url');
  if (given.length !== 16 || given.toString('base64url') !== m[2]) return null;
  return crypto.timingSafeEqual(mac(secret, m[1]!), given) ? m[1]! : null;
}
