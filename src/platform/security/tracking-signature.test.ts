import { describe, expect, it } from 'vitest';
import { signTrackingId, verifyTrackingId, type TrackingKind } from './tracking-signature.js';

const SECRET = 'a-tracking-secret-of-32-bytes-ok';
const OTHER = Buffer.alloc(32, 7);

describe('signTrackingId / verifyTrackingId', () => {
  const ids: Array<[TrackingKind, string]> = [
    ['open', 'msg_01HZX3'],
    ['click', 'lnk_42'],
    ['click', 'a'],
    ['open', 'id with spaces/and?url=chars&x#y'],
    ['click', 'ünïcödé-🔗'],
    ['open', 'x'.repeat(200)],
  ];
  it.each(ids)('round-trips %s %j and stays URL-safe', (kind, id) => {
    const token = signTrackingId(kind, id, SECRET);
    expect(token).toMatch(/^[oc]\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(encodeURIComponent(token)).toBe(token);
    expect(verifyTrackingId(token, SECRET)).toEqual({ kind, id });
    expect(verifyTrackingId(token, SECRET, kind)).toEqual({ kind, id });
  });

  it('is deterministic per (kind, id, secret)', () => {
    expect(signTrackingId('click', 'lnk_1', SECRET)).toBe(signTrackingId('click', 'lnk_1', SECRET));
    expect(signTrackingId('click', 'lnk_1', SECRET)).not.toBe(signTrackingId('click', 'lnk_2', SECRET));
    expect(signTrackingId('click', 'lnk_1', SECRET)).not.toBe(signTrackingId('click', 'lnk_1', OTHER));
  });

  const click = signTrackingId('click', 'lnk_42', SECRET);
  const open = signTrackingId('open', 'msg_42', SECRET);
  const [, clickId, clickMac] = click.split('.') as [string, string, string];
  const [, openId, openMac] = open.split('.') as [string, string, string];
  const b64 = (s: string) => Buffer.from(s).toString('base64url');
  const flipLastMacChar = (t: string) => t.slice(0, -1) + (t.endsWith('A') ? 'Q' : 'A');

  const refused: Array<[string, string]> = [
    ['kind swapped click -> open (kind confusion)', `o.${clickId}.${clickMac}`],
    ['kind swapped open -> click (kind confusion)', `c.${openId}.${openMac}`],
    ['id swapped, mac kept', `c.${b64('lnk_43')}.${clickMac}`],
    ['mac from another id', `c.${clickId}.${openMac}`],
    ['mac changed', flipLastMacChar(click)],
    ['mac truncated', click.slice(0, -1)],
    ['mac extended', `${click}A`],
    ['no mac', `c.${clickId}.`],
    ['no mac part', `c.${clickId}`],
    ['unknown kind', `x.${clickId}.${clickMac}`],
    ['upper-case kind', `C.${clickId}.${clickMac}`],
    ['padding added', `c.${clickId}=.${clickMac}`],
    ['standard base64 chars', click.replace(/-/g, '+').replace(/_/g, '/') + (click.includes('-') || click.includes('_') ? '' : '+')],
    ['whitespace', ` ${click}`],
    ['empty', ''],
    ['a URL instead of a token', 'https://evil.example/'],
    ['very long', 'c.' + 'A'.repeat(10_000) + '.' + clickMac],
    ['signed with another secret', signTrackingId('click', 'lnk_42', OTHER)],
  ];
  it.each(refused)('refuses %s', (_label, token) => {
    expect(verifyTrackingId(token, SECRET)).toBeNull();
  });

  it('refuses a genuine token of the other kind when a kind is expected', () => {
    expect(verifyTrackingId(open, SECRET, 'click')).toBeNull();
    expect(verifyTrackingId(click, SECRET, 'open')).toBeNull();
  });

  it('refuses a non-canonical id encoding of a genuine token', () => {
    // "lnk_42" encodes to 8 chars with spare bits in the last one; a different last char that
    // decodes to the same bytes must not verify.
    const id = 'lnk_4';
    const token = signTrackingId('click', id, SECRET);
    const [, enc, m] = token.split('.') as [string, string, string];
    const last = enc.at(-1)!;
    const variants = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
      .split('')
      .filter((c) => c !== last)
      .map((c) => enc.slice(0, -1) + c)
      .filter((e) => Buffer.from(e, 'base64url').toString() === id);
    expect(variants.length).toBeGreaterThan(0);
    for (const v of variants) expect(verifyTrackingId(`c.${v}.${m}`, SECRET)).toBeNull();
  });

  it('verifies with any of several secrets during a rotation; the first signs', () => {
    const token = signTrackingId('click', 'lnk_1', [OTHER, SECRET]);
    expect(token).toBe(signTrackingId('click', 'lnk_1', OTHER));
    expect(verifyTrackingId(token, [SECRET, OTHER])).toEqual({ kind: 'click', id: 'lnk_1' });
    expect(verifyTrackingId(signTrackingId('open', 'm', SECRET), [OTHER, SECRET])).toEqual({ kind: 'open', id: 'm' });
    expect(verifyTrackingId(token, [SECRET])).toBeNull();
  });

  it('refuses weak secrets and bad input when signing', () => {
    expect(() => signTrackingId('click', 'lnk', 'short')).toThrow(/16 bytes/);
    expect(() => verifyTrackingId(click, 'short')).toThrow(/16 bytes/);
    expect(() => signTrackingId('click', '', SECRET)).toThrow();
    expect(() => signTrackingId('click', 'x'.repeat(201), SECRET)).toThrow();
    expect(() => signTrackingId('view' as TrackingKind, 'x', SECRET)).toThrow();
    expect(() => signTrackingId('click', 'x', [])).toThrow();
  });
});
