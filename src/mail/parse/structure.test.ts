import { describe, expect, it } from 'vitest';
import { crlf, deepNestingMessage, manyPartsMessage } from './fixtures.js';
import { scanStructure } from './structure.js';

const limits = { maxParts: 1000, maxDepth: 50 };

describe('scanStructure', () => {
  it('counts parts and depth of an ordinary message, and keeps everything', () => {
    const raw = crlf([
      'Content-Type: multipart/mixed; boundary="A"',
      '',
      '--A',
      'Content-Type: multipart/alternative; boundary="B"',
      '',
      '--B',
      'Content-Type: text/plain; charset=ISO-8859-1',
      '',
      'x',
      '--B',
      'Content-Type: text/html; charset="utf-8"',
      '',
      '<p>x</p>',
      '--B--',
      '--A',
      'Content-Type: message/rfc822',
      '',
      'Subject: inner',
      'Content-Type: text/plain',
      '',
      'inner body',
      '--A--',
      '',
    ]);
    const s = scanStructure(raw, limits);
    expect(s).toMatchObject({ partCount: 6, maxDepth: 2, tooDeep: false, tooManyParts: false, unterminated: false, keep: null, topContentType: 'multipart/mixed' });
    expect(s.charsets).toEqual(['iso-8859-1', 'utf-8']);
  });

  it('treats parts of multipart/digest as messages by default', () => {
    const raw = crlf(['Content-Type: multipart/digest; boundary="D"', '', '--D', '', 'Subject: one', '', 'body', '--D--', '']);
    expect(scanStructure(raw, limits)).toMatchObject({ partCount: 3, maxDepth: 2 });
  });

  it('notices a missing closing boundary', () => {
    const raw = crlf(['Content-Type: multipart/mixed; boundary="A"', '', '--A', '', 'x']);
    expect(scanStructure(raw, limits).unterminated).toBe(true);
  });

  it('cuts a nesting bomb below maxDepth and keeps what follows it', () => {
    const raw = deepNestingMessage(500);
    const s = scanStructure(raw, limits);
    expect(s.tooDeep).toBe(true);
    expect(s.maxDepth).toBe(50);
    const kept = Buffer.concat(s.keep!.map(([a, b]) => raw.subarray(a, b))).toString();
    expect(kept).toContain('level 40');
    expect(kept).not.toContain('level 60');
    expect(kept).toContain('after the bomb');
    expect(kept.length).toBeLessThan(raw.length);
  });

  it('stops at maxParts', () => {
    const raw = manyPartsMessage(5000);
    const s = scanStructure(raw, limits);
    expect(s).toMatchObject({ tooManyParts: true, partCount: 1000, unterminated: false });
    const kept = Buffer.concat(s.keep!.map(([a, b]) => raw.subarray(a, b))).toString();
    expect(kept).toContain('part 998');
    expect(kept).not.toContain('part 999\r\n');
  });

  it('ignores boundary-like lines that are not boundaries', () => {
    const raw = crlf(['Content-Type: multipart/mixed; boundary="A"', '', '--A', '', '--AB not a boundary', '--A trailing text', '--A--', '']);
    expect(scanStructure(raw, limits)).toMatchObject({ partCount: 2, unterminated: false });
  });

  it('is linear: a million-line body scans quickly', () => {
    const raw = Buffer.from('Subject: big\r\n\r\n' + 'line of text\r\n'.repeat(1_000_000));
    const t = performance.now();
    scanStructure(raw, limits);
    expect(performance.now() - t).toBeLessThan(2000);
  });
});
