import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { messageSnippet } from './snippet.js';

/** The definition: collapse the first 16 KB, trim, cut. */
const reference = (text: string, max = 200) => text.slice(0, 16 * 1024).replace(/\s+/g, ' ').trim().slice(0, max);

describe('messageSnippet', () => {
  it.each([
    ['', ''],
    ['   ', ''],
    ['Hello', 'Hello'],
    ['  Hello \r\n\t world  ', 'Hello world'],
    ['a'.repeat(300), 'a'.repeat(200)],
    [`${' '.repeat(1000)}late start`, 'late start'],
    [`${'word '.repeat(39)}wordy end`, `${'word '.repeat(39)}wordy`],
    [`${'x'.repeat(199)}${' '.repeat(5000)}y`, `${'x'.repeat(199)} `],
    [`${' \n'.repeat(20_000)}after 40,000 blanks`, ''],
  ])('case %#', (text, want) => {
    expect(messageSnippet(text)).toBe(want);
    expect(messageSnippet(text)).toBe(reference(text));
  });

  it('equals the definition on any text (prefix cuts inside whitespace runs included)', () => {
    const piece = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom(' ', '\n', '\r\n', '\t', '\u00a0', '\u2028', ' '.repeat(700)));
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 120 }), fc.integer({ min: 1, max: 400 }), (parts, max) => {
        const text = parts.join('');
        expect(messageSnippet(text, max)).toBe(reference(text, max));
      }),
      { numRuns: 2000, seed: 4242 },
    );
  });
});
