import { describe, expect, it } from 'vitest';
import { messageIdsIn, normaliseMessageId } from './message-id.js';

describe('normaliseMessageId', () => {
  it.each([
    ['<abc@example.com>', 'abc@example.com'],
    ['  <Abc@Example.COM>  ', 'Abc@Example.COM'],
    ['<abc@example.com> (comment)', 'abc@example.com'],
    ['<abc\r\n @example.com>', 'abc@example.com'],
    ['abc@example.com', 'abc@example.com'],
    ['<a@x> <b@y>', 'a@x'],
    ['<>', null],
    ['', null],
    [null, null],
    ['Your message of Tue, 2 Apr 2024 <q@x>', 'q@x'],
  ])('%j -> %j', (input, out) => {
    expect(normaliseMessageId(input)).toBe(out);
  });
});

describe('messageIdsIn', () => {
  it('reads References in order, de-duplicated', () => {
    expect(messageIdsIn('<a@x>\r\n <b@x> <a@x>\t<c@x>')).toEqual(['a@x', 'b@x', 'c@x']);
  });
  it('accepts ids without brackets', () => {
    expect(messageIdsIn('a@x, b@x')).toEqual(['a@x', 'b@x']);
  });
  it('keeps the root and the newest ids when capped', () => {
    const ids = Array.from({ length: 500 }, (_, i) => `<m${i}@x>`).join(' ');
    const out = messageIdsIn(ids, 10);
    expect(out).toHaveLength(10);
    expect(out[0]).toBe('m0@x');
    expect(out[9]).toBe('m499@x');
  });
});
