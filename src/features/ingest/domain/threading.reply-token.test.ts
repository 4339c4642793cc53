import { describe, expect, it } from 'vitest';
import { makeMessageId } from '../../../mail/message/reply-token.js';
import { byReplyToken, findConversation, snapshotFromMaps } from './threading.js';
import { addr, inbound, opts, SECRET } from './threading.fixtures.js';

const ours = (outboxId: string) => makeMessageId({ outboxId, domain: 'shop.example', secret: SECRET }).slice(1, -1);

describe('threading strategy: reply_token', () => {
  const snapshot = snapshotFromMaps({ outbox: { out_1: 'conv_A', out_2: 'conv_B' } });

  it.each([
    ['token in In-Reply-To', { inReplyTo: ours('out_1') }, 'conv_A'],
    ['token only in References (client dropped In-Reply-To)', { references: ['x@y', ours('out_1')] }, 'conv_A'],
    ['newest token wins', { references: [ours('out_1'), ours('out_2')] }, 'conv_B'],
    ['In-Reply-To token beats References', { inReplyTo: ours('out_1'), references: [ours('out_2')] }, 'conv_A'],
    ['unknown outbox entry falls through to an older token', { references: [ours('out_1'), ours('out_gone')] }, 'conv_A'],
  ] as const)('%s', (_label, partial, conv) => {
    const d = byReplyToken(inbound(partial), snapshot, opts());
    expect(d).toMatchObject({ kind: 'existing', conversationId: conv, strategy: 'reply_token' });
  });

  it.each([
    ['forged token', { inReplyTo: ours('out_1').replace(/\.[0-9a-f]{16}@/, '.ffffffffffffffff@') }],
    ['token made with another secret', { inReplyTo: makeMessageId({ outboxId: 'out_1', domain: 'x.example', secret: 'some-other-secret-xyz' }).slice(1, -1) }],
    ['no ids at all', {}],
    ['foreign ids only', { inReplyTo: 'abc@mail.example', references: ['def@mail.example'] }],
  ] as const)('no answer: %s', (_label, partial) => {
    expect(byReplyToken(inbound(partial), snapshot, opts())).toBeNull();
  });

  it('is skipped without a secret', () => {
    expect(byReplyToken(inbound({ inReplyTo: ours('out_1') }), snapshot, opts({ replyTokenSecret: undefined }))).toBeNull();
  });

  it('wins over a stored In-Reply-To in the chain', () => {
    const snap = snapshotFromMaps({ outbox: { out_1: 'conv_A' }, messages: { [ours('out_1')]: 'conv_OTHER' } });
    expect(findConversation(inbound({ inReplyTo: ours('out_1') }), snap, opts())).toMatchObject({ conversationId: 'conv_A', strategy: 'reply_token' });
  });

  // Where our address sits among the recipients never matters: the token in the ids decides (issue 21, item 3).
  it.each([
    ['our address on To', { to: [addr('support@shop.example')] }],
    ['our address only on Cc (the customer answered someone else)', { to: [addr('dan@customer.example')], cc: [addr('support@shop.example')] }],
    ['our address only on Bcc (kept in the customer\'s sent copy)', { to: [addr('dan@customer.example')], bcc: [addr('support@shop.example')] }],
    ['our address nowhere in the headers (Bcc removed in transit)', { to: [addr('dan@customer.example')] }],
    ['no recipients at all', { to: [] }],
  ] as const)('threads into its conversation with %s', (_label, recipients) => {
    const msg = inbound({ ...recipients, subject: 'Something else entirely', inReplyTo: ours('out_1') });
    expect(findConversation(msg, snapshot, opts())).toMatchObject({ kind: 'existing', conversationId: 'conv_A', strategy: 'reply_token' });
  });
});
