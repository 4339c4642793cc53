/**
 * Credentials at rest: mail passwords and OAuth tokens are sealed with AES-256-GCM before they
 * reach the database, and opened only in the process that uses them.
 *
 * Sealed format: `v1.<kid>:<iv>:<tag>:<ciphertext>`, the three parts base64url without padding,
 * a random 12-byte IV per seal and a 16-byte tag. `kid` is a short fingerprint of the key (not
 * the key), so a value sealed under an older key can be recognised and opened during rotation.
 * The header `v1.<kid>` and an optional caller context (e.g. "connection:con_123:imap_password")
 * are authenticated as additional data: a value cannot be moved to another row or field.
 *
 * The key comes from MAILROOM_SECRET_KEY (32 bytes, base64 or hex) or from `<dataDir>/secret.key`,
 * created on first start with mode 0600. Older keys for opening only: MAILROOM_SECRET_KEY_PREVIOUS.
 */

import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

export const SECRET_KEY_ENV = 'MAILROOM_SECRET_KEY';
export const PREVIOUS_SECRET_KEYS_ENV = 'MAILROOM_SECRET_KEY_PREVIOUS';
export const SECRET_KEY_FILE = 'secret.key';

const VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface SecretKey {
  /** Fingerprint of the key (8 hex characters); safe to log and store. */
  readonly id: string;
  readonly key: Buffer;
}

export interface Keyring {
  /** Seals with this one. */
  readonly current: SecretKey;
  /** Opens with these too (older keys during rotation). */
  readonly previous: readonly SecretKey[];
  readonly source: 'env' | 'file';
  /** The key file, when source is 'file'. */
  readonly path?: string;
}

/** The configured key is missing, malformed, or unreadable. Mailroom should refuse to start. */
export class SecretKeyError extends Error {
  readonly code = 'secret_key_invalid' as const;
  override readonly name = 'SecretKeyError';
}

export type SecretOpenFailure = 'malformed' | 'unknown_key' | 'tampered_or_wrong_key';

/** A sealed value could not be opened. The message never contains the value. */
export class SecretOpenError extends Error {
  readonly code = 'secret_unreadable' as const;
  override readonly name = 'SecretOpenError';
  constructor(
    readonly reason: SecretOpenFailure,
    message: string,
    readonly keyId?: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------
// Keys

/** Wraps 32 raw bytes as a key with its fingerprint. */
export function keyFromBytes(bytes: Buffer): SecretKey {
  if (bytes.length !== KEY_BYTES) throw new SecretKeyError(`A secret key must be ${KEY_BYTES} bytes (got ${bytes.length}).`);
  const id = crypto.createHmac('sha256', bytes).update('mailroom key id v1').digest('hex').slice(0, 8);
  return Object.freeze({ id, key: Buffer.from(bytes) });
}

/**
 * Parses a key written as 64 hex characters or as base64/base64url of 32 bytes.
 * `label` names where it came from, for the error message.
 */
export function parseSecretKey(text: string, label = SECRET_KEY_ENV): SecretKey {
  const s = text.trim();
  let bytes: Buffer | null = null;
  if (/^[0-9a-fA-F]{64}$/.test(s)) bytes = Buffer.from(s, 'hex');
  else if (/^[A-Za-z0-9+/_-]{42,44}={0,2}$/.test(s)) {
    const b = Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (b.length === KEY_BYTES) bytes = b;
  }
  if (!bytes) {
    throw new SecretKeyError(
      `${label} must be ${KEY_BYTES} random bytes written as base64 (44 characters) or hex (64 characters); ` +
        `generate one with: openssl rand -base64 32`,
    );
  }
  if (bytes.every((b) => b === bytes![0])) throw new SecretKeyError(`${label} is not random (all bytes are the same); generate one with: openssl rand -base64 32`);
  return keyFromBytes(bytes);
}

/** A new random key, base64: what goes into MAILROOM_SECRET_KEY or secret.key. */
export function generateSecretKey(): string {
  return crypto.randomBytes(KEY_BYTES).toString('base64');
}

export interface LoadKeyOptions {
  /** The key from the configuration (MAILROOM_SECRET_KEY); unset: the key file. */
  secretKey?: string;
  /** Older keys, comma- or space-separated (MAILROOM_SECRET_KEY_PREVIOUS). */
  previousSecretKeys?: string;
  /** Where secret.key lives (created, with the folder, if missing). */
  dataDir: string;
  /** Warnings for the operator (file mode fixed, key created...). Default: console.warn. */
  warn?: (message: string) => void;
}

function parsePrevious(raw: string | undefined): SecretKey[] {
  if (!raw || !raw.trim()) return [];
  return raw
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((k, i) => parseSecretKey(k, `${PREVIOUS_SECRET_KEYS_ENV} entry ${i + 1}`));
}

async function readKeyFile(file: string, warn: (m: string) => void): Promise<SecretKey | null> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new SecretKeyError(`Cannot read the secret key file ${file}: ${(err as Error).message}`);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new SecretKeyError(`The secret key path ${file} is not a regular file.`);
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
      warn(
        `The secret key file ${file} was readable by other users (mode ${(st.mode & 0o777).toString(8)}); ` +
          `changed it to 600. If others could read it, rotate the key.`,
      );
      await handle.chmod(0o600);
    }
    const text = await handle.readFile('utf8');
    return parseSecretKey(text, `The secret key file ${file}`);
  } finally {
    await handle.close();
  }
}

async function createKeyFile(file: string): Promise<void> {
  // Write a temp file, then link it into place: link fails if another process won the race,
  // and nobody ever reads a half-written key.
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`;
  const handle = await fs.open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(`${generateSecretKey()}\n`, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await fs.unlink(tmp).catch(() => undefined);
  }
}

/**
 * Loads the sealing key: MAILROOM_SECRET_KEY when set; otherwise `<dataDir>/secret.key`,
 * created (mode 0600, folder 0700) when missing. A key file readable by group or others is
 * fixed to 0600 with a warning. A malformed key (env or file) throws SecretKeyError: never
 * replaced silently, since every sealed credential depends on it.
 */
export async function loadOrCreateKey(opts: LoadKeyOptions): Promise<Keyring> {
  const warn = opts.warn ?? ((m: string) => console.warn(m));
  const previous = parsePrevious(opts.previousSecretKeys);
  const file = path.join(opts.dataDir, SECRET_KEY_FILE);

  const fromEnv = opts.secretKey;
  if (fromEnv && fromEnv.trim()) {
    const current = parseSecretKey(fromEnv);
    const onDisk = await readKeyFile(file, warn).catch(() => null);
    if (onDisk && onDisk.id !== current.id && !previous.some((k) => k.id === onDisk.id)) {
      warn(
        `${SECRET_KEY_ENV} differs from the key in ${file} (key id ${onDisk.id}); credentials sealed with the file's ` +
          `key cannot be opened unless it is listed in ${PREVIOUS_SECRET_KEYS_ENV}.`,
      );
    }
    return Object.freeze({ current, previous, source: 'env' as const });
  }

  await fs.mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  let current = await readKeyFile(file, warn);
  if (!current) {
    await createKeyFile(file);
    current = await readKeyFile(file, warn);
    if (!current) throw new SecretKeyError(`Could not create the secret key file ${file}.`);
    warn(
      `Created a new secret key in ${file} (key id ${current.id}). Back it up with the database: ` +
        `without it, stored mail passwords cannot be read.`,
    );
  }
  return Object.freeze({ current, previous, source: 'file' as const, path: file });
}

/** A keyring from a single key (tests, tools). */
export function keyringOf(current: SecretKey, previous: readonly SecretKey[] = []): Keyring {
  return Object.freeze({ current, previous, source: 'env' as const });
}

function isKeyring(k: SecretKey | Keyring): k is Keyring {
  return 'current' in k;
}

function allKeys(k: SecretKey | Keyring | readonly SecretKey[]): readonly SecretKey[] {
  if (Array.isArray(k)) return k as readonly SecretKey[];
  const one = k as SecretKey | Keyring;
  return isKeyring(one) ? [one.current, ...one.previous] : [one];
}

/**
 * A separate 32-byte key for another purpose (tracking-link signatures, session cookies...),
 * derived from the current key with HKDF-SHA256, so one secret configures everything and no
 * two purposes share a key.
 */
export function deriveKey(k: SecretKey | Keyring, purpose: string): Buffer {
  const key = isKeyring(k) ? k.current : k;
  if (!purpose) throw new Error('deriveKey needs a purpose.');
  return Buffer.from(crypto.hkdfSync('sha256', key.key, Buffer.alloc(0), `mailroom:${purpose}`, KEY_BYTES));
}

// ---------------------------------------------------------------------------------------------
// Seal / open

export interface SealOptions {
  /**
   * What the value is, e.g. `connection:con_123:imap_password`. Authenticated, not stored:
   * opening needs the same context.
   */
  context?: string;
}

function aad(header: string, context: string | undefined): Buffer {
  return Buffer.from(`${header}\0${context ?? ''}`, 'utf8');
}

/** Seals a string (UTF-8) with the current key: `v1.<kid>:<iv>:<tag>:<ct>`. */
export function seal(plaintext: string, key: SecretKey | Keyring, opts: SealOptions = {}): string {
  if (typeof plaintext !== 'string') throw new TypeError('seal() takes a string.');
  const k = isKeyring(key) ? key.current : key;
  const header = `${VERSION}.${k.id}`;
  const iv = crypto.randomBytes(IV_BYTES);
  const cipher = crypto.createCipheriv('aes-256-gcm', k.key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(header, opts.context));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return `${header}:${iv.toString('base64url')}:${tag.toString('base64url')}:${ct.toString('base64url')}`;
}

const SEALED_RE = /^v1\.([0-9a-f]{8}):([A-Za-z0-9_-]{16}):([A-Za-z0-9_-]{22}):([A-Za-z0-9_-]*)$/;

/** The key id a sealed value was made with, or null if it is not a sealed value. */
export function sealedKeyId(sealed: string): string | null {
  return SEALED_RE.exec(sealed)?.[1] ?? null;
}

/** True when `sealed` was made with a key other than the keyring's current one: seal it again. */
export function needsReseal(sealed: string, keyring: Keyring): boolean {
  return sealedKeyId(sealed) !== keyring.current.id;
}

/**
 * Opens a sealed value with whichever of the given keys made it. Throws SecretOpenError when
 * the value is malformed, was sealed with a key not given, or fails authentication (changed,
 * wrong key, or wrong context).
 */
export function open(sealed: string, keys: SecretKey | Keyring | readonly SecretKey[], opts: SealOptions = {}): string {
  const m = typeof sealed === 'string' ? SEALED_RE.exec(sealed) : null;
  if (!m) throw new SecretOpenError('malformed', 'This is not a sealed value Mailroom can read (expected v1.<kid>:...).');
  const [, kid, ivText, tagText, ctText] = m as unknown as [string, string, string, string, string];
  const key = allKeys(keys).find((k) => k.id === kid);
  if (!key) {
    throw new SecretOpenError(
      'unknown_key',
      `This value was sealed with key ${kid}, which is not loaded. Set ${SECRET_KEY_ENV} to that key, or list it in ` +
        `${PREVIOUS_SECRET_KEYS_ENV}.`,
      kid,
    );
  }
  const iv = Buffer.from(ivText, 'base64url');
  const tag = Buffer.from(tagText, 'base64url');
  const ct = Buffer.from(ctText, 'base64url');
  const canonical =
    iv.toString('base64url') === ivText && tag.toString('base64url') === tagText && ct.toString('base64url') === ctText;
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES || !canonical) {
    throw new SecretOpenError('malformed', 'This sealed value is damaged.', kid);
  }
  try {
    const decipher = crypto.createDecipheriv('aes-256-gcm', key.key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad(`${VERSION}.${kid}`, opts.context));
    decipher.setAuthTag(tag);
    const pt = Buffer.concat([decipher.update(ct), decipher.final()]);
    return pt.toString('utf8');
  } catch {
    throw new SecretOpenError(
      'tampered_or_wrong_key',
      'This sealed value failed its integrity check: it was changed, or it belongs to another record.',
      kid,
    );
  }
}
