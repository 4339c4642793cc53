import { describe, expect, it } from 'vitest';
import { byReferencedBy, findConversation, orphansToRethread, snapshotFromMaps } from './threading.js';
import { inbound, opts } from './threading.fixtures.js';

describe('threading strategy: referenced_by (reply arrived before its parent)', () => {
  const snapshot = snapshotFromMaps({
    stored: [
      { conversationId: 'conv_ORPHAN', inReplyTo: 'parent@x', references: ['root@x', 'parent@x'] },
      { conversationId: 'conv_OTHER', inReplyTo: 'unrelated@x', references: [] },
    ],
  });

  it('joins the conversation of the reply that names it', () => {
    expect(byReferencedBy(inbound({ messageId: 'parent@x' }), snapshot, opts())).toMatchObject({ conversationId: 'conv_ORPHAN', strategy: 'referenced_by' });
    expect(byReferencedBy(inbound({ messageId: 'root@x' }), snapshot, opts())).toMatchObject({ conversationId: 'conv_ORPHAN' });
  });

  it('no answer without a Message-ID or a referencing message', () => {
    expect(byReferencedBy(inbound({ messageId: null }), snapshot, opts())).toBeNull();
    expect(byReferencedBy(inbound({ messageId: 'nobody@x' }), snapshot, opts())).toBeNull();
  });

  it('a known ancestor wins over referenced_by', () => {
    const snap = snapshotFromMaps({ messages: { 'root@x': 'conv_ROOT' }, stored: [{ conversationId: 'conv_ORPHAN', inReplyTo: 'parent@x', references: [] }] });
    expect(findConversation(inbound({ messageId: 'parent@x', inReplyTo: 'root@x' }), snap, opts())).toMatchObject({ conversationId: 'conv_ROOT', strategy: 'in_reply_to' });
  });
});

describe('orphansToRethread', () => {
  const orphans = [
    { messageRef: 'm1', conversationId: 'conv_O1', inReplyTo: 'parent@x', references: ['parent@x'] },
    { messageRef: 'm2', conversationId: 'conv_O1', inReplyTo: 'm1@x', references: ['parent@x', 'm1@x'] },
    { messageRef: 'm3', conversationId: 'conv_O2', inReplyTo: 'other@x', references: ['parent@x', 'other@x'] },
    { messageRef: 'm4', conversationId: 'conv_P', inReplyTo: 'parent@x', references: [] },
    { messageRef: 'm5', conversationId: 'conv_Z', inReplyTo: 'nothing@x', references: ['nothing@x'] },
  ];

  it('returns one merge per orphan conversation, into the parent conversation', () => {
    expect(orphansToRethread({ messageId: 'parent@x', conversationId: 'conv_P' }, orphans)).toEqual([
      { fromConversationId: 'conv_O1', toConversationId: 'conv_P', messageRefs: ['m1', 'm2'], via: 'in_reply_to' },
      { fromConversationId: 'conv_O2', toConversationId: 'conv_P', messageRefs: ['m3'], via: 'references' },
    ]);
  });

  it('nothing to do when the parent has no Message-ID or nobody references it', () => {
    expect(orphansToRethread({ messageId: null, conversationId: 'conv_P' }, orphans)).toEqual([]);
    expect(orphansToRethread({ messageId: 'lonely@x', conversationId: 'conv_P' }, orphans)).toEqual([]);
  });
});
