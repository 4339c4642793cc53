import { describe, expect, it } from 'vitest';
import { findConversation, snapshotFromMaps, THREADING_STRATEGIES } from './threading.js';
import { inbound, opts } from './threading.fixtures.js';

describe('threading strategy: new', () => {
  it('a first message opens a new conversation', () => {
    expect(findConversation(inbound(), snapshotFromMaps({}), opts())).toEqual({ kind: 'new', strategy: 'new' });
  });

  it('a reply to something we never saw, with no subject match, is new', () => {
    expect(findConversation(inbound({ inReplyTo: 'x@y', references: ['w@y', 'x@y'], subject: 'Re: unknown' }), snapshotFromMaps({}), opts())).toEqual({
      kind: 'new',
      strategy: 'new',
    });
  });

  it('the chain order is the documented one', () => {
    expect(THREADING_STRATEGIES.map(([name]) => name)).toEqual(['reply_token', 'in_reply_to', 'references', 'referenced_by', 'subject']);
  });
});
