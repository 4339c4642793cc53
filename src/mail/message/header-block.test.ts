import { describe, expect, it } from 'vitest';
import { firstField, readHeaderBlock } from './header-block.js';

describe('readHeaderBlock', () => {
  it('unfolds, lower-cases names, stops at the blank line', () => {
    const { fields, complete } = readHeaderBlock('Subject: one\r\n two\r\nX-A:b\r\n\r\nBody: not a header\r\n');
    expect(fields).toEqual([
      { key: 'subject', value: 'one two' },
      { key: 'x-a', value: 'b' },
    ]);
    expect(complete).toBe(true);
    expect(firstField(fields, 'subject')).toBe('one two');
    expect(firstField(fields, 'body')).toBeNull();
  });
  it('skips junk lines and caps sizes', () => {
    const { fields } = readHeaderBlock('From nobody Mon Jan 1\nnot a header\nA: ' + 'x'.repeat(100) + '\n', { maxValueChars: 10 });
    expect(fields).toEqual([{ key: 'a', value: 'x'.repeat(10) }]);
  });
});
