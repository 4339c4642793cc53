/**
 * Passwords and API tokens.
 *
 * Passwords: scrypt with a per-hash random salt; the cost parameters travel inside the stored
 * string (`scrypt$N$r$p$salt$hash`, salt and hash in unpadded base64), so hashes made with any
 * cost verify, and the cost can be raised later (`needsRehash`).
 *
 * API tokens and session ids are random and long, so they are stored as a plain SHA-256
 * (`hashToken`): a slow hash adds nothing against 190 bits of entropy, and lookups stay indexed.
 */

import crypto from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(crypto.scrypt) as (
  password: crypto.BinaryLike,
  salt: crypto.BinaryLike,
  keylen: number,
  options: crypto.ScryptOptions,
) => Promise<Buffer>;

export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  N: number;
  /** Block size. */
  r: number;
  /** Parallelism. */
  p: number;
}

/** Default cost: N=2^15, r=8, p=1 (about 32 MiB and 50-100 ms per hash on a server core). */
export const DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = Object.freeze({ N: 2 ** 15, r: 8, p: 1 });

const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** Bounds for parameters read back from a stored hash, so a corrupt row cannot cost minutes. */
const LIMITS = { minLogN: 10, maxLogN: 20, maxR: 32, maxP: 16 } as const;
/** Longer input is refused outright; no real password is this long. */
export const MAX_PASSWORD_LENGTH = 1024;

function validParams({ N, r, p }: ScryptParams): boolean {
  return (
    Number.isSafeInteger(N) &&
    N >= 2 ** LIMITS.minLogN &&
    N <= 2 ** LIMITS.maxLogN &&
    (N & (N - 1)) === 0 &&
    Number.isSafeInteger(r) &&
    r >= 1 &&
    r <= LIMITS.maxR &&
    Number.isSafeInteger(p) &&
    p >= 1 &&
    p <= LIMITS.maxP
  );
}

function maxmemFor({ N, r, p }: ScryptParams): number {
  // scrypt needs 128*N*r bytes for V plus 128*r*p for B; leave headroom for the rest.
  return 128 * N * r + 128 * r * p + 16 * 1024 * 1024;
}

function b64(buf: Buffer): string {
  return buf.toString('base64').replace(/=+$/, '');
}

function unb64(text: string): Buffer | null {
  if (!/^[A-Za-z0-9+/]+$/.test(text)) return null;
  return Buffer.from(text, 'base64');
}

/** Unicode passwords are compared in NFC, so the same password typed on two keyboards matches. */
function passwordBytes(password: string): Buffer {
  return Buffer.from(password.normalize('NFC'), 'utf8');
}

async function derive(password: string, salt: Buffer, params: ScryptParams, keylen: number): Promise<Buffer> {
  return scryptAsync(passwordBytes(password), salt, keylen, {
    N: params.N,
    r: params.r,
    p: params.p,
    maxmem: maxmemFor(params),
  });
}

/**
 * Hashes a password: `scrypt$32768$8$1$<salt>$<hash>`. `params` is for tests (a low N keeps
 * them fast) and for future cost increases; production code should leave it out.
 */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): Promise<string> {
  if (typeof password !== 'string') throw new TypeError('A password must be a string.');
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new Error(`A password cannot be longer than ${MAX_PASSWORD_LENGTH} characters.`);
  }
  if (!validParams(params)) throw new Error(`Invalid scrypt parameters ${JSON.stringify(params)}.`);
  const salt = crypto.randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, params, HASH_BYTES);
  return `scrypt$${params.N}$${params.r}$${params.p}$${b64(salt)}$${b64(hash)}`;
}

interface ParsedHash {
  params: ScryptParams;
  salt: Buffer;
  hash: Buffer;
}

function parseHash(stored: string): ParsedHash | null {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [, n, r, p, saltText, hashText] = parts as [string, string, string, string, string, string];
  if (![n, r, p].every((x) => /^[1-9][0-9]{0,7}$/.test(x))) return null;
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  if (!validParams(params)) return null;
  const salt = unb64(saltText);
  const hash = unb64(hashText);
  if (!salt || !hash || salt.length < 8 || hash.length < 16 || hash.length > 64) return null;
  return { params, salt, hash };
}

let dummy: Promise<string> | undefined;
/** A hash of a random password at the default cost, made once, for verifying unknown users. */
function dummyHash(): Promise<string> {
  dummy ??= hashPassword(crypto.randomBytes(18).toString('base64'));
  return dummy;
}

/**
 * Checks a password against a stored hash in constant time. Returns false for a wrong
 * password and for a malformed hash (fails closed). Pass `null`/`undefined` when the user does
 * not exist: a dummy hash at the default cost is verified instead, so timing does not tell
 * which accounts exist.
 */
export async function verifyPassword(password: string, stored: string | null | undefined): Promise<boolean> {
  const real = typeof stored === 'string';
  const parsed = parseHash(real ? stored : await dummyHash());
  if (!parsed) return false;
  if (typeof password !== 'string' || password.length > MAX_PASSWORD_LENGTH) {
    // Do the same work anyway, then fail.
    await derive('', parsed.salt, parsed.params, parsed.hash.length);
    return false;
  }
  const candidate = await derive(password, parsed.salt, parsed.params, parsed.hash.length);
  return crypto.timingSafeEqual(candidate, parsed.hash) && real;
}

/**
 * True when a stored hash is weaker than `params` (or unreadable): re-hash the password after a
 * successful sign-in.
 */
export function needsRehash(stored: string, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): boolean {
  const parsed = parseHash(stored);
  if (!parsed) return true;
  return parsed.params.N < params.N || parsed.params.r < params.r || parsed.params.p < params.p;
}

// ---------------------------------------------------------------------------------------------
// Random secrets

/** No 0/O/o, 1/l/I: generated passwords are read aloud and typed from screens. */
const READABLE = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function randomString(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[crypto.randomInt(alphabet.length)];
  return out;
}

/** A random password of readable characters (default 20, about 116 bits). */
export function generatePassword(length = 20): string {
  if (!Number.isInteger(length) || length < 12 || length > 256) throw new Error('Generated passwords are 12 to 256 characters.');
  return randomString(READABLE, length);
}

/** Length of the random part of an API token. */
export const TOKEN_RANDOM_LENGTH = 32;

/**
 * A new API token: `<prefix>_` followed by 32 base62 characters (about 190 bits), e.g.
 * `generateToken('mr')` -> `mr_7Gq...`. The prefix lets people and secret scanners recognise
 * the token. Store only `hashToken(token)`; show the token once.
 */
export function generateToken(prefix = 'mr'): string {
  if (!/^[a-z][a-z0-9]{0,15}_?$/i.test(prefix)) throw new Error(`Invalid token prefix "${prefix}".`);
  const p = prefix.endsWith('_') ? prefix : `${prefix}_`;
  return p + randomString(BASE62, TOKEN_RANDOM_LENGTH);
}

/** SHA-256 hex of a token or session id: what the database stores and looks up by. */
export function hashToken(token: string): string {
  return crypto.createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time comparison of two strings (for CSRF tokens and similar). */
export function safeEqual(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a, 'utf8').digest();
  const hb = crypto.createHash('sha256').update(b, 'utf8').digest();
  return crypto.timingSafeEqual(ha, hb) && a === b;
}
