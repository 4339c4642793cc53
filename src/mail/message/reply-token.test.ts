import { describe, expect, it } from 'vitest';
import { makeMessageId, readReplyToken } from './reply-token.js';

const secret = 'test-secret-0123456789';
const other = 'another-secret-9876543210';

describe('makeMessageId', () => {
  it('has the documented shape and is deterministic', () => {
    const id = makeMessageId({ outboxId: 'out_0abc123XYZ', domain: 'Example.COM', secret });
    expect(id).toMatch(/^<mr\.out_0abc123XYZ\.[0-9a-f]{16}@example\.com>$/);
    expect(makeMessageId({ outboxId: 'out_0abc123XYZ', domain: 'example.com', secret })).toBe(id);
  });

  it.each([
    [{ outboxId: 'has.dot', domain: 'example.com', secret }],
    [{ outboxId: '', domain: 'example.com', secret }],
    [{ outboxId: 'x'.repeat(65), domain: 'example.com', secret }],
    [{ outboxId: 'ok', domain: 'exa mple.com', secret }],
    [{ outboxId: 'ok', domain: 'a@b.com', secret }],
    [{ outboxId: 'ok', domain: 'example.com', secret: 'short' }],
  ])('refuses %j', (input) => {
    expect(() => makeMessageId(input)).toThrow(TypeError);
  });
});

describe('readReplyToken', () => {
  const id = makeMessageId({ outboxId: 'out_1', domain: 'mail.example.com', secret });
  const bare = id.slice(1, -1);

  it.each([
    ['header value with brackets', id],
    ['normalised id', [bare]],
    ['References header with others around it', `<a@x> ${id} <b@y>`],
    ['folded References', `<a@x>\r\n ${id}`],
    ['upper-cased mac (some gateways)', [bare.replace(/\.([0-9a-f]{16})@/, (_m, h: string) => `.${h.toUpperCase()}@`)]],
  ] as const)('reads a valid token: %s', (_label, input) => {
    expect(readReplyToken(input, secret)).toBe('out_1');
  });

  it.each([
    ['wrong secret', id, other],
    ['forged mac', id.replace(/\.[0-9a-f]{16}@/, '.0000000000000000@'), secret],
    ['id changed, mac kept', id.replace('out_1', 'out_2'), secret],
    ['truncated mac', id.replace(/([0-9a-f]{16})@/, (_m, h: string) => `${h.slice(0, 8)}@`), secret],
    ['not ours', '<CAF=abc@mail.gmail.com>', secret],
    ['empty', '', secret],
    ['null', null, secret],
  ] as const)('refuses: %s', (_label, input, key) => {
    expect(readReplyToken(input, key)).toBeNull();
  });

  it('accepts a rotated secret list', () => {
    expect(readReplyToken(id, [other, secret])).toBe('out_1');
  });

  it('returns the first valid token in the order given', () => {
    const a = makeMessageId({ outboxId: 'a', domain: 'x.com', secret }).slice(1, -1);
    const b = makeMessageId({ outboxId: 'b', domain: 'x.com', secret }).slice(1, -1);
    expect(readReplyToken([b, a], secret)).toBe('b');
    expect(readReplyToken(['junk@x', 'mr.zz.0123456789abcdef@x.com', a], secret)).toBe('a');
  });
});
