import { describe, expect, it } from 'vitest';
import { isThreadingId, mergeSurvivor, threadIdsOf } from './threading.js';

describe('links between messages (own id, In-Reply-To, References)', () => {
  it.each([
    ['abc@example.org', true],
    ['CAF=x+y_z.1@mail.gmail.com', true],
    ['yes', false],
    ['', false],
    ['@example.org', false],
    ['abc@', false],
    ['a b@example.org', false],
    ['a@b@c', false],
    [`${'x'.repeat(250)}@example.org`, false],
  ] as const)('%s is a threading id: %s', (id, expected) => {
    expect(isThreadingId(id)).toBe(expected);
  });

  it('threadIdsOf: own id, then parents nearest first, lower-cased, deduplicated, valid only', () => {
    expect(threadIdsOf({ messageId: 'C@x', inReplyTo: 'B@x', references: ['A@x', 'yes', 'B@x'] })).toEqual(['c@x', 'b@x', 'a@x']);
    expect(threadIdsOf({ messageId: null, inReplyTo: null, references: [] })).toEqual([]);
    expect(threadIdsOf({ messageId: 'self@x', inReplyTo: 'self@x', references: [] })).toEqual(['self@x']);
  });

  it('mergeSurvivor: the oldest conversation, then the smallest id', () => {
    const c = (id: string, createdAt: number) => ({ id, createdAt });
    expect(mergeSurvivor([c('cnv_b', 2), c('cnv_a', 3), c('cnv_c', 1)]).id).toBe('cnv_c');
    expect(mergeSurvivor([c('cnv_b', 1), c('cnv_a', 1)]).id).toBe('cnv_a');
    expect(() => mergeSurvivor([])).toThrow();
  });
});
