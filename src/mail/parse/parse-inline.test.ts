import { describe, expect, it } from 'vitest';
import { displayNameLooksLikeAddress } from '../message/message.js';
import { crlf, JIS_KONNICHIWA, JIS_TESUTO, simple } from './fixtures.js';
import { parseMessageInline } from './parse-inline.js';

describe('parseMessageInline: the normalised value', () => {
  it('reads ids, addresses, subject, date, body', async () => {
    const m = await parseMessageInline(
      simple({
        'Message-ID': '  <Abc.123@Example.COM>  ',
        'In-Reply-To': '<parent@x.example> (sent by Ann)',
        References: '<root@x.example>\r\n <parent@x.example> <root@x.example>',
        Cc: '"Lee, Bob" <BOB@x.example>, team: a@x.example, b@x.example;',
        'Reply-To': 'replies@x.example',
      }),
    );
    expect(m.messageId).toBe('Abc.123@Example.COM');
    expect(m.inReplyTo).toBe('parent@x.example');
    expect(m.references).toEqual(['root@x.example', 'parent@x.example']);
    expect(m.from).toEqual({ name: 'Ann Example', address: 'ann@example.com' });
    expect(m.to).toEqual([{ name: '', address: 'support@shop.example' }]);
    expect(m.cc.map((a) => a.address)).toEqual(['bob@x.example', 'a@x.example', 'b@x.example']);
    expect(m.cc[0]!.name).toBe('Lee, Bob');
    expect(m.replyTo).toEqual([{ name: '', address: 'replies@x.example' }]);
    expect(m.subject).toBe('Hello');
    expect(m.date?.toISOString()).toBe('2022-01-03T09:00:00.000Z');
    expect(m.text).toBe('Hello there.\n');
    expect(m.html).toBeNull();
    expect(m.malformed).toEqual([]);
    expect(m.sizeBytes).toBeGreaterThan(100);
    expect(m.headers.contentType).toBe('text/plain');
    expect(m.headerFields.find((f) => f.key === 'message-id')?.value).toBe('<Abc.123@Example.COM>');
  });

  it('flags missing Message-ID, Date and From, and still returns the message', async () => {
    const m = await parseMessageInline(simple({ 'Message-ID': '', Date: '', From: '' }));
    expect(m.messageId).toBeNull();
    expect(m.date).toBeNull();
    expect(m.from).toBeNull();
    expect(m.malformed).toEqual(['missing_message_id', 'missing_date', 'missing_from']);
    expect(m.text).toBe('Hello there.\n');
  });

  it('flags an unparseable date and keeps going', async () => {
    const m = await parseMessageInline(simple({ Date: 'sometime last week' }));
    expect(m.date).toBeNull();
    expect(m.malformed).toContain('unparseable_date');
  });

  it('reads a header-only message (no blank line, no body)', async () => {
    const m = await parseMessageInline(Buffer.from('From: a@x.example\r\nSubject: only headers\r\nMessage-ID: <h@x>\r\nDate: Mon, 3 Jan 2022 10:00:00 +0000'));
    expect(m.subject).toBe('only headers');
    expect(m.messageId).toBe('h@x');
    expect(m.text).toBeNull();
    expect(m.malformed).toEqual([]);
  });

  it('survives the empty input', async () => {
    const m = await parseMessageInline(Buffer.alloc(0));
    expect(m.sizeBytes).toBe(0);
    expect(m.malformed).toEqual(['missing_message_id', 'missing_date', 'missing_from']);
  });

  it('removes NUL bytes from every string and flags them', async () => {
    const raw = Buffer.concat([simple({ Subject: 'nul\u0000here' }, 'body\u0000with\u0000nuls\r\n')]);
    const m = await parseMessageInline(raw);
    expect(m.malformed).toContain('nul_bytes');
    expect(m.subject).toBe('nulhere');
    expect(m.text).toBe('bodywithnuls\n');
    expect(JSON.stringify(m)).not.toContain('\\u0000');
  });

  it('decodes a broken or unknown charset without throwing, and says so', async () => {
    const body = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0d, 0x0a]); // "caf\xe9"
    const raw = Buffer.concat([
      crlf(['From: a@x.example', 'Subject: charset', 'Content-Type: text/plain; charset="x-no-such-charset"', '', '']),
      body,
    ]);
    const m = await parseMessageInline(raw);
    expect(m.text).toBe('café\n'); // windows-1252 fallback
    expect(m.malformed).toContain('unknown_charset');

    const bad = Buffer.concat([crlf(['From: a@x.example', 'Content-Type: text/plain; charset=utf-8', '', '']), Buffer.from([0xff, 0xfe, 0x41, 0x0d, 0x0a])]);
    const m2 = await parseMessageInline(bad);
    expect(m2.text).toContain('A');
    expect(m2.malformed).not.toContain('unknown_charset');
  });

  it('decodes ISO-2022-JP in the subject (encoded word) and in the body', async () => {
    const raw = Buffer.concat([
      crlf([
        'From: =?ISO-2022-JP?B?' + JIS_TESUTO.toString('base64') + '?= <taro@example.jp>',
        'To: hanako@example.jp',
        'Subject: =?ISO-2022-JP?B?' + JIS_TESUTO.toString('base64') + '?=',
        'Message-ID: <jp@example.jp>',
        'Date: Mon, 3 Jan 2022 10:00:00 +0900',
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=ISO-2022-JP',
        'Content-Transfer-Encoding: 7bit',
        '',
        '',
      ]),
      JIS_KONNICHIWA,
      Buffer.from('\r\n'),
    ]);
    const m = await parseMessageInline(raw);
    expect(m.subject).toBe('テスト');
    expect(m.from).toEqual({ name: 'テスト', address: 'taro@example.jp' });
    expect(m.text).toBe('こんにちは\n');
    expect(m.malformed).toEqual([]);
  });

  it('reads raw 8-bit (non-UTF-8) header bytes with the body charset instead of U+FFFD', async () => {
    const raw = Buffer.concat([
      Buffer.from('From: ', 'latin1'),
      Buffer.from('Jos\xe9 <jose@example.pt>\r\nSubject: Forma\xe7\xe3o\r\n', 'latin1'),
      crlf(['Content-Type: text/plain; charset=iso-8859-1', '', 'Ol\xe1', '']),
    ]);
    const m = await parseMessageInline(raw);
    expect(m.subject).toBe('Formação');
    expect(m.from).toEqual({ name: 'José', address: 'jose@example.pt' });
  });

  it('keeps the real address when the encoded display name looks like another address', async () => {
    const fake = Buffer.from('ceo@bank.example <ceo@bank.example>').toString('base64');
    const m = await parseMessageInline(simple({ From: `=?utf-8?B?${fake}?= <Attacker@Evil.example>` }));
    expect(m.from).toEqual({ name: 'ceo@bank.example <ceo@bank.example>', address: 'attacker@evil.example' });
    expect(displayNameLooksLikeAddress(m.from!)).toBe(true);
  });

  it('treats a bare local name as the address (MAILER-DAEMON)', async () => {
    const m = await parseMessageInline(simple({ From: 'MAILER-DAEMON (Mail Delivery System)' }));
    expect(m.from).toEqual({ name: '', address: 'mailer-daemon' });
  });

  it('reads old Mac (CR only) line endings', async () => {
    const raw = Buffer.from('From: a@x.example\rSubject: cr only\rMessage-ID: <cr@x>\rDate: Mon, 3 Jan 2022 10:00:00 +0000\r\rbody line\r');
    const m = await parseMessageInline(raw);
    expect(m.subject).toBe('cr only');
    expect(m.text?.trim()).toBe('body line');
  });

  it('returns attachments with type, size, sha256, content-id, and report parts', async () => {
    const raw = crlf([
      'From: mailer-daemon@mx.example',
      'To: ann@example.com',
      'Subject: Undelivered Mail Returned to Sender',
      'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="R"',
      '',
      '--R',
      'Content-Type: text/plain',
      '',
      'I could not deliver it.',
      '--R',
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mx.example',
      '',
      'Final-Recipient: rfc822; gone@example.org',
      'Action: failed',
      'Status: 5.1.1',
      '',
      '--R',
      'Content-Type: image/png; name="dot.png"',
      'Content-ID: <dot@x>',
      'Content-Transfer-Encoding: base64',
      '',
      'iVBORw0KGgo=',
      '--R--',
      '',
    ]);
    const m = await parseMessageInline(raw);
    expect(m.headers.contentType).toBe('multipart/report');
    expect(m.headers.reportType).toBe('delivery-status');
    expect(m.reports).toHaveLength(1);
    expect(m.reports[0]!.text).toContain('Final-Recipient: rfc822; gone@example.org');
    const png = m.attachments.find((a) => a.contentType === 'image/png')!;
    expect(png.filename).toBe('dot.png');
    expect(png.contentId).toBe('dot@x');
    expect(png.size).toBe(8);
    expect(png.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(Buffer.isBuffer(png.content)).toBe(true);
    expect(m.partCount).toBe(4);
    expect(m.maxDepth).toBe(1);
  });

  it('flags a multipart cut short (no closing boundary)', async () => {
    const raw = crlf(['From: a@x.example', 'Content-Type: multipart/mixed; boundary="X"', '', '--X', 'Content-Type: text/plain', '', 'first part, then nothing']);
    const m = await parseMessageInline(raw);
    expect(m.malformed).toContain('truncated_parts');
    expect(m.text).toContain('first part');
  });

  it('parses only the first maxInputBytes of a huge message, keeping its size', async () => {
    const raw = simple({}, 'x'.repeat(10_000));
    const m = await parseMessageInline(raw, { maxInputBytes: 1000 });
    expect(m.malformed).toContain('too_large');
    expect(m.sizeBytes).toBe(raw.length);
    expect(m.subject).toBe('Hello');
  });

  it('a message the parser refuses (3 MB of header lines) comes back as a flagged header-only value', async () => {
    const bomb = Array.from({ length: 60_000 }, (_, i) => `X-Filler-${i}: ${'z'.repeat(40)}`);
    const raw = crlf(['From: a@x.example', 'Subject: header bomb', 'Message-ID: <bomb@x>', ...bomb, '', 'body', '']);
    const m = await parseMessageInline(raw);
    expect(m.malformed).toContain('parse_error');
    expect(m.subject).toBe('header bomb');
    expect(m.messageId).toBe('bomb@x');
    expect(m.from?.address).toBe('a@x.example');
    expect(m.headerFields.length).toBeLessThanOrEqual(1000);
    expect(m.sizeBytes).toBe(raw.length);
  });

  it('cuts an over-long body and says so', async () => {
    const m = await parseMessageInline(simple({}, 'y'.repeat(5000)), { maxBodyChars: 100 });
    expect(m.text).toHaveLength(100);
    expect(m.malformed).toContain('body_truncated');
  });

  it('classification headers are collected', async () => {
    const m = await parseMessageInline(
      simple({
        'Auto-Submitted': 'auto-replied (vacation)',
        'X-Autoreply': 'yes',
        Precedence: 'bulk',
        'List-Id': '<dev.lists.example>',
        'List-Unsubscribe': '<mailto:leave@lists.example>',
        'X-Auto-Response-Suppress': 'All',
        'Return-Path': '<>',
        'X-Failed-Recipients': 'Gone@Example.org, other@example.org',
        'X-Mailroom-Loop': 'acc_1',
      }),
    );
    expect(m.headers).toMatchObject({
      autoSubmitted: 'auto-replied (vacation)',
      xAutoreply: 'yes',
      precedence: 'bulk',
      listId: '<dev.lists.example>',
      listUnsubscribe: '<mailto:leave@lists.example>',
      xAutoResponseSuppress: 'All',
      returnPath: '<>',
      xFailedRecipients: ['gone@example.org', 'other@example.org'],
      xMailroomLoop: 'acc_1',
    });
  });
});
