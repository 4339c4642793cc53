import { describe, expect, it } from 'vitest';
import { byInReplyTo, findConversation, snapshotFromMaps } from './threading.js';
import { inbound, opts } from './threading.fixtures.js';

describe('threading strategy: in_reply_to', () => {
  const snapshot = snapshotFromMaps({ messages: { 'parent@mail.example': 'conv_P', 'Case@Mail.example': 'conv_C' } });

  it.each([
    ['stored parent', { inReplyTo: 'parent@mail.example' }, 'conv_P'],
    ['ids compare with case kept', { inReplyTo: 'Case@Mail.example' }, 'conv_C'],
  ] as const)('%s', (_l, partial, conv) => {
    expect(byInReplyTo(inbound(partial), snapshot, opts())).toMatchObject({ kind: 'existing', conversationId: conv, strategy: 'in_reply_to' });
  });

  it.each([
    ['unknown parent', { inReplyTo: 'unknown@mail.example' }],
    ['no In-Reply-To', { inReplyTo: null }],
    ['different case is a different id', { inReplyTo: 'case@mail.example' }],
    ['points at itself', { inReplyTo: 'parent@mail.example', messageId: 'parent@mail.example' }],
  ] as const)('no answer: %s', (_l, partial) => {
    expect(byInReplyTo(inbound(partial), snapshot, opts())).toBeNull();
  });

  it('is what the chain uses when there is no token', () => {
    expect(findConversation(inbound({ inReplyTo: 'parent@mail.example', references: ['other@x'] }), snapshot, opts())).toMatchObject({
      conversationId: 'conv_P',
      strategy: 'in_reply_to',
    });
  });
});
