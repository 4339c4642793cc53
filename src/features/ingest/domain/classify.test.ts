import { describe, expect, it } from 'vitest';
import { parseMessageInline } from '../../../mail/parse/parse-inline.js';
import { classifyMessage, outOfOfficeSubject, type ClassifyOptions } from './classify.js';
import { makeMessageId, readReplyToken } from '../../../mail/message/reply-token.js';

/** Builds a raw message from header pairs and a body (CRLF), as a sender would. */
function raw(headers: Array<[string, string]>, body: string[] = ['Hello.']): Buffer {
  return Buffer.from([...headers.map(([k, v]) => `${k}: ${v}`), '', ...body, ''].join('\r\n'));
}
const base: Array<[string, string]> = [
  ['From', 'Ann <ann@customer.example>'],
  ['To', 'support@shop.example'],
  ['Message-ID', '<m1@customer.example>'],
  ['Date', 'Tue, 2 Apr 2024 09:00:00 +0000'],
];
const classify = async (r: Buffer, opts?: ClassifyOptions) => classifyMessage(await parseMessageInline(r), opts);
const withHeaders = (extra: Array<[string, string]>, subject = 'A question') => raw([...base, ['Subject', subject], ...extra]);

describe('classifyMessage: auto-replies, lists, normal mail', () => {
  it.each([
    ['plain mail from a person', [], 'normal', false],
    ['X-Auto-Response-Suppress alone is not an auto-reply (Outlook adds it to normal mail)', [['X-Auto-Response-Suppress', 'All']], 'normal', true],
    ['Auto-Submitted: no', [['Auto-Submitted', 'no']], 'normal', false],
    ['Auto-Submitted: auto-replied', [['Auto-Submitted', 'auto-replied']], 'auto_reply', true],
    ['Auto-Submitted with a comment and parameter', [['Auto-Submitted', 'auto-generated (cron); owner=root']], 'auto_reply', true],
    ['Auto-Submitted: auto-notified', [['Auto-Submitted', 'auto-notified']], 'auto_reply', true],
    ['X-Autoreply', [['X-Autoreply', 'yes']], 'auto_reply', true],
    ['X-Autorespond', [['X-Autorespond', 'Out of office']], 'auto_reply', true],
    ['X-Autoresponder (variant)', [['X-Autoresponder', 'true']], 'auto_reply', true],
    ['Precedence: auto_reply', [['Precedence', 'auto_reply']], 'auto_reply', true],
    ['Precedence: bulk is bulk, not an auto-reply', [['Precedence', 'bulk']], 'list', true],
    ['Precedence: junk is bulk', [['Precedence', 'junk']], 'list', true],
    ['Precedence: list', [['Precedence', 'list']], 'list', true],
    ['List-Id', [['List-Id', 'Developers <dev.lists.example>']], 'list', true],
    ['List-Unsubscribe only (a newsletter)', [['List-Unsubscribe', '<https://news.example/u/1>']], 'list', true],
    ['Mailing-List (ezmlm)', [['Mailing-List', 'contact dev-help@lists.example; run by ezmlm']], 'list', true],
    ['auto-reply beats list headers (vacation replies via a list)', [['Auto-Submitted', 'auto-replied'], ['Precedence', 'bulk']], 'auto_reply', true],
    ['no-reply sender: normal, but never auto-answered', [], 'normal', true, 'No Reply <no-reply@service.example>'],
    ['null Return-Path: never auto-answered (RFC 3834)', [['Return-Path', '<>']], 'normal', true],
  ] as Array<[string, Array<[string, string]>, string, boolean, string?]>)('%s', async (_label, extra, kind, suppress, from) => {
    const headers: Array<[string, string]> = from ? [['From', from], ...base.slice(1), ['Subject', 'A question'], ...extra] : [...base, ['Subject', 'A question'], ...extra];
    const c = await classify(raw(headers));
    expect(c.kind).toBe(kind);
    expect(c.suppressAutoResponse).toBe(suppress);
  });

  it('reports the list id', async () => {
    const c = await classify(withHeaders([['List-Id', '<dev.lists.example>']]));
    expect(c).toMatchObject({ kind: 'list', listId: '<dev.lists.example>' });
    expect(c.reasons).toContain('list_id');
  });
});

describe('out-of-office subjects', () => {
  it.each([
    'Out of Office: A question',
    'Out of the office until Monday',
    'Automatic reply: A question',
    'Auto-Reply: A question',
    'AutoReply',
    '[Auto-Reply] A question',
    'I am out of the office',
    'Abwesenheitsnotiz: Ihre Anfrage',
    'Automatische Antwort: Ihre Anfrage',
    'Réponse automatique : votre demande',
    'Absent du bureau',
    'Respuesta automática: su consulta',
    'Fuera de la oficina',
    'Risposta automatica: richiesta',
    'Automatisch antwoord: vraag',
    'Afwezig',
    'Autosvar: fråga',
    'Automaattinen vastaus: kysymys',
    'Automatyczna odpowiedź: pytanie',
    'Odpowiedź automatyczna',
    'Automatická odpověď: dotaz',
    'Автоответ: вопрос',
    '自動返信: お問い合わせ',
    '自动回复：咨询',
    '不在',
    'AUTO: Jane Doe is out of the office (returning 05/01/2024)',
    'AUTO: John Smith is on vacation',
    'AUTO: Jane Doe (returning 05/01/2024)',
  ])('%j is out-of-office', (subject) => {
    expect(outOfOfficeSubject(subject)).toBe(true);
  });

  it.each(['A question', 'Office supplies order', 'Absence policy update', 'Automatic replies are annoying', 'Re: your out of office', 'Outlook tips', 'AUTO: nightly build results', 'Auto: returning customers report'])(
    '%j is not',
    (subject) => {
      expect(outOfOfficeSubject(subject)).toBe(false);
    },
  );

  it('an out-of-office subject alone makes an auto-reply', async () => {
    const c = await classify(withHeaders([], 'Automatic reply: A question'));
    expect(c.kind).toBe('auto_reply');
    expect(c.reasons).toContain('subject:out_of_office');
  });
});

describe('classifyMessage: our own notification loop', () => {
  it.each([
    ['our account', { accountId: 'acc_1' }, 'loop'],
    ['no account given: any Mailroom loop header', {}, 'loop'],
    ['another Mailroom account: machine mail, not our loop', { accountId: 'acc_2' }, 'auto_reply'],
  ] as const)('%s', async (_l, opts, kind) => {
    const c = await classify(withHeaders([['X-Mailroom-Loop', 'acc_1']]), opts);
    expect(c.kind).toBe(kind);
    expect(c.suppressAutoResponse).toBe(true);
  });

  it('loop beats everything else', async () => {
    const c = await classify(withHeaders([['X-Mailroom-Loop', 'acc_1'], ['Auto-Submitted', 'auto-replied'], ['X-Failed-Recipients', 'x@y.example']]), {
      accountId: 'acc_1',
    });
    expect(c.kind).toBe('loop');
  });
});

// ---- bounces -----------------------------------------------------------------------------------

const SECRET = 'classify-test-secret-123';
const ourId = makeMessageId({ outboxId: 'out_42', domain: 'shop.example', secret: SECRET });

function dsn(recipientGroups: string[][], opts: { subject?: string; headersPart?: boolean } = {}): Buffer {
  const lines = [
    'From: Mail Delivery System <MAILER-DAEMON@mx.shop.example>',
    'To: support@shop.example',
    `Subject: ${opts.subject ?? 'Undelivered Mail Returned to Sender'}`,
    'Message-ID: <bounce1@mx.shop.example>',
    'Date: Tue, 2 Apr 2024 09:05:00 +0000',
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="RPT"',
    '',
    '--RPT',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'This is the mail system at host mx.shop.example.',
    '',
    '--RPT',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.shop.example',
    'Arrival-Date: Tue, 2 Apr 2024 09:00:00 +0000',
    '',
    ...recipientGroups.flatMap((g) => [...g, '']),
    '--RPT',
    opts.headersPart === false ? 'Content-Type: text/plain' : 'Content-Type: text/rfc822-headers',
    '',
    'From: support@shop.example',
    'To: customer@example.org',
    `Message-ID: ${ourId}`,
    'Subject: Your order',
    '',
    '--RPT--',
    '',
  ];
  return Buffer.from(lines.join('\r\n'));
}

describe('classifyMessage: RFC 3464 delivery status notifications', () => {
  it('reads every recipient, its action, status and diagnostic, and the bounced message id', async () => {
    const c = await classify(
      dsn([
        ['Final-Recipient: rfc822; gone@example.org', 'Original-Recipient: rfc822;Gone@Example.org', 'Action: failed', 'Status: 5.1.1', 'Diagnostic-Code: smtp; 550 5.1.1 <gone@example.org>:', '  Recipient address rejected: User unknown'],
        ['Final-Recipient: rfc822; slow@example.net', 'Action: delayed', 'Status: 4.4.1', 'Diagnostic-Code: X-Postfix; connect to mx.example.net: Connection timed out'],
      ]),
    );
    expect(c.kind).toBe('bounce');
    expect(c.bounce).toMatchObject({ type: 'failure', permanent: true, source: 'dsn' });
    expect(c.bounce!.recipients).toEqual([
      {
        address: 'gone@example.org',
        finalAddress: null,
        action: 'failed',
        status: '5.1.1',
        diagnostic: '550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown',
      },
      { address: 'slow@example.net', finalAddress: null, action: 'delayed', status: '4.4.1', diagnostic: 'connect to mx.example.net: Connection timed out' },
    ]);
    expect(c.bounce!.originalMessageId).toBe(ourId.slice(1, -1));
    // the shell finds our outbox entry from the bounced Message-ID
    expect(readReplyToken(c.bounce!.originalMessageId, SECRET)).toBe('out_42');
    expect(c.suppressAutoResponse).toBe(true);
  });

  it('prefers Original-Recipient and keeps Final-Recipient when an alias rewrote it', async () => {
    const c = await classify(dsn([['Original-Recipient: rfc822; sales@example.org', 'Final-Recipient: rfc822; bob@internal.example.org', 'Action: failed', 'Status: 5.2.2']]));
    expect(c.bounce!.recipients[0]).toMatchObject({ address: 'sales@example.org', finalAddress: 'bob@internal.example.org', status: '5.2.2' });
  });

  it('a delay-only report is a non-permanent bounce', async () => {
    const c = await classify(dsn([['Final-Recipient: rfc822; slow@example.net', 'Action: delayed', 'Status: 4.4.7']], { subject: 'Delayed Mail (still being retried)' }));
    expect(c.kind).toBe('bounce');
    expect(c.bounce).toMatchObject({ type: 'delay', permanent: false });
  });

  it('a success report (delivered) is an auto-reply, not a bounce', async () => {
    const c = await classify(dsn([['Final-Recipient: rfc822; ok@example.net', 'Action: delivered', 'Status: 2.0.0']], { subject: 'Successful Mail Delivery Report' }));
    expect(c.kind).toBe('auto_reply');
    expect(c.reasons).toContain('dsn_success');
  });

  it('a report without per-recipient fields falls back to the text', async () => {
    const r = Buffer.from(
      [
        'From: MAILER-DAEMON@mx.example.org',
        'To: support@shop.example',
        'Subject: Undelivered Mail Returned to Sender',
        'Content-Type: multipart/report; report-type=delivery-status; boundary="Z"',
        '',
        '--Z',
        'Content-Type: text/plain',
        '',
        '<nobody@example.org>: host mx.example.org[192.0.2.1] said: 550 5.1.1 User unknown',
        '--Z',
        'Content-Type: message/delivery-status',
        '',
        'Reporting-MTA: dns; mx.example.org',
        '',
        '--Z--',
        '',
      ].join('\r\n'),
    );
    const c = await classify(r);
    expect(c.kind).toBe('bounce');
    expect(c.bounce!.recipients).toEqual([
      { address: 'nobody@example.org', finalAddress: null, action: 'failed', status: '5.1.1', diagnostic: 'host mx.example.org[192.0.2.1] said: 550 5.1.1 User unknown' },
    ]);
  });
});

describe('classifyMessage: non-RFC bounces', () => {
  it.each([
    [
      'qmail',
      [
        ['From', 'MAILER-DAEMON@mail.example.org'],
        ['To', 'support@shop.example'],
        ['Subject', 'failure notice'],
        ['Return-Path', '<>'],
      ],
      [
        'Hi. This is the qmail-send program at mail.example.org.',
        "I'm afraid I wasn't able to deliver your message to the following addresses.",
        '',
        '<lost@example.org>:',
        '192.0.2.5 does not like recipient.',
        'Remote host said: 550 5.1.1 <lost@example.org>... User unknown',
        '',
        '--- Below this line is a copy of the message.',
        '',
        'From: support@shop.example',
        'To: lost@example.org',
        `Message-ID: ${ourId}`,
      ],
      { address: 'lost@example.org', status: '5.1.1' },
    ],
    [
      'Exim with X-Failed-Recipients',
      [
        ['From', 'Mail Delivery System <Mailer-Daemon@mx.example.net>'],
        ['To', 'support@shop.example'],
        ['Subject', 'Mail delivery failed: returning message to sender'],
        ['X-Failed-Recipients', 'full@example.net'],
        ['Auto-Submitted', 'auto-replied'],
      ],
      ['This message was created automatically by mail delivery software.', '', '  full@example.net', '    mailbox is full: retry timeout exceeded'],
      { address: 'full@example.net' },
    ],
    [
      'Gmail-style text notice',
      [
        ['From', 'Mail Delivery Subsystem <mailer-daemon@googlemail.com>'],
        ['To', 'support@shop.example'],
        ['Subject', 'Delivery Status Notification (Failure)'],
      ],
      ['Delivery to the following recipient failed permanently:', '', '     nope@example.com', '', 'Technical details of permanent failure:', '550 5.1.1 The email account that you tried to reach does not exist.'],
      { address: 'nope@example.com' },
    ],
    [
      'German subject, postmaster sender, null return path',
      [
        ['From', 'postmaster@mail.example.de'],
        ['To', 'support@shop.example'],
        ['Subject', 'Unzustellbar: Ihre Bestellung'],
        ['Return-Path', '<>'],
      ],
      ['Die Nachricht konnte nicht zugestellt werden an:', 'kunde@example.de: 550 Mailbox unavailable'],
      { address: 'kunde@example.de', status: '5.0.0' },
    ],
  ] as Array<[string, Array<[string, string]>, string[], Record<string, string>]>)('%s', async (_l, headers, body, first) => {
    const c = await classify(raw(headers, body));
    expect(c.kind).toBe('bounce');
    expect(c.bounce!.source).toBe('heuristic');
    expect(c.bounce!.permanent).toBe(true);
    expect(c.bounce!.recipients[0]).toMatchObject(first);
  });

  it('finds the bounced Message-ID in the quoted original', async () => {
    const c = await classify(
      raw(
        [
          ['From', 'MAILER-DAEMON@mail.example.org'],
          ['Subject', 'failure notice'],
          ['Return-Path', '<>'],
        ],
        ['<lost@example.org>:', '550 no such user', '', '--- Below this line is a copy of the message.', '', `Message-ID: ${ourId}`],
      ),
    );
    expect(c.bounce!.originalMessageId).toBe(ourId.slice(1, -1));
  });

  it('a delay warning is a non-permanent bounce', async () => {
    const c = await classify(
      raw(
        [
          ['From', 'Mail Delivery Subsystem <mailer-daemon@googlemail.com>'],
          ['Subject', 'Delivery Status Notification (Delay)'],
          ['Return-Path', '<>'],
        ],
        ['Delivery to the following recipient has been delayed:', '', '     later@example.com', '', 'Message will be retried for 2 more day(s)'],
      ),
    );
    expect(c.kind).toBe('bounce');
    expect(c.bounce).toMatchObject({ type: 'delay', permanent: false });
    expect(c.bounce!.recipients[0]).toMatchObject({ address: 'later@example.com', action: 'delayed' });
  });

  it.each([
    ['a bounce-like subject from a person with a normal return path', [['From', 'ann@customer.example'], ['Subject', 'Returned mail: what does this mean?'], ['Return-Path', '<ann@customer.example>']]],
    ['a postmaster writing a normal message', [['From', 'postmaster@customer.example'], ['Subject', 'Your DNS records'], ['Return-Path', '<postmaster@customer.example>']]],
  ] as Array<[string, Array<[string, string]>]>)('not a bounce: %s', async (_l, headers) => {
    const c = await classify(raw(headers));
    expect(c.kind).toBe('normal');
  });

  it('a MAILER-DAEMON notice that is not a bounce is still machine mail', async () => {
    const c = await classify(raw([['From', 'MAILER-DAEMON@mx.example.org'], ['Subject', 'Postfix SMTP server: errors from localhost']]));
    expect(c.kind).toBe('auto_reply');
  });
});

describe('classifyMessage: feedback reports and read receipts', () => {
  it('an ARF abuse report is a permanent complaint about the reported recipient', async () => {
    const r = Buffer.from(
      [
        'From: abuse@isp.example',
        'To: support@shop.example',
        'Subject: FW: Your order',
        'MIME-Version: 1.0',
        'Content-Type: multipart/report; report-type=feedback-report; boundary="F"',
        '',
        '--F',
        'Content-Type: text/plain',
        '',
        'This is an email abuse report.',
        '--F',
        'Content-Type: message/feedback-report',
        '',
        'Feedback-Type: abuse',
        'User-Agent: SomeGenerator/1.0',
        'Version: 1',
        'Original-Rcpt-To: <Complainer@Example.net>',
        '',
        '--F',
        'Content-Type: message/rfc822',
        'Content-Disposition: inline',
        '',
        'From: support@shop.example',
        'To: complainer@example.net',
        `Message-ID: ${ourId}`,
        'Subject: Your order',
        '',
        'body',
        '--F--',
        '',
      ].join('\r\n'),
    );
    const c = await classify(r);
    expect(c.kind).toBe('bounce');
    expect(c.bounce).toMatchObject({ type: 'complaint', permanent: true, source: 'arf', originalMessageId: ourId.slice(1, -1) });
    expect(c.bounce!.recipients).toEqual([{ address: 'complainer@example.net', finalAddress: null, status: null, action: 'abuse', diagnostic: null }]);
  });

  it('a read receipt (MDN) is an auto-reply', async () => {
    const r = Buffer.from(
      [
        'From: ann@customer.example',
        'To: support@shop.example',
        'Subject: Read: Your order',
        'Content-Type: multipart/report; report-type=disposition-notification; boundary="M"',
        '',
        '--M',
        'Content-Type: text/plain',
        '',
        'Your message was displayed.',
        '--M',
        'Content-Type: message/disposition-notification',
        '',
        'Reporting-UA: mail.customer.example',
        'Final-Recipient: rfc822; ann@customer.example',
        'Disposition: manual-action/MDN-sent-manually; displayed',
        '',
        '--M--',
        '',
      ].join('\r\n'),
    );
    const c = await classify(r);
    expect(c.kind).toBe('auto_reply');
    expect(c.reasons).toContain('read_receipt');
  });
});

describe('classifyMessage: delay warnings are delivery reports, not auto-replies', () => {
  const daemon = (from: string, subject: string, extra: Array<[string, string]> = [], body: string[] = ['This is a warning message only.']) =>
    raw(
      [
        ['From', from],
        ['To', 'support@shop.example'],
        ['Message-ID', '<d1@mx.example>'],
        ['Date', 'Tue, 2 Apr 2024 09:00:00 +0000'],
        ['Subject', subject],
        ...extra,
      ],
      body,
    );
  it.each([
    ['sendmail four-hour warning', daemon('Mail Delivery Subsystem <MAILER-DAEMON@mx.example>', 'Warning: could not send message for past 4 hours', [['Auto-Submitted', 'auto-generated (warning-timeout)']], ['    **********************************************', '    **      THIS IS A WARNING MESSAGE ONLY      **', '    **  YOU DO NOT NEED TO RESEND YOUR MESSAGE  **', '', 'The original message was received at Tue, 2 Apr 2024', '----- Transcript of session follows -----', '<bob@far.example>... Deferred: Connection timed out with far.example.', 'Warning: message still undelivered after 4 hours', 'Will keep trying until message is 5 days old'])],
    ['Exim delay', daemon('Mail Delivery System <Mailer-Daemon@mx.example>', 'Warning: message 1abc-0002 delayed 24 hours', [['Auto-Submitted', 'auto-replied']], ['This message was created automatically by mail delivery software.', 'A message that you sent has not yet been delivered to one or more of its', 'recipients after more than 24 hours on the queue on mx.example.', '', '  bob@far.example', '    Delay reason: SMTP error from remote mail server after RCPT TO:<bob@far.example>:', '    451 4.7.1 Greylisted, please try again later', '', 'No action is required on your part. Delivery attempts will continue for some time.'])],
  ] as const)('%s', async (_label, mail) => {
    const c = await classify(mail);
    expect(c.kind).toBe('bounce');
    expect(c.bounce).toMatchObject({ type: 'delay', permanent: false });
  });

  it('a person writing about a delay is normal mail', async () => {
    expect((await classify(daemon('Bob <bob@customer.example>', 'Delay on my order'))).kind).toBe('normal');
  });
});
