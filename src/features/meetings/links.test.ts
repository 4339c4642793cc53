import { describe, expect, it } from 'vitest';
import { checkSlug, signMeetingLink, verifyMeetingLink } from './links.js';

describe('signed meeting links', () => {
  const token = signMeetingLink('mtg_abc', 's3cret');
  it.each([
    ['the token', token, 'mtg_abc'],
    ['another secret', signMeetingLink('mtg_abc', 'other'), null],
    ['another meeting, same signature', `mtg_abd.${token.split('.')[1]}`, null],
    ['truncated', token.slice(0, -2), null],
    ['no signature', 'mtg_abc', null],
    ['empty', '', null],
  ])('%s', (_n, t, id) => expect(verifyMeetingLink(t, 's3cret')).toBe(id));
});

describe('slugs', () => {
  it.each([
    ['sam-intro', true],
    ['ab', false],
    ['Sam', false],
    ['-sam', false],
    ['sam-', false],
    ['sam intro', false],
    ['a'.repeat(60), true],
    ['a'.repeat(61), false],
  ])('%s', (slug, ok) => expect(checkSlug(slug) === null).toBe(ok));
});
