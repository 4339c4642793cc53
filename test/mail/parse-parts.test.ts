/**
 * The parse the ingest uses (`parseParts`: postal-mime without its own reading of the address, subject,
 * id and date fields, which `fromHeaderFields` reads by our rules) gives exactly postal-mime's header
 * fields, text, HTML and attachments: on generated messages (every MIME shape the fuzzer makes, with
 * byte mutations) and on the parser's fixtures.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import PostalMime from 'postal-mime';
import { parseParts } from '../../src/mail/parse/parse-inline.js';
import { deepNestingMessage, flowedMessage, JIS_KONNICHIWA, manyPartsMessage, simple } from '../../src/mail/parse/fixtures.js';
import { applyMutations, genMessage, genMutations, renderMessage } from '../fuzz/mime-gen.js';

type Options = Parameters<typeof PostalMime.parse>[1];

async function both(raw: Buffer, options: Options = { attachmentEncoding: 'arraybuffer' }) {
  const settle = <T>(p: Promise<T>) => p.then((value) => ({ value }), (error: unknown) => ({ error: String(error) }));
  return { lean: await settle(parseParts(raw, options!)), whole: await settle(PostalMime.parse(raw, options)) };
}

function expectSameParts(r: Awaited<ReturnType<typeof both>>) {
  if (!('value' in r.whole) || !('value' in r.lean)) {
    expect('error' in r.lean).toBe('error' in r.whole);
    return;
  }
  const w = r.whole.value;
  const l = r.lean.value;
  expect(l.headers).toEqual(w.headers);
  expect(l.text).toEqual(w.text);
  expect(l.html).toEqual(w.html);
  expect(l.attachments).toEqual(w.attachments);
}

describe('parseParts: postal-mime without its address reading', () => {
  it('gives the header fields, bodies and attachments of the whole parse on generated messages', async () => {
    await fc.assert(
      fc.asyncProperty(genMessage, fc.option(genMutations, { nil: null }), async (m, mutations) => {
        const rendered = renderMessage(m).raw;
        const raw = mutations ? applyMutations(rendered, mutations) : rendered;
        expectSameParts(await both(raw));
        expectSameParts(await both(raw, { attachmentEncoding: 'arraybuffer', forceRfc822Attachments: true }));
      }),
      { numRuns: 150 },
    );
  });

  it('and on the fixtures: a plain message, nested messages, many parts, flowed text, ISO-2022-JP', async () => {
    const nested = Buffer.from(
      'From: a@example.org\r\nTo: b@example.org\r\nSubject: fwd\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nSee below.\r\n--b1\r\nContent-Type: message/rfc822\r\n\r\nFrom: Carl <c@example.org>\r\nTo: d@example.org, "E, F" <e@example.org>\r\nSubject: inner\r\nDate: Mon, 3 Jan 2022 10:00:00 +0100\r\n\r\nInner body.\r\n--b1--\r\n',
    );
    const jis = Buffer.concat([Buffer.from('From: a@example.org\r\nSubject: jis\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n\r\n'), JIS_KONNICHIWA, Buffer.from('\r\n')]);
    for (const raw of [simple(), simple({ To: 'undisclosed-recipients:;', Cc: '"Doe, J" <j@example.org>, k@example.org' }), nested, manyPartsMessage(50), deepNestingMessage(30), flowedMessage(20_000), jis]) {
      expectSameParts(await both(raw));
    }
  });
});
