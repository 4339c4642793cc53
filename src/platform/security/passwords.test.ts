import { describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import {
  DEFAULT_SCRYPT_PARAMS,
  generatePassword,
  generateToken,
  hashPassword,
  hashToken,
  needsRehash,
  safeEqual,
  verifyPassword,
} from './passwords.js';

// Low cost keeps the suite fast; the parameters travel in the hash, so verification is the same code.
const FAST = { N: 1024, r: 8, p: 1 };

describe('hashPassword / verifyPassword', () => {
  it('produces scrypt$N$r$p$salt$hash with a fresh salt each time', async () => {
    const a = await hashPassword('correct horse battery staple', FAST);
    const b = await hashPassword('correct horse battery staple', FAST);
    expect(a).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(a).not.toBe(b);
  });

  it('uses N=2^15, r=8, p=1 by default', async () => {
    const h = await hashPassword('default cost');
    expect(h.startsWith('scrypt$32768$8$1$')).toBe(true);
    expect(await verifyPassword('default cost', h)).toBe(true);
    expect(DEFAULT_SCRYPT_PARAMS).toEqual({ N: 32768, r: 8, p: 1 });
  });

  const cases: Array<[string, string, boolean]> = [
    ['hunter2', 'hunter2', true],
    ['hunter2', 'hunter3', false],
    ['hunter2', 'Hunter2', false],
    ['hunter2', 'hunter2 ', false],
    ['hunter2', '', false],
    ['', '', true],
    ['pässwörd', 'pässwörd', true],
    ['pa\u0301ss', 'p\u00e1ss', true], // NFD and NFC spellings of the same text
    ['🔑 key', '🔑 key', true],
    ['x'.repeat(1024), 'x'.repeat(1024), true],
  ];
  it.each(cases)('hash(%j) verifies %j: %s', async (password, attempt, ok) => {
    const h = await hashPassword(password, FAST);
    expect(await verifyPassword(attempt, h)).toBe(ok);
  });

  it('verifies a hash made with other parameters', async () => {
    const h = await hashPassword('pw', { N: 2048, r: 4, p: 2 });
    expect(h.startsWith('scrypt$2048$4$2$')).toBe(true);
    expect(await verifyPassword('pw', h)).toBe(true);
  });

  it('matches an independent scrypt computation', async () => {
    const h = await hashPassword('interop', FAST);
    const [, , , , salt, hash] = h.split('$');
    const expected = crypto.scryptSync('interop', Buffer.from(salt!, 'base64'), 32, { N: 1024, r: 8, p: 1 });
    expect(expected.equals(Buffer.from(hash!, 'base64'))).toBe(true);
  });

  const malformed = [
    '',
    'not a hash',
    'bcrypt$2b$10$abc',
    'scrypt$1024$8$1$c2FsdHNhbHQ',
    'scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', // N not a power of two
    'scrypt$4194304$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', // N too large to try
    'scrypt$1024$0$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    'scrypt$1024$8$1$!!!!$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    'scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAA', // hash too short
    'scrypt$01024$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  ];
  it.each(malformed)('fails closed on the malformed hash %j', async (stored) => {
    expect(await verifyPassword('anything', stored)).toBe(false);
  });

  it('verifies against a dummy when the user is unknown, and says no', async () => {
    expect(await verifyPassword('anything', null)).toBe(false);
    expect(await verifyPassword('', undefined)).toBe(false);
  });

  it('accepts the all-zero dummy hash shape used by callers and says no', async () => {
    const dummy = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    expect(await verifyPassword('', dummy)).toBe(false);
    expect(await verifyPassword('password', dummy)).toBe(false);
  });

  it('refuses absurdly long passwords', async () => {
    await expect(hashPassword('x'.repeat(1025), FAST)).rejects.toThrow(/longer than 1024/);
    const h = await hashPassword('x', FAST);
    expect(await verifyPassword('x'.repeat(100_000), h)).toBe(false);
  });

  it('refuses bad parameters', async () => {
    await expect(hashPassword('pw', { N: 1000, r: 8, p: 1 })).rejects.toThrow(/scrypt parameters/);
    await expect(hashPassword('pw', { N: 512, r: 8, p: 1 })).rejects.toThrow(/scrypt parameters/);
  });

  it('needsRehash when weaker than the target', async () => {
    const weak = await hashPassword('pw', FAST);
    expect(needsRehash(weak)).toBe(true);
    expect(needsRehash(weak, FAST)).toBe(false);
    expect(needsRehash('garbage')).toBe(true);
  });
});

describe('generatePassword', () => {
  it('is 20 readable characters by default, without look-alikes', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const p = generatePassword();
      expect(p).toMatch(/^[a-km-zA-HJ-NP-Z2-9]{20}$/);
      expect(p).not.toMatch(/[0O1lIo]/);
      seen.add(p);
    }
    expect(seen.size).toBe(200);
    expect(generatePassword(32)).toHaveLength(32);
    expect(() => generatePassword(4)).toThrow();
  });
});

describe('API tokens', () => {
  it.each([
    ['mr', /^mr_[0-9A-Za-z]{32}$/],
    ['mr_', /^mr_[0-9A-Za-z]{32}$/],
    ['mrs', /^mrs_[0-9A-Za-z]{32}$/],
  ] as const)('generateToken(%j)', (prefix, shape) => {
    expect(generateToken(prefix)).toMatch(shape);
  });

  it('defaults to mr_ and never repeats', () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => generateToken()));
    expect(tokens.size).toBe(1000);
    for (const t of tokens) expect(t).toMatch(/^mr_[0-9A-Za-z]{32}$/);
  });

  it.each(['', '_', 'has space', 'a-b', '1abc', 'x'.repeat(20)])('refuses the prefix %j', (prefix) => {
    expect(() => generateToken(prefix)).toThrow(/prefix/);
  });

  it('hashToken is SHA-256 hex', () => {
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hashToken('mr_x')).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken('mr_x')).not.toBe(hashToken('mr_y'));
  });

  it('safeEqual', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('', '')).toBe(true);
  });
});
