/**
 * The report families of issue 18, end to end (raw mail → parse → classify). Fixtures are written by
 * hand after the public descriptions of each format; addresses and hosts are example ones.
 */
import { describe, expect, it } from 'vitest';
import { parseMessageInline } from '../../../mail/parse/parse-inline.js';
import { classifyMessage, MESSAGE_KINDS, type Classification } from './classify.js';

const mail = (headers: Record<string, string>, body: string[]) =>
  Buffer.from(
    [
      ...Object.entries({
        'Message-ID': `<n${Math.random().toString(36).slice(2)}@relay.example>`,
        Date: 'Tue, 2 Apr 2024 09:00:00 +0000',
        To: 'sales@shop.example',
        ...headers,
      }).map(([k, v]) => `${k}: ${v}`),
      '',
      ...body,
      '',
    ].join('\r\n'),
  );
const classify = async (raw: Buffer): Promise<Classification> => classifyMessage(await parseMessageInline(raw));

const OURS = '<o.1711962000.abc@shop.example>';
const returned = (to: string) => [
  '',
  'Return-Path: <sales@shop.example>',
  'From: Sales <sales@shop.example>',
  `To: ${to}`,
  'Subject: Your quote',
  `Message-ID: ${OURS}`,
  '',
  'Hello.',
];

const sesBounce = JSON.stringify({
  notificationType: 'Bounce',
  bounce: {
    bounceType: 'Permanent',
    bounceSubType: 'General',
    bouncedRecipients: [{ emailAddress: 'Gone@Customer.example', action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }],
    timestamp: '2024-04-02T09:00:05.000Z',
    feedbackId: '0100018e9a-feedback',
    reportingMTA: 'dsn; a8-30.smtp-out.amazonses.com',
  },
  mail: {
    timestamp: '2024-04-02T09:00:00.000Z',
    source: 'sales@shop.example',
    messageId: '0100018e9a-ses-id',
    destination: ['gone@customer.example'],
    headersTruncated: false,
    headers: [{ name: 'Message-ID', value: OURS }],
    commonHeaders: { from: ['sales@shop.example'], to: ['gone@customer.example'], messageId: OURS, subject: 'Your quote' },
  },
});

type Case = [label: string, raw: Buffer, expected: { kind: Classification['kind']; type?: string; permanent?: boolean; source?: string; recipients?: string[]; reason?: string }];

const CASES: Case[] = [
  // ---- Amazon SES -----------------------------------------------------------------------------
  [
    'Amazon SES bounce notification (JSON body, SNS email subscription)',
    mail({ From: 'AWS Notifications <no-reply@sns.amazonaws.com>', Subject: 'AWS Notification Message' }, [
      sesBounce,
      '',
      '--',
      'If you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:',
    ]),
    { kind: 'bounce', type: 'failure', permanent: true, source: 'ses', recipients: ['gone@customer.example'], reason: 'amazon_ses:bounce' },
  ],
  [
    'Amazon SES transient bounce inside the SNS JSON envelope',
    mail({ From: 'AWS Notifications <no-reply@sns.amazonaws.com>', Subject: 'AWS Notification Message' }, [
      JSON.stringify({
        Type: 'Notification',
        MessageId: 'a1b2',
        TopicArn: 'arn:aws:sns:eu-west-1:123456789012:ses-bounces',
        Message: JSON.stringify({
          notificationType: 'Bounce',
          bounce: { bounceType: 'Transient', bounceSubType: 'MailboxFull', bouncedRecipients: [{ emailAddress: 'full@customer.example' }] },
          mail: { messageId: 'x', destination: ['full@customer.example'] },
        }),
      }),
    ]),
    { kind: 'bounce', type: 'failure', permanent: false, source: 'ses', recipients: ['full@customer.example'] },
  ],
  [
    'Amazon SES complaint notification',
    mail({ From: 'AWS Notifications <no-reply@sns.amazonaws.com>', Subject: 'AWS Notification Message' }, [
      JSON.stringify({
        notificationType: 'Complaint',
        complaint: { complainedRecipients: [{ emailAddress: 'angry@customer.example' }], complaintFeedbackType: 'abuse', timestamp: '2024-04-02T10:00:00.000Z' },
        mail: { commonHeaders: { messageId: OURS } },
      }),
    ]),
    { kind: 'bounce', type: 'complaint', permanent: true, source: 'ses', recipients: ['angry@customer.example'] },
  ],
  [
    'Amazon SES delivery notification is a success report',
    mail({ From: 'AWS Notifications <no-reply@sns.amazonaws.com>', Subject: 'AWS Notification Message' }, [
      JSON.stringify({ eventType: 'Delivery', delivery: { recipients: ['ok@customer.example'] }, mail: {} }),
    ]),
    { kind: 'auto_reply', reason: 'dsn_success' },
  ],
  // ---- DSN-less reports relayed under a person's or a plain mailbox's name ---------------------------
  [
    'qmail bounce relayed by a forwarder (sender is not a daemon)',
    mail({ From: 'Customer IT <it@customer.example>', Subject: 'failure notice' }, [
      'Hi. This is the qmail-send program at mx.customer.example.',
      "I'm afraid I wasn't able to deliver your message to the following addresses.",
      "This is a permanent error; I've given up. Sorry it didn't work out.",
      '',
      '<left@customer.example>:',
      'Sorry, no mailbox here by that name. (#5.1.1)',
      '',
      '--- Below this line is a copy of the message.',
      ...returned('left@customer.example'),
    ]),
    { kind: 'bounce', type: 'failure', permanent: true, recipients: ['left@customer.example'], reason: 'format:qmail' },
  ],
  [
    'sendmail bounce with a rewritten sender',
    mail({ From: 'postmaster-relay@customer.example', Subject: 'Returned mail: see transcript for details' }, [
      'The original message was received at Tue, 2 Apr 2024 09:00:01 GMT',
      'from mail.shop.example [192.0.2.10]',
      '',
      '   ----- The following addresses had permanent fatal errors -----',
      '<nobody@customer.example>',
      '    (reason: 550 5.1.1 <nobody@customer.example>... User unknown)',
      '',
      '   ----- Transcript of session follows -----',
      '... while talking to mx.customer.example.:',
      '>>> RCPT To:<nobody@customer.example>',
      '<<< 550 5.1.1 <nobody@customer.example>... User unknown',
    ]),
    { kind: 'bounce', type: 'failure', permanent: true, recipients: ['nobody@customer.example'], reason: 'format:sendmail' },
  ],
  [
    'sendmail: only the returned message names the recipient',
    mail({ From: 'Mail Delivery Subsystem <MAILER-DAEMON@mx.customer.example>', Subject: 'Returned mail: Cannot send message for 5 days' }, [
      '   ----- Transcript of session follows -----',
      '421 customer.example (smtp)... Deferred: Connection timed out',
      '',
      '   ----- Unsent message follows -----',
      'Received: by mx.customer.example; Tue, 2 Apr 2024 09:00:01 +0000',
      'From: sales@shop.example',
      'To: slow@customer.example',
      'Subject: Your quote',
    ]),
    { kind: 'bounce', type: 'failure', recipients: ['slow@customer.example'] },
  ],
  [
    'Exim bounce from a plain mailbox',
    mail({ From: 'Helpdesk <helpdesk@customer.example>', Subject: 'Mail delivery failed: returning message to sender' }, [
      'This message was created automatically by mail delivery software.',
      '',
      'A message that you sent could not be delivered to one or more of its',
      'recipients. This is a permanent error. The following address(es) failed:',
      '',
      '  moved@customer.example',
      '    host mx.customer.example [192.0.2.25]',
      '    SMTP error from remote mail server after RCPT TO:<moved@customer.example>:',
      '    550 5.1.1 Recipient address rejected: User unknown',
      '',
      '------ This is a copy of the message, including all the headers. ------',
      ...returned('moved@customer.example'),
    ]),
    { kind: 'bounce', type: 'failure', permanent: true, recipients: ['moved@customer.example'], reason: 'format:exim' },
  ],
  [
    'Lotus Domino delivery failure',
    mail({ From: 'Jane Doe/Customer <jane@customer.example>', Subject: 'DELIVERY FAILURE: User john (john@customer.example) not listed in Domino Directory' }, [
      'Your message',
      '',
      '  Subject: Your quote',
      '',
      'was not delivered to:',
      '',
      '  john@customer.example',
      '',
      'because:',
      '',
      '  User john (john@customer.example) not listed in Domino Directory',
    ]),
    { kind: 'bounce', type: 'failure', permanent: true, recipients: ['john@customer.example'], reason: 'format:domino' },
  ],
  // ---- delay warnings: transient delivery reports, not auto-replies -------------------------------
  [
    'Exim delay warning with Auto-Submitted, relayed under a plain mailbox',
    mail({ From: 'mail-admin@customer.example', Subject: 'Warning: message 1rZx4K-0003Xy-2B delayed 24 hours', 'Auto-Submitted': 'auto-replied' }, [
      'This message was created automatically by mail delivery software.',
      'A message that you sent has not yet been delivered to one or more of its',
      'recipients after more than 24 hours on the queue on mx.customer.example.',
      '',
      'The message identifier is:     1rZx4K-0003Xy-2B',
      '',
      'The address to which the message has not yet been delivered is:',
      '',
      '  busy@customer.example',
      '    Delay reason: SMTP error from remote mail server after RCPT TO:<busy@customer.example>:',
      '    451 4.2.0 Mailbox temporarily unavailable',
      '',
      'No action is required on your part. Delivery attempts will continue for',
      'some time, and this warning may be repeated at intervals if the message',
      'remains undelivered. Eventually the mail delivery software will give up,',
      'and when that happens, the message will be returned to you.',
    ]),
    { kind: 'bounce', type: 'delay', permanent: false, recipients: ['busy@customer.example'], reason: 'format:exim' },
  ],
  [
    'Postfix delay notice with an X-Autoreply header',
    mail({ From: 'Mail Delivery System <notices@customer.example>', Subject: 'Delayed Mail (still being retried)', 'X-Autoreply': 'yes' }, [
      'This is the mail system at host mx.customer.example.',
      '',
      '####################################################################',
      '# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #',
      '####################################################################',
      '',
      'Your message could not be delivered for more than 4 hour(s).',
      'It will be retried until it is 5 day(s) old.',
      '',
      '<later@customer.example>: connect to mx2.customer.example[192.0.2.26]:25: Connection timed out',
    ]),
    { kind: 'bounce', type: 'delay', permanent: false, recipients: ['later@customer.example'] },
  ],
  // ---- FML list bounce ----------------------------------------------------------------------------
  [
    'FML refusing a post is a bounce, not list mail',
    mail(
      {
        From: 'users-admin@lists.customer.example',
        Subject: 'Rejected: Not a member (users ML)',
        'X-MLServer': 'fml [fml 4.0.3 release (20011202/4.0.3)]',
        'X-ML-Name': 'users',
        'List-Id': 'users.lists.customer.example',
        Precedence: 'bulk',
      },
      [
        'You are not a member of this mailing list <users@lists.customer.example>.',
        '',
        'Original mail as follows:',
        '',
        'From: sales@shop.example',
        'To: users@lists.customer.example',
        'Subject: Offer',
        '',
        'Hello.',
      ],
    ),
    { kind: 'bounce', type: 'failure', recipients: ['users@lists.customer.example'], reason: 'format:fml' },
  ],
  // ---- auto-replies ------------------------------------------------------------------------------------
  [
    'Lotus Notes AUTO: out of the office',
    mail({ From: 'Jane Doe <jane@customer.example>', Subject: 'AUTO: Jane Doe is out of the office (returning 04/15/2024)' }, [
      'I am out of the office until 04/15/2024.',
      '',
      'I will respond to your message when I return.',
    ]),
    { kind: 'auto_reply' },
  ],
  [
    'Lotus Notes AUTO: notice whose subject repeats ours',
    mail({ From: 'Jane Doe <jane@customer.example>', Subject: 'AUTO: Re: Your quote' }, [
      'I will be out of the office starting  04/02/2024 and will not return until 04/15/2024.',
      '',
      'For urgent matters please call the office.',
    ]),
    { kind: 'auto_reply', reason: 'lotus_auto_subject' },
  ],
  [
    'vacation(1) with Precedence: junk',
    mail({ From: 'bob@customer.example', Subject: 'Re: Your quote', Precedence: 'junk' }, ['I am on vacation until April 15 and will read my mail when I return.']),
    { kind: 'auto_reply', reason: 'vacation_precedence' },
  ],
  [
    'vacation(1) default message',
    mail({ From: 'bob@customer.example', Subject: 'away from my mail' }, [
      'I will not be reading my mail for a while.',
      'Your mail concerning "Your quote" will be read when I\'m back.',
    ]),
    { kind: 'auto_reply', reason: 'vacation_program_text' },
  ],
  [
    'vacation(1) header',
    mail({ From: 'bob@customer.example', Subject: 'I am on vacation', 'Delivered-By-The-Graces-Of': 'The Vacation program' }, ['Back on Monday.']),
    { kind: 'auto_reply' },
  ],
  // ---- challenge-response -----------------------------------------------------------------------------
  [
    'Boxbe guest-list request',
    mail({ From: 'Boxbe <notify@boxbe.com>', Subject: 'Your email to Carol is waiting (Boxbe)', Precedence: 'bulk' }, [
      'Hello,',
      '',
      'Your message about "Your quote" is waiting on the Waiting List of carol@customer.example.',
      'Carol uses Boxbe to keep her inbox clean. Please verify that you are a real person and not a machine',
      'to be added to her Guest List, and your message will be delivered:',
      'https://www.boxbe.com/anno?tc=1234',
    ]),
    { kind: 'challenge', reason: 'challenge:boxbe' },
  ],
  [
    'an unknown challenge-response filter (held until you confirm)',
    mail({ From: 'carol@customer.example', Subject: 'Re: Your quote [Sender verification]', 'Auto-Submitted': 'auto-replied' }, [
      'I protect myself from spam with a sender verification system.',
      'Your message has been held and will not be delivered until you confirm that you are a person:',
      'reply to this message or click https://verify.customer.example/c/abc',
    ]),
    { kind: 'challenge', reason: 'challenge:verify_to_deliver' },
  ],
  // ---- not reports ----------------------------------------------------------------------------------
  [
    'a person forwarding a bounce to us is normal mail',
    mail({ From: 'Ann <ann@customer.example>', Subject: 'Fwd: failure notice' }, [
      'Any idea why this bounced?',
      '',
      '---------- Forwarded message ---------',
      'Hi. This is the qmail-send program at mx.customer.example.',
      "I'm afraid I wasn't able to deliver your message to the following addresses.",
    ]),
    { kind: 'normal' },
  ],
  [
    'a person writing they are on vacation, in a reply',
    mail({ From: 'Bob <bob@customer.example>', Subject: 'Re: Your quote', 'In-Reply-To': OURS }, ['Thanks! I am on vacation until Monday, I will sign it then.', '', 'Bob']),
    { kind: 'normal' },
  ],
  [
    'a list post pasting a bounce into the discussion is list mail',
    mail({ From: 'Dev <dev@customer.example>', Subject: 'Why does this bounce?', 'List-Id': '<users.httpd.example>', 'List-Post': '<mailto:users@httpd.example>' }, [
      'Our server sends this back, any idea?',
      '',
      'This message was created automatically by mail delivery software.',
      'A message that you sent could not be delivered to one or more of its',
      'recipients. This is a permanent error. The following address(es) failed:',
    ]),
    { kind: 'list' },
  ],
  [
    'a newsletter double opt-in is not a challenge',
    mail({ From: 'News <news@vendor.example>', Subject: 'Please confirm your subscription' }, [
      'Please confirm your email address by clicking the link below:',
      'https://vendor.example/confirm/abc',
    ]),
    { kind: 'normal' },
  ],
  [
    'a person mentioning Boxbe is not a challenge',
    mail({ From: 'Dan <dan@customer.example>', Subject: 'Boxbe?' }, ['Have you tried Boxbe? I hear it is good.']),
    { kind: 'normal' },
  ],
];

describe('classifyMessage: report families of issue 18', () => {
  it.each(CASES)('%s', async (_label, raw, expected) => {
    const c = await classify(raw);
    expect(c.kind).toBe(expected.kind);
    if (expected.type !== undefined) expect(c.bounce?.type).toBe(expected.type);
    if (expected.permanent !== undefined) expect(c.bounce?.permanent).toBe(expected.permanent);
    if (expected.source !== undefined) expect(c.bounce?.source).toBe(expected.source);
    if (expected.recipients !== undefined) expect(c.bounce?.recipients.map((r) => r.address)).toEqual(expected.recipients);
    if (expected.reason !== undefined) expect(c.reasons).toContain(expected.reason);
    expect(c.suppressAutoResponse).toBe(c.kind !== 'normal' || c.reasons.includes('no_reply_sender'));
  });

  it('every recognised bounce of the table names at least one failed recipient', async () => {
    for (const [label, raw, expected] of CASES) {
      if (expected.kind !== 'bounce') continue;
      const c = await classify(raw);
      expect(c.bounce?.recipients.length, label).toBeGreaterThan(0);
    }
  });

  it('an Amazon SES bounce keeps the status, the diagnostic and our Message-ID', async () => {
    const c = await classify(CASES[0]![1]);
    expect(c.bounce!.recipients[0]).toEqual({
      address: 'gone@customer.example',
      finalAddress: null,
      status: '5.1.1',
      action: 'failed',
      diagnostic: 'smtp; 550 5.1.1 user unknown',
    });
    expect(c.bounce!.originalMessageId).toBe(OURS.slice(1, -1));
  });

  it('a challenge is its own kind and names the service', async () => {
    const boxbe = CASES.find(([l]) => l.startsWith('Boxbe'))!;
    const c = await classify(boxbe[1]);
    expect(c).toMatchObject({ kind: 'challenge', challenge: { service: 'boxbe' } });
    expect(c.bounce).toBeUndefined();
    expect(MESSAGE_KINDS).toContain('challenge');
  });
});
