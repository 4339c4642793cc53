import { describe, expect, it } from 'vitest';
import { parseMessageInline } from '../../../mail/parse/parse-inline.js';
import { INBOUND_FILTERS, runInboundFilters, type InboundFilterContext } from './inbound-filters.js';
import { makeMessageId } from '../../../mail/message/reply-token.js';

const SECRET = 'filters-test-secret-12345';

async function msg(headers: Record<string, string>, body: string[] = ['Hello.']) {
  const h: Record<string, string> = {
    From: 'Ann <ann@customer.example>',
    To: 'support@shop.example',
    Subject: 'A question',
    'Message-ID': '<m1@customer.example>',
    Date: 'Tue, 2 Apr 2024 09:00:00 +0000',
    ...headers,
  };
  const lines = Object.entries(h)
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}: ${v}`);
  return parseMessageInline(Buffer.from([...lines, '', ...body, ''].join('\r\n')));
}

const ctx: InboundFilterContext = { accountId: 'acc_1', replyTokenSecret: SECRET };

describe('runInboundFilters: the decision per kind of mail', () => {
  it.each([
    ['a person writing', {}, { action: 'accept', openConversation: true, reopenConversation: true, notify: true, autoRespond: true }],
    ['our own loop', { 'X-Mailroom-Loop': 'acc_1' }, { action: 'ignore', openConversation: false, notify: false, autoRespond: false, stoppedBy: 'loop' }],
    ['an out-of-office reply', { Subject: 'Out of Office: A question', 'Auto-Submitted': 'auto-replied' }, { action: 'accept', openConversation: false, reopenConversation: false, notify: false, autoRespond: false }],
    [
      'a bounce',
      { From: 'MAILER-DAEMON@mx.example.org', Subject: 'Undelivered Mail Returned to Sender', 'X-Failed-Recipients': 'gone@example.org' },
      { action: 'accept', openConversation: false, notify: false, autoRespond: false },
    ],
    ['list mail', { 'List-Id': '<dev.lists.example>' }, { action: 'accept', openConversation: true, notify: true, autoRespond: false }],
    ['bulk mail', { Precedence: 'bulk' }, { action: 'accept', autoRespond: false }],
    ['a person who asked not to be auto-answered', { 'X-Auto-Response-Suppress': 'OOF, AutoReply' }, { action: 'accept', openConversation: true, notify: true, autoRespond: false }],
  ] as Array<[string, Record<string, string>, Record<string, unknown>]>)('%s', async (_l, headers, expected) => {
    const d = runInboundFilters(await msg(headers), ctx);
    expect(d).toMatchObject(expected);
  });

  it('a bounce carries the bounce record and a trace line', async () => {
    const d = runInboundFilters(await msg({ From: 'MAILER-DAEMON@mx.example.org', Subject: 'failure notice', 'X-Failed-Recipients': 'gone@example.org' }), ctx);
    expect(d.bounce?.recipients.map((r) => r.address)).toEqual(['gone@example.org']);
    expect(d.trace.map((t) => t.filter)).toEqual(['bounce']);
  });

  it('the loop filter stops the pipeline before anything else runs', async () => {
    const d = runInboundFilters(await msg({ 'X-Mailroom-Loop': 'acc_1', Subject: 'Re: x', 'X-Failed-Recipients': 'a@b.example' }), ctx);
    expect(d.stoppedBy).toBe('loop');
    expect(d.trace.map((t) => t.filter)).toEqual(['loop']);
    expect(d.bounce).toBeNull();
  });
});

describe('runInboundFilters: allow and deny lists', () => {
  it.each([
    ['denied address', { deny: ['ann@customer.example'] }, 'ignore', true, false],
    ['denied domain', { deny: ['@customer.example'] }, 'ignore', true, false],
    ['*@domain works too', { deny: ['*@customer.example'] }, 'ignore', true, false],
    ['domain without @ works too', { deny: ['customer.example'] }, 'ignore', true, false],
    ['allowed address beats a denied domain', { deny: ['@customer.example'], allow: ['ann@customer.example'] }, 'accept', false, true],
    ['a more specific denied address beats an allowed domain', { allow: ['@customer.example'], deny: ['ann@customer.example'] }, 'ignore', true, false],
    ['exact tie: allow wins (the inbox rule)', { allow: ['@customer.example'], deny: ['@customer.example'] }, 'accept', false, true],
    ['case does not matter', { deny: ['ANN@Customer.Example'] }, 'ignore', true, false],
    ['no match', { deny: ['@other.example'], allow: ['bob@customer.example'] }, 'accept', false, false],
    ['a different domain with the same ending is not a subdomain', { deny: ['@mer.example'] }, 'accept', false, false],
  ] as Array<[string, InboundFilterContext, string, boolean, boolean]>)('%s', async (_l, lists, action, denied, allowed) => {
    const d = runInboundFilters(await msg({}), { ...ctx, ...lists });
    expect(d.action).toBe(action);
    expect(d.sender.denyListed).toBe(denied);
    expect(d.sender.allowListed).toBe(allowed);
    if (denied) expect(d.stoppedBy).toBe('sender_list');
  });

  it('a denied domain covers its subdomains', async () => {
    const d = runInboundFilters(await msg({ From: 'ann@eu.customer.example' }), { ...ctx, deny: ['@customer.example'] });
    expect(d).toMatchObject({ action: 'ignore', sender: { denyListed: true, matchedEntry: '@customer.example' } });
  });

  it('a denied sender’s bounce is still recorded (the filter runs after bounce)', async () => {
    const d = runInboundFilters(await msg({ From: 'MAILER-DAEMON@mx.example.org', Subject: 'failure notice', 'X-Failed-Recipients': 'gone@example.org' }), {
      ...ctx,
      deny: ['@mx.example.org'],
    });
    expect(d.action).toBe('ignore');
    expect(d.bounce).not.toBeNull();
  });
});

describe('runInboundFilters: follow-up hint', () => {
  const token = makeMessageId({ outboxId: 'out_9', domain: 'shop.example', secret: SECRET });
  it.each([
    ['a fresh message', {}, false, []],
    ['reply with our token', { 'In-Reply-To': token, Subject: 'Re: Your order' }, true, ['reply_token', 'in_reply_to', 'response_subject']],
    ['client dropped In-Reply-To but kept References', { References: `<a@x> ${token}` }, true, ['reply_token', 'references']],
    ['only a localized reply prefix', { Subject: 'AW: Ihre Bestellung' }, true, ['response_subject']],
    ['someone else’s thread', { 'In-Reply-To': '<x@elsewhere.example>' }, true, ['in_reply_to']],
  ] as Array<[string, Record<string, string>, boolean, string[]]>)('%s', async (_l, headers, likely, signals) => {
    const d = runInboundFilters(await msg(headers), ctx);
    expect(d.followUp).toEqual({ likely, signals });
  });
});

describe('the pipeline order', () => {
  it('is loop, auto-reply, bounce, sender lists, list mail, follow-up', () => {
    expect(INBOUND_FILTERS.map(([n]) => n)).toEqual(['loop', 'auto_reply', 'challenge', 'bounce', 'sender_list', 'list_mail', 'follow_up']);
  });
});
