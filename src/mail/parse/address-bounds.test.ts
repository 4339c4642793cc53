import { addressParser } from 'postal-mime';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boundAddressHeader } from './address-bounds.js';
import { toAddresses } from './build.js';

const small = { maxElements: 3, maxElement: 40 };
const long = (n: number) => 'x'.repeat(n);

describe('boundAddressHeader', () => {
  it.each([
    ['a short header is returned as it is', 'Ann <ann@example.com>, bob@example.org', 'Ann <ann@example.com>, bob@example.org'],
    ['elements beyond maxElements are dropped', 'a@x.io, b@x.io, c@x.io, d@x.io, e@x.io', 'a@x.io, b@x.io, c@x.io'],
    ['separators inside quotes, angle brackets and comments do not count', '"Doe, J; r" <j@x.io>, (a, b; c) k@x.io, l@x.io, m@x.io', '"Doe, J; r" <j@x.io>, (a, b; c) k@x.io, l@x.io'],
    ['an element longer than maxElement is cut', `a@x.io, Ann ${long(60)} <ann@x.io>, c@x.io`, `a@x.io, Ann ${long(35)}, c@x.io`],
    ['a cut inside a quote closes it, so the next element stays an element', `"${long(60)}, not@x.io" <q@x.io>, c@x.io`, `"${long(39)}", c@x.io`],
    ['a cut inside angle brackets closes them', `Ann <${long(60)}@x.io>, c@x.io`, `Ann <${long(35)}>, c@x.io`],
    ['a cut inside nested comments closes each', `(a (b ${long(60)}) c) d@x.io, c@x.io`, `(a (b ${long(34)})), c@x.io`],
    ['an escaped quote inside a quote does not end it', `"a \\" , b" <q@x.io>, c@x.io, d@x.io, e@x.io`, `"a \\" , b" <q@x.io>, c@x.io, d@x.io`],
  ])('%s', (_name, input, expected) => {
    expect(boundAddressHeader(input, small)).toBe(expected);
  });

  it('headers within the bounds give the parser exactly the same input (property)', () => {
    const atom = fc.stringMatching(/^[A-Za-z0-9.]{1,8}$/);
    const element = fc.oneof(
      fc.tuple(atom, atom).map(([l, d]) => `${l}@${d}.io`),
      fc.tuple(atom, atom, atom).map(([n, l, d]) => `"${n}, ${n}" <${l}@${d}.io>`),
      fc.tuple(atom, atom, atom).map(([n, l, d]) => `${n} (${n}; x) <${l}@${d}.io>`),
    );
    fc.assert(
      fc.property(fc.array(element, { minLength: 1, maxLength: 20 }), (els) => {
        const header = els.join(', ');
        const bounded = boundAddressHeader(header, { maxElements: 1000, maxElement: 1024 });
        expect(bounded).toBe(header);
      }),
    );
  });

  it('a cut header parses into the addresses it kept, never into text taken from a cut quote (property)', () => {
    const name = fc.stringMatching(/^[A-Za-z ,;()<>@]{0,80}$/);
    fc.assert(
      fc.property(fc.array(fc.tuple(name, fc.integer({ min: 1, max: 999 })), { minLength: 1, maxLength: 8 }), (els) => {
        const header = els.map(([n, i]) => `"${n.replace(/"/g, '')}" <u${i}@x.io>`).join(', ');
        const bounded = boundAddressHeader(header, { maxElements: 5, maxElement: 40 });
        const addresses = addressParser(bounded, { flatten: true }).map((a) => a.address);
        // Every address found is one of the header's, in order, and no more elements than allowed.
        const all = els.map(([, i]) => `u${i}@x.io`);
        expect(addresses.length).toBeLessThanOrEqual(5);
        for (const a of addresses) if (a) expect(all).toContain(a);
      }),
    );
  });

  it('a hostile 130 KB element is read as its first address, not parsed in full', () => {
    const words = Array.from({ length: 3000 }, () => '=?utf-8?Q?date=3E2017-08-20T10:08:28.617=3C/pr?=').join(' ');
    const header = `"test" <test@test.com>, Someone ${words} <late@example.com>, last@example.com`;
    expect(header.length).toBeGreaterThan(130_000);
    const out = toAddresses(header);
    expect(out[0]).toEqual({ name: 'test', address: 'test@test.com' });
    expect(out.map((a) => a.address)).toContain('last@example.com');
    expect(out.length).toBeLessThanOrEqual(3);
  });
});
