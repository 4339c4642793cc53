import { describe, expect, it } from 'vitest';
import { BOUNCE_FORMATS, detectBounceFormat, ownText, readAmazonSesNotification, type FormatInput } from './bounce-formats.js';
import { detectChallenge } from './challenge-response.js';

const input = (subject: string, lines: string[], headers: Record<string, string> = {}): FormatInput => ({
  subject,
  text: lines.join('\n'),
  headerFields: Object.entries(headers).map(([key, value]) => ({ key: key.toLowerCase(), value })),
});

describe('detectBounceFormat: one strategy a family', () => {
  it.each<[string, FormatInput, string | null, 'failure' | 'delay' | null]>([
    ['qmail', input('failure notice', ['Hi. This is the qmail-send program at mx.example.net.', '<a@example.net>:', 'Sorry, no mailbox here by that name.']), 'qmail', 'failure'],
    ['qmail giving up after the queue lifetime', input('failure notice', ["I'm not going to try again; this message has been in the queue too long."]), 'qmail', 'failure'],
    ['sendmail permanent', input('Returned mail: User unknown', ['   ----- The following addresses had permanent fatal errors -----', '<a@example.net>']), 'sendmail', 'failure'],
    [
      'sendmail four-hour warning',
      input('Warning: could not send message for past 4 hours', ['    **      THIS IS A WARNING MESSAGE ONLY      **', '   ----- Transcript of session follows -----']),
      'sendmail',
      'delay',
    ],
    [
      'Exim failure',
      input('Mail delivery failed', [
        'This message was created automatically by mail delivery software.',
        '',
        'A message that you sent could not be delivered to one or more of its',
        'recipients. This is a permanent error. The following address(es) failed:',
      ]),
      'exim',
      'failure',
    ],
    [
      'Exim delay',
      input('Warning: message 1a-2b-3c delayed 24 hours', [
        'This message was created automatically by mail delivery software.',
        'A message that you sent has not yet been delivered to one or more of its',
        'recipients after more than 24 hours on the queue on mx.example.net.',
      ]),
      'exim',
      'delay',
    ],
    ['Exim-like preamble alone is not enough', input('Hello', ['This message was created automatically by mail delivery software.', 'Your mailbox is 90% full.']), null, null],
    [
      'Postfix failure',
      input('Undelivered Mail Returned to Sender', [
        'This is the mail system at host mx.example.net.',
        '',
        "I'm sorry to have to inform you that your message could not",
        'be delivered to one or more recipients.',
      ]),
      'postfix',
      'failure',
    ],
    [
      'Postfix delay',
      input('Delayed Mail (still being retried)', ['This is the mail system at host mx.example.net.', '# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #']),
      'postfix',
      'delay',
    ],
    ['Domino by subject', input('DELIVERY FAILURE: Mailbox full', ['Your message was not delivered.']), 'domino', 'failure'],
    [
      'Domino by body',
      input('Undeliverable', ['was not delivered to:', '', '  bob@example.net', '', 'because:', '', '  User bob not listed in Domino Directory']),
      'domino',
      'failure',
    ],
    ['Exchange', input('Undeliverable: Quote', ['Delivery has failed to these recipients or groups:', '', 'bob@example.net']), 'exchange', 'failure'],
    ['Exchange delay', input('Delivery delayed: Quote', ['Delivery is delayed to these recipients or groups:', 'bob@example.net']), 'exchange', 'delay'],
    [
      'Gmail failure text',
      input('Delivery Status Notification (Failure)', ['Delivery to the following recipient failed permanently:', '', '     bob@example.net']),
      'gmail',
      'failure',
    ],
    ['delay notice by subject only', input('Delivery Status Notification (Delay)', ['Message will be retried for 2 more day(s)']), 'delay', 'delay'],
    ['FML rejection', input('Rejected: not member', ['you are not a member'], { 'X-MLServer': 'fml [fml 4.0.3 release]' }), 'fml', 'failure'],
    ['FML list post is not a bounce', input('[users:01234] Meeting notes', ['Minutes attached.'], { 'X-MLServer': 'fml [fml 4.0.3 release]' }), null, null],
    ['forwarded by a person', input('Fwd: failure notice', ['Hi. This is the qmail-send program at mx.example.net.']), null, null],
    [
      'quoted in a reply',
      input('Re: help', [
        'What does this mean?',
        '> Hi. This is the qmail-send program at mx.example.net.',
        "> I'm afraid I wasn't able to deliver your message to the following addresses.",
      ]),
      null,
      null,
    ],
    [
      'below an Outlook original-message marker',
      input('RE: help', ['See below.', '-----Original Message-----', 'This is the mail system at host mx.example.net.', 'could not be delivered to one or more recipients']),
      null,
      null,
    ],
    ['ordinary mail', input('Your quote', ['Hello, please find the quote attached.']), null, null],
    ['a customer writing "Delivery delayed:"', input('Delivery delayed: where is my order?', ['It was due on Monday.']), null, null],
    ['a logistics "Delivery report:"', input('Delivery report: March', ['All parcels delivered.']), null, null],
    ['a reply quoting a bounce under "On ... wrote:"', input('Re: Undeliverable', ['Sorry, use my new address.', '', 'On Tue, 2 Apr 2024, Mail Delivery System wrote:', 'This is the mail system at host mx.example.net.', 'could not be delivered to one or more recipients']), null, null],
    ['an Outlook reply quoting a bounce under its header block', input('RE: failure notice', ['Please resend.', '', 'From: MAILER-DAEMON@mx.example.net', 'Sent: Tuesday, April 2, 2024 9:00 AM', 'Hi. This is the qmail-send program at mx.example.net.']), null, null],
  ])('%s', (_label, i, format, type) => {
    const h = detectBounceFormat(i);
    expect(h?.format ?? null).toBe(format);
    expect(h?.type ?? null).toBe(type);
  });

  it('Domino names its recipients and reason', () => {
    const h = detectBounceFormat(
      input('DELIVERY FAILURE: x', ['was not delivered to:', '', '  Bob@Example.net', '  carol@example.net', '', 'because:', '', '  550 5.1.1 User unknown']),
    );
    expect(h?.recipients).toEqual([
      { address: 'bob@example.net', status: null, diagnostic: '550 5.1.1 User unknown' },
      { address: 'carol@example.net', status: null, diagnostic: '550 5.1.1 User unknown' },
    ]);
  });

  it('tries the strategies in a fixed order, the delay-by-subject one last', () => {
    expect(BOUNCE_FORMATS.map((f) => f.name)).toEqual(['qmail', 'sendmail', 'exim', 'postfix', 'domino', 'exchange', 'gmail', 'fml', 'delay']);
  });

  it('ownText drops quoted lines and what follows a forward marker', () => {
    expect(ownText('a\n> b\nc\n---------- Forwarded message ---------\nd')).toBe('a\nc\n');
  });
});

describe('readAmazonSesNotification', () => {
  it.each<[string, string, string | null]>([
    ['plain JSON', JSON.stringify({ notificationType: 'Bounce', bounce: { bounceType: 'Permanent', bouncedRecipients: [{ emailAddress: 'a@example.net' }] }, mail: {} }), 'bounce'],
    ['event publishing (eventType)', JSON.stringify({ eventType: 'Complaint', complaint: { complainedRecipients: [{ emailAddress: 'a@example.net' }] }, mail: {} }), 'complaint'],
    [
      'SNS envelope',
      JSON.stringify({ Type: 'Notification', Message: JSON.stringify({ notificationType: 'Delivery', delivery: { recipients: ['a@example.net'] }, mail: {} }) }),
      'delivery',
    ],
    ['other JSON', JSON.stringify({ hello: 'world' }), null],
    ['broken JSON', '{"notificationType": "Bounce", ', null],
    ['a bounce without its bounce object', JSON.stringify({ notificationType: 'Bounce' }), null],
    ['prose', 'Please find the notificationType field documented below.', null],
  ])('%s', (_label, text, kind) => {
    expect(readAmazonSesNotification(text)?.kind ?? null).toBe(kind);
  });

  it('drops recipients without an address and reads the Message-ID from the headers list', () => {
    const n = readAmazonSesNotification(
      `prefix text\n${JSON.stringify({ notificationType: 'Bounce', bounce: { bounceType: 'Undetermined', bouncedRecipients: [{ emailAddress: 'A@Example.net', status: '5.0.0' }, { foo: 1 }, 'x'] }, mail: { headers: [{ name: 'Message-Id', value: '<m@shop.example>' }] } })}\n-- footer`,
    );
    expect(n).toEqual({
      kind: 'bounce',
      subtype: 'undetermined',
      recipients: [{ address: 'a@example.net', status: '5.0.0', action: null, diagnostic: null }],
      originalMessageId: 'm@shop.example',
    });
  });
});

describe('detectChallenge', () => {
  const c = (subject: string, text: string, from = 'x@customer.example', name = '', headers: Record<string, string> = {}) =>
    detectChallenge({ subject, text, from: { name, address: from }, headerFields: Object.entries(headers).map(([key, value]) => ({ key, value })) });
  it.each<[string, ReturnType<typeof c>, string | null | undefined]>([
    ['Boxbe by domain', c('Request to join my Guest List', 'Please approve: I use a guest list.', 'notify@boxbe.com'), 'boxbe'],
    [
      'Spam Arrest by name',
      c('[Spam Arrest] Verification required', 'Please click the link to verify that you are a person.', 'noreply@customer.example', 'Spam Arrest'),
      'spamarrest',
    ],
    [
      'TMDA by header',
      c('Please confirm your message', 'Your message is held pending until you confirm it by replying.', 'x@customer.example', '', { 'x-delivery-agent': 'TMDA/1.1.12' }),
      'tmda',
    ],
    ['BoxTrapper', c('verify#abc123', 'BoxTrapper: your message is held until you reply to verify that you are a real person.'), 'boxtrapper'],
    ['generic: verify + held', c('Re: quote', 'To prove that you are human, click below; your message will not be delivered until you do. Click to verify.'), null],
    ['signup verification is not a challenge', c('Verify your email address', 'Click to verify your email address for your new account.'), undefined],
    ['mentions a service without asking anything', c('Boxbe?', 'Have you tried Boxbe?'), undefined],
  ])('%s', (_label, hit, service) => {
    if (service === undefined) expect(hit).toBeNull();
    else expect(hit?.service).toBe(service);
  });
});
