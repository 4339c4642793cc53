import { afterEach, describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  SecretKeyError,
  SecretOpenError,
  deriveKey,
  generateSecretKey,
  keyFromBytes,
  keyringOf,
  loadOrCreateKey,
  needsReseal,
  open,
  parseSecretKey,
  seal,
  sealedKeyId,
} from './secret-box.js';

const key = keyFromBytes(crypto.randomBytes(32));
const other = keyFromBytes(crypto.randomBytes(32));

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await fs.mkdtemp(path.join(os.tmpdir(), 'mailroom-secret-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
});

describe('seal / open', () => {
  it.each(['imap password', '', 'pässwörd 🔑', 'x'.repeat(100_000), 'a:b:c', '\u0000binary\u0000'])(
    'round-trips %j',
    (plaintext) => {
      const sealed = seal(plaintext, key);
      expect(sealed).toMatch(/^v1\.[0-9a-f]{8}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]*$/);
      expect(sealed).not.toContain(plaintext || '\u0001');
      expect(open(sealed, key)).toBe(plaintext);
    },
  );

  it('uses a fresh IV each time', () => {
    const a = seal('same', key);
    const b = seal('same', key);
    expect(a).not.toBe(b);
    expect(a.split(':')[1]).not.toBe(b.split(':')[1]);
  });

  it('names the key it was sealed with', () => {
    expect(sealedKeyId(seal('x', key))).toBe(key.id);
    expect(sealedKeyId('plain text')).toBeNull();
  });

  function flip(sealed: string, part: number): string {
    const parts = sealed.split(':');
    const p = parts[part]!;
    const bytes = Buffer.from(p, 'base64url');
    bytes[0]! ^= 1;
    parts[part] = bytes.toString('base64url');
    return parts.join(':');
  }

  const sealed = seal('the real password', key);
  const truncated = (() => {
    const parts = sealed.split(':');
    parts[3] = Buffer.from(parts[3]!, 'base64url').subarray(0, -1).toString('base64url');
    return parts.join(':');
  })();
  const tampered: Array<[string, string, string]> = [
    ['flipped IV bit', flip(sealed, 1), 'tampered_or_wrong_key'],
    ['flipped tag bit', flip(sealed, 2), 'tampered_or_wrong_key'],
    ['flipped ciphertext bit', flip(sealed, 3), 'tampered_or_wrong_key'],
    ['truncated ciphertext', truncated, 'tampered_or_wrong_key'],
    ['other key id', sealed.replace(/^v1\.[0-9a-f]{8}/, 'v1.00000000'), 'unknown_key'],
    ['version changed', sealed.replace(/^v1/, 'v2'), 'malformed'],
    ['no key id', sealed.replace(/^v1\.[0-9a-f]{8}/, 'v1'), 'malformed'],
    ['short tag', sealed.replace(/:([A-Za-z0-9_-]{22}):/, ':AAAA:'), 'malformed'],
    ['non-canonical base64', sealed.replace(/:([A-Za-z0-9_-]{21})[A-Za-z0-9_-]:/, (_m, a) => `:${a}${'B'}:`), 'malformed'],
    ['empty', '', 'malformed'],
    ['plaintext stored by mistake', 'hunter2', 'malformed'],
  ];
  it.each(tampered)('refuses a %s', (_label, value, reason) => {
    if (value === sealed) return; // the non-canonical edit can be a no-op when the last char is already B
    expect(() => open(value, key)).toThrow(SecretOpenError);
    try {
      open(value, key);
    } catch (e) {
      expect((e as SecretOpenError).reason).toBe(reason);
      expect((e as SecretOpenError).code).toBe('secret_unreadable');
      expect((e as Error).message).not.toContain('the real password');
    }
  });

  it('refuses the wrong key', () => {
    const forged = seal('x', other).replace(/^v1\.[0-9a-f]{8}/, `v1.${key.id}`);
    expect(() => open(forged, key)).toThrow(expect.objectContaining({ reason: 'tampered_or_wrong_key' }));
    expect(() => open(seal('x', key), other)).toThrow(expect.objectContaining({ reason: 'unknown_key' }));
  });

  it('binds a context: a value cannot move to another record', () => {
    const s = seal('pw', key, { context: 'connection:con_1:imap_password' });
    expect(open(s, key, { context: 'connection:con_1:imap_password' })).toBe('pw');
    expect(() => open(s, key, { context: 'connection:con_2:imap_password' })).toThrow(SecretOpenError);
    expect(() => open(s, key)).toThrow(SecretOpenError);
    expect(() => open(seal('pw', key), key, { context: 'x' })).toThrow(SecretOpenError);
  });

  it('rotates: previous keys open, the current key seals', () => {
    const old = seal('pw', other);
    const ring = keyringOf(key, [other]);
    expect(open(old, ring)).toBe('pw');
    expect(needsReseal(old, ring)).toBe(true);
    const fresh = seal(open(old, ring), ring);
    expect(sealedKeyId(fresh)).toBe(key.id);
    expect(needsReseal(fresh, ring)).toBe(false);
    expect(open(fresh, [other, key])).toBe('pw');
  });

  it('derives independent keys per purpose', () => {
    const a = deriveKey(key, 'tracking');
    expect(a).toHaveLength(32);
    expect(deriveKey(keyringOf(key), 'tracking').equals(a)).toBe(true);
    expect(deriveKey(key, 'sessions').equals(a)).toBe(false);
    expect(deriveKey(other, 'tracking').equals(a)).toBe(false);
    expect(a.equals(key.key)).toBe(false);
  });
});

describe('parseSecretKey', () => {
  const raw = crypto.randomBytes(32);
  it.each([
    ['base64', raw.toString('base64')],
    ['base64 unpadded', raw.toString('base64').replace(/=$/, '')],
    ['base64url', raw.toString('base64url')],
    ['hex', raw.toString('hex')],
    ['HEX', raw.toString('hex').toUpperCase()],
    ['with whitespace', `  ${raw.toString('base64')}\n`],
  ])('reads %s', (_label, text) => {
    expect(parseSecretKey(text).key.equals(raw)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['short', crypto.randomBytes(16).toString('base64')],
    ['long', crypto.randomBytes(48).toString('base64')],
    ['a passphrase', 'correct horse battery staple'],
    ['hex of 31 bytes', crypto.randomBytes(31).toString('hex')],
    ['all zero', Buffer.alloc(32).toString('base64')],
  ])('refuses %s', (_label, text) => {
    expect(() => parseSecretKey(text)).toThrow(SecretKeyError);
    expect(() => parseSecretKey(text)).toThrow(/MAILROOM_SECRET_KEY .*openssl rand -base64 32/);
  });

  it('generateSecretKey makes a key it can read', () => {
    expect(parseSecretKey(generateSecretKey()).key).toHaveLength(32);
  });
});

describe('loadOrCreateKey', () => {
  const isPosix = process.platform !== 'win32';

  it('creates <dataDir>/secret.key with mode 0600, then reads the same key', async () => {
    const dir = path.join(await tempDir(), 'data');
    const warnings: string[] = [];
    const first = await loadOrCreateKey({ dataDir: dir, warn: (m) => warnings.push(m) });
    expect(first.source).toBe('file');
    expect(first.path).toBe(path.join(dir, 'secret.key'));
    if (isPosix) {
      expect((await fs.stat(first.path!)).mode & 0o777).toBe(0o600);
      expect((await fs.stat(dir)).mode & 0o077).toBe(0);
    }
    expect(warnings.join()).toMatch(/Created a new secret key/);
    const second = await loadOrCreateKey({ dataDir: dir, warn: (m) => warnings.push(m) });
    expect(second.current.id).toBe(first.current.id);
    expect(open(seal('pw', first), second)).toBe('pw');
    expect((await fs.readdir(dir)).sort()).toEqual(['secret.key']);
  });

  it('two processes starting at once end up with one key', async () => {
    const dir = await tempDir();
    const rings = await Promise.all(
      Array.from({ length: 8 }, () => loadOrCreateKey({ dataDir: dir, warn: () => {} })),
    );
    expect(new Set(rings.map((r) => r.current.id)).size).toBe(1);
    expect((await fs.readdir(dir)).sort()).toEqual(['secret.key']);
  });

  it.runIf(isPosix)('fixes a group/world readable key file to 0600 and warns', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'secret.key');
    const text = generateSecretKey();
    await fs.writeFile(file, text, { mode: 0o644 });
    await fs.chmod(file, 0o644);
    const warnings: string[] = [];
    const ring = await loadOrCreateKey({ dataDir: dir, warn: (m) => warnings.push(m) });
    expect(ring.current.key.equals(Buffer.from(text, 'base64'))).toBe(true);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/readable by other users \(mode 644\); changed it to 600/);
  });

  it('refuses to start on a damaged key file and does not replace it', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'secret.key');
    await fs.writeFile(file, 'not a key\n', { mode: 0o600 });
    await expect(loadOrCreateKey({ dataDir: dir, warn: () => {} })).rejects.toThrow(SecretKeyError);
    await expect(loadOrCreateKey({ dataDir: dir, warn: () => {} })).rejects.toThrow(/secret\.key/);
    expect(await fs.readFile(file, 'utf8')).toBe('not a key\n');
  });

  it('prefers MAILROOM_SECRET_KEY and creates no file', async () => {
    const dir = path.join(await tempDir(), 'data');
    const text = generateSecretKey();
    const ring = await loadOrCreateKey({ secretKey: text, dataDir: dir, warn: () => {} });
    expect(ring.source).toBe('env');
    expect(ring.current.key.equals(Buffer.from(text, 'base64'))).toBe(true);
    await expect(fs.stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('warns when the env key differs from an existing key file', async () => {
    const dir = await tempDir();
    await loadOrCreateKey({ dataDir: dir, warn: () => {} });
    const warnings: string[] = [];
    await loadOrCreateKey({ secretKey: generateSecretKey(), dataDir: dir, warn: (m) => warnings.push(m) });
    expect(warnings.join()).toMatch(/differs from the key in .*secret\.key/);
  });

  it('refuses a malformed MAILROOM_SECRET_KEY', async () => {
    const dir = await tempDir();
    await expect(loadOrCreateKey({ secretKey: 'hunter2', dataDir: dir })).rejects.toThrow(
      /MAILROOM_SECRET_KEY must be 32 random bytes/,
    );
  });

  it('loads previous keys for opening', async () => {
    const dir = await tempDir();
    const old = generateSecretKey();
    const oldKey = parseSecretKey(old);
    const ring = await loadOrCreateKey({
      secretKey: generateSecretKey(),
      previousSecretKeys: `${old}, ${generateSecretKey()}`,
      dataDir: dir,
    });
    expect(ring.previous).toHaveLength(2);
    expect(open(seal('pw', oldKey), ring)).toBe('pw');
    await expect(
      loadOrCreateKey({ previousSecretKeys: 'nope', dataDir: dir }),
    ).rejects.toThrow(/MAILROOM_SECRET_KEY_PREVIOUS entry 1/);
  });
});
