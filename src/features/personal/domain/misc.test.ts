import { describe, expect, it } from 'vitest';
import { addressInHeader, forwardedSender, isForwardSubject, looksLikeLoggingAddress, makeLoggingAddress } from './bcc.js';
import { attachmentProblem, checkSendAt, orderFromAddresses, withSignature } from './compose.js';
import { htmlToText } from './text.js';
import { decodeEntities, scanTags } from './html.js';

describe('logging address', () => {
  it('is bcc-<20 hex>@domain', () => {
    const a = makeLoggingAddress('0123456789abcdef0123456789', 'In.Example.');
    expect(a).toBe('bcc-0123456789abcdef0123@in.example');
    expect(looksLikeLoggingAddress(a)).toBe(true);
    expect(() => makeLoggingAddress('xyz', 'in.example')).toThrow();
  });
  it.each([
    ['"Ann Lee" <Ann@Acme.example>', 'ann@acme.example'],
    ['ann@acme.example', 'ann@acme.example'],
    ['ann@acme.example (Ann Lee)', 'ann@acme.example'],
    ['=?utf-8?q?Ann?= <ann@acme.example>', 'ann@acme.example'],
    ['"a@evil.example" <ann@acme.example>', 'ann@acme.example'],
    ['undisclosed-recipients:;', null],
    ['', null],
  ])('addressInHeader(%j)', (value, expected) => {
    expect(addressInHeader(value)).toBe(expected);
  });
  it.each([
    ['Hi\n\n---------- Forwarded message ---------\nFrom: Carla <carla@client.example>\nDate: Mon\n', 'carla@client.example'],
    ['FYI\n\n-----Original Message-----\nFrom: carla@client.example\nSent: Monday\n', 'carla@client.example'],
    ['Begin forwarded message:\n\n> From: "Carla" <carla@client.example>\n', 'carla@client.example'],
    ['Just text From: nobody', null],
  ])('forwardedSender %#', (text, expected) => {
    expect(forwardedSender(text)).toBe(expected);
  });
  it.each([['Fwd: Quote', true], ['FW: x', true], ['WG: x', true], ['Re: x', false], ['Forward planning', false]])('isForwardSubject(%j)', (s, v) => {
    expect(isForwardSubject(s)).toBe(v);
  });
});

describe('compose rules', () => {
  const MB = 1024 * 1024;
  it.each([
    [[{ filename: 'a', size: 10 * MB }, { filename: 'b', size: 10 * MB }], null],
    [[{ filename: 'a', size: 20 * MB + 1 }], /20\.0 MB/],
  ])('attachments %#', (files, expected) => {
    const p = attachmentProblem(files, 20 * MB);
    if (expected === null) expect(p).toBeNull();
    else expect(p).toMatch(expected);
  });
  it.each([
    [undefined, { ok: true, sendAt: null }],
    [1000, { ok: true, sendAt: null }],
    [1_000_000 + 3_000, { ok: true, sendAt: null }],
    [1_000_000 + 3_600_000, { ok: true, sendAt: 1_000_000 + 3_600_000 }],
    [1_000_000 + 400 * 86_400_000, { ok: false }],
  ])('checkSendAt(%j)', (sendAt, expected) => {
    expect(checkSendAt(sendAt, 1_000_000)).toMatchObject(expected);
  });
  it.each([
    ['<p>Hi</p>', 'Bob\nSales', '<p>Hi</p><div class="mailroom-signature"><br>Bob<br>Sales</div>'],
    ['<p>Hi</p>', '<b>Bob</b>', '<p>Hi</p><div class="mailroom-signature"><br><b>Bob</b></div>'],
    ['<body><p>Hi</p></body>', 'B & Co', '<body><p>Hi</p><div class="mailroom-signature"><br>B &amp; Co</div></body>'],
    ['<p>Hi</p>', null, '<p>Hi</p>'],
  ])('withSignature %#', (html, sig, expected) => {
    expect(withSignature(html, sig)).toBe(expected);
  });
  it('orders the default from-address first', () => {
    const list = orderFromAddresses([{ address: 'b@x.example', isDefault: false }, { address: 'c@x.example', isDefault: true }, { address: 'a@x.example', isDefault: false }]);
    expect(list.map((x) => x.address)).toEqual(['c@x.example', 'a@x.example', 'b@x.example']);
  });
});

describe('html helpers', () => {
  it.each([
    ['<p>Hello <b>Ann</b>,</p><p>See <a href="https://a.example/x">our prices</a>.</p>', 'Hello Ann,\n\nSee our prices (https://a.example/x).'],
    ['<style>p{}</style><ul><li>one</li><li>two</li></ul>', '- one\n- two'],
    ['a&nbsp;&amp;&#39;b<br>c', "a &'b\nc"],
  ])('htmlToText %#', (html, text) => {
    expect(htmlToText(html)).toBe(text);
  });
  it('scans attributes like a browser', () => {
    const [t] = scanTags('<a title="x > y" data-x=1 nowrap href=\'h\'>');
    expect(t!.attributes).toEqual([
      { name: 'title', value: 'x > y' },
      { name: 'data-x', value: '1' },
      { name: 'nowrap', value: null },
      { name: 'href', value: 'h' },
    ]);
  });
  it('decodes character references', () => {
    expect(decodeEntities('&lt;&#x41;&#66;&unknown;&amp')).toBe('<AB&unknown;&');
  });
});
