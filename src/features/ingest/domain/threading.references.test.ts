import { describe, expect, it } from 'vitest';
import { byReferences, findConversation, snapshotFromMaps } from './threading.js';
import { inbound, opts } from './threading.fixtures.js';

describe('threading strategy: references', () => {
  const snapshot = snapshotFromMaps({ messages: { 'root@x': 'conv_ROOT', 'mid@x': 'conv_MID' } });

  it.each([
    ['root only', ['root@x'], 'conv_ROOT'],
    ['newest stored ancestor wins', ['root@x', 'mid@x', 'unknown@x'], 'conv_MID'],
    ['unknown ids are skipped', ['a@x', 'b@x', 'root@x', 'c@x'], 'conv_ROOT'],
  ] as const)('%s', (_l, references, conv) => {
    expect(byReferences(inbound({ references: [...references] }), snapshot, opts())).toMatchObject({ conversationId: conv, strategy: 'references' });
  });

  it('ignores its own id in References', () => {
    expect(byReferences(inbound({ messageId: 'root@x', references: ['root@x'] }), snapshot, opts())).toBeNull();
  });

  it('answers when In-Reply-To is unknown (the chain falls through)', () => {
    expect(findConversation(inbound({ inReplyTo: 'lost@x', references: ['root@x', 'lost@x'] }), snapshot, opts())).toMatchObject({
      conversationId: 'conv_ROOT',
      strategy: 'references',
    });
  });
});
