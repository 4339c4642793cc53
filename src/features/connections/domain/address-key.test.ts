import { describe, expect, test } from 'vitest';
import { addressKey, sameAddress, type InvalidAddressReason } from './address-key.js';

describe('addressKey: accepted inputs and their comparison key', () => {
  test.each([
    // [input, key, display]
    ['ann@example.com', 'ann@example.com', 'ann@example.com'],
    ['  Ann@Example.COM \n', 'ann@example.com', 'Ann@example.com'],
    ['<ann@example.com>', 'ann@example.com', 'ann@example.com'],
    ['  < Ann@Example.com >  ', 'ann@example.com', 'Ann@example.com'],
    ['ANN@EXAMPLE.COM', 'ann@example.com', 'ANN@example.com'],
    // IDN domains become punycode; display shows Unicode
    ['Info@Bücher.Example', 'info@xn--bcher-kva.example', 'Info@bücher.example'],
    ['info@xn--bcher-kva.example', 'info@xn--bcher-kva.example', 'info@bücher.example'],
    ['info@XN--BCHER-KVA.EXAMPLE', 'info@xn--bcher-kva.example', 'info@bücher.example'],
    ['sales@münchen.DE', 'sales@xn--mnchen-3ya.de', 'sales@münchen.de'],
    ['a@例え.テスト', 'a@xn--r8jz45g.xn--zckzah', 'a@例え.テスト'],
    ['a@straße.de', 'a@xn--strae-oqa.de', 'a@straße.de'],
    ['a@xn--strae-oqa.de', 'a@xn--strae-oqa.de', 'a@straße.de'],
    ['a@xn--ls8h.la', 'a@xn--ls8h.la', 'a@💩.la'],
    ['a@xn--r8jz45g.XN--ZCKZAH', 'a@xn--r8jz45g.xn--zckzah', 'a@例え.テスト'],
    // full-width letters and the ideographic full stop map to ASCII (IDNA mapping)
    ['a@ＥＸＡＭＰＬＥ.com', 'a@example.com', 'a@example.com'],
    ['a@example。com', 'a@example.com', 'a@example.com'],
    // a homograph stays a different domain: punycode, nothing more
    ['billing@аррӏе.com', 'billing@xn--80ak6aa92e.com', 'billing@аррӏе.com'],
    // one trailing dot (DNS root) is removed
    ['ann@example.com.', 'ann@example.com', 'ann@example.com'],
    // plus tags and dots are kept: they are distinct addresses
    ['Ann+News@example.com', 'ann+news@example.com', 'Ann+News@example.com'],
    ['a.n.n@example.com', 'a.n.n@example.com', 'a.n.n@example.com'],
    // every atext symbol is allowed in the local part
    ["o'brien!#$%&*/=?^_`{|}~-@example.com", "o'brien!#$%&*/=?^_`{|}~-@example.com", "o'brien!#$%&*/=?^_`{|}~-@example.com"],
    // internationalised local part (RFC 6532): NFC and lower-cased
    ['Jürgen@example.de', 'jürgen@example.de', 'Jürgen@example.de'],
    ['Ju\u0308rgen@example.de', 'jürgen@example.de', 'Jürgen@example.de'],
    ['ann@sub-domain.mail.example.co.uk', 'ann@sub-domain.mail.example.co.uk', 'ann@sub-domain.mail.example.co.uk'],
    ['ann@123.example', 'ann@123.example', 'ann@123.example'],
  ])('%j → %s', (input, key, display) => {
    expect(addressKey(input)).toEqual({ ok: true, key, display });
  });

  test('length limits are inclusive', () => {
    const local64 = 'a'.repeat(64);
    expect(addressKey(`${local64}@example.com`).ok).toBe(true);
    const label63 = 'b'.repeat(63);
    expect(addressKey(`a@${label63}.com`).ok).toBe(true);
    // 254 bytes exactly: 64 + 1 + 189
    const domain189 = `${'c'.repeat(63)}.${'d'.repeat(63)}.${'e'.repeat(57)}.com`;
    expect(domain189.length).toBe(189);
    expect(addressKey(`${local64}@${domain189}`).ok).toBe(true);
  });
});

describe('addressKey: refused inputs say why', () => {
  test.each<[string, InvalidAddressReason, RegExp]>([
    ['', 'empty', /Enter an email address/],
    ['   ', 'empty', /Enter an email address/],
    ['<>', 'empty', /Enter an email address/],
    ['annexample.com', 'missing_at', /no @/],
    ['ann@@example.com', 'multiple_at', /more than one @/],
    ['ann@b@example.com', 'multiple_at', /more than one @/],
    ['@example.com', 'empty_local_part', /nothing before the @/],
    ['ann@', 'empty_domain', /nothing after the @/],
    ['ann lee@example.com', 'whitespace', /space/],
    ['ann@exam ple.com', 'whitespace', /space/],
    ['Ann Lee <ann@example.com>', 'whitespace', /without a name/],
    ['ann\u00a0lee@example.com', 'whitespace', /space/],
    ['ann@ex\u200bample.com', 'invisible_character', /invisible/],
    ['an\u00adn@example.com', 'invisible_character', /invisible/],
    ['ann\u0000@example.com', 'invisible_character', /invisible/],
    ['"ann lee"@example.com', 'whitespace', /space/],
    ['"ann"@example.com', 'quoted_local_part', /quotation marks/],
    ['"ann@x"@example.com', 'quoted_local_part', /quotation marks/],
    ['.ann@example.com', 'invalid_local_part', /dot/],
    ['ann.@example.com', 'invalid_local_part', /dot/],
    ['a..nn@example.com', 'invalid_local_part', /two dots/],
    ['ann,lee@example.com', 'invalid_local_part', /","/],
    ['ann(x)@example.com', 'invalid_local_part', /"\("/],
    ['<ann@example.com', 'invalid_local_part', /"<"/],
    [`${'a'.repeat(65)}@example.com`, 'local_part_too_long', /at most 64/],
    [`${'ü'.repeat(33)}@example.com`, 'local_part_too_long', /at most 64/],
    ['ann@localhost', 'single_label_domain', /no dot/],
    ['ann@com', 'single_label_domain', /no dot/],
    ['ann@[192.0.2.1]', 'address_literal', /IP address/],
    ['ann@192.0.2.1', 'ip_address_domain', /IP address/],
    ['ann@0x7f.1', 'ip_address_domain', /IP address/],
    ['ann@example..com', 'invalid_domain', /empty part/],
    ['ann@.example.com', 'invalid_domain', /empty part/],
    ['ann@example.com..', 'invalid_domain', /empty part/],
    ['ann@-example.com', 'invalid_domain', /hyphen/],
    ['ann@example-.com', 'invalid_domain', /hyphen/],
    ['ann@ex_ample.com', 'invalid_domain', /"_"/],
    ['ann@exa%41mple.com', 'invalid_domain', /"%"/],
    ['ann@example.com/evil', 'invalid_domain', /"\/"/],
    ['ann@example.com:25', 'invalid_domain', /":"/],
    // Malformed punycode labels: refused by our own check, the same on every Node version (Node 24's
    // url.domainToASCII accepts all of these, Node 20's some).
    ['ann@xn--zz.com', 'invalid_domain', /not a valid domain/],
    ['ann@XN--ZZ.COM', 'invalid_domain', /not a valid domain/],
    ['ann@example.xn--zz', 'invalid_domain', /not a valid domain/],
    ['ann@xn--a.com', 'invalid_domain', /not a valid domain/],
    ['ann@xn--55.com', 'invalid_domain', /not a valid domain/],
    ['ann@xn--ab.com', 'invalid_domain', /not a valid domain/],
    ['ann@xn--abc-.com', 'invalid_domain', /hyphen/], // decodes to "abc": ASCII written as punycode
    ['ann@xn--bcher-kva-.example', 'invalid_domain', /hyphen/],
    ['ann@xn--a-wbb.example', 'invalid_domain', /not a valid domain/], // starts with a combining mark
    ['ann@xn--bucher-xyd.example', 'invalid_domain', /not a valid domain/], // "bu\u0308cher": not NFC
    ['ann@xn--ab-m1t.example', 'invalid_domain', /not a valid domain/], // a zero-width joiner inside
    ['ann@xn--ab-r13a.example', 'invalid_domain', /not a valid domain/], // an ideographic full stop inside
    [`ann@${'b'.repeat(64)}.com`, 'invalid_domain', /longer than 63/],
    [`ann@${Array.from({ length: 5 }, () => 'x'.repeat(60)).join('.')}`, 'domain_too_long', /at most 253/],
    [`${'a'.repeat(64)}@${'c'.repeat(63)}.${'d'.repeat(63)}.${'e'.repeat(58)}.com`, 'too_long', /at most 254/],
  ])('%j → %s', (input, reason, message) => {
    const r = addressKey(input);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.code).toBe('invalid_address');
    expect(r.reason).toBe(reason);
    expect(r.message).toMatch(message);
  });

  test('a non-string input is refused, not thrown', () => {
    expect(addressKey(undefined as unknown as string).ok).toBe(false);
  });
});

describe('sameAddress compares keys only', () => {
  test.each([
    ['Info@Bücher.Example', 'info@xn--bcher-kva.example.', true],
    ['<ANN@example.com>', ' ann@EXAMPLE.com', true],
    ['ann+x@example.com', 'ann@example.com', false],
    ['billing@аррӏе.com', 'billing@apple.com', false],
    ['not an address', 'not an address', false],
  ])('%j vs %j → %s', (a, b, same) => {
    expect(sameAddress(a, b)).toBe(same);
  });
});
