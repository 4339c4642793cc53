import { describe, expect, it } from 'vitest';
import { bySubject, findConversation, snapshotFromMaps, type CandidateConversation } from './threading.js';
import { subjectKey } from './subject.js';
import { addr, daysAgo, inbound, opts } from './threading.fixtures.js';

const conv = (id: string, subject: string, participants: string[], last: Date): CandidateConversation => ({
  conversationId: id,
  subjectKey: subjectKey(subject),
  participants,
  lastMessageAt: last,
});

describe('threading strategy: subject', () => {
  const candidates = [
    conv('conv_ANN', 'Question about my order', ['ann@customer.example', 'support@shop.example'], daysAgo(3)),
    conv('conv_BOB', 'Question about my order', ['bob@other.example', 'support@shop.example'], daysAgo(1)),
    conv('conv_OLD', 'Invoice 42', ['ann@customer.example'], daysAgo(45)),
  ];
  const snapshot = snapshotFromMaps({ candidates });

  it.each([
    ['Re: with the same sender', { subject: 'Re: Question about my order' }, 'conv_ANN'],
    ['German AW: and other case', { subject: 'AW: QUESTION ABOUT MY ORDER' }, 'conv_ANN'],
    ['unresolved In-Reply-To counts as a response', { subject: 'Question about my order', inReplyTo: 'lost@x' }, 'conv_ANN'],
    ['participant matched through Cc', { subject: 'Re: Question about my order', from: addr('carl@third.example'), cc: [addr('bob@other.example')] }, 'conv_BOB'],
  ] as const)('%s', (_l, partial, expected) => {
    expect(bySubject(inbound(partial), snapshot, opts())).toMatchObject({ kind: 'existing', conversationId: expected, strategy: 'subject' });
  });

  it.each([
    ['no response marker (a new question with the same words)', { subject: 'Question about my order' }, {}],
    ['only our own address is shared', { subject: 'Re: Question about my order', from: addr('eve@new.example') }, {}],
    ['outside the window', { subject: 'Re: Invoice 42' }, {}],
    ['empty subject', { subject: 'Re:' }, {}],
  ] as const)('no answer: %s', (_l, partial, extra) => {
    expect(bySubject(inbound(partial), snapshot, opts(extra))).toBeNull();
  });

  it('the window is configurable', () => {
    expect(bySubject(inbound({ subject: 'Re: Invoice 42' }), snapshot, opts({ subjectWindowDays: 60 }))).toMatchObject({ conversationId: 'conv_OLD' });
  });

  it('without the marker requirement a plain subject matches', () => {
    expect(bySubject(inbound({ subject: 'Question about my order' }), snapshot, opts({ subjectRequiresResponseMarker: false }))).toMatchObject({
      conversationId: 'conv_ANN',
    });
  });

  it('picks the most recent of several matching conversations', () => {
    const snap = snapshotFromMaps({
      candidates: [
        conv('conv_1', 'Hello', ['ann@customer.example'], daysAgo(10)),
        conv('conv_2', 'Hello', ['ann@customer.example'], daysAgo(2)),
      ],
    });
    expect(bySubject(inbound({ subject: 'Re: Hello' }), snap, opts())).toMatchObject({ conversationId: 'conv_2' });
  });

  it('is the last resort before new in the chain', () => {
    const snap = snapshotFromMaps({ candidates, messages: {} });
    expect(findConversation(inbound({ subject: 'Re: Question about my order', inReplyTo: 'unknown@x' }), snap, opts())).toMatchObject({
      strategy: 'subject',
      conversationId: 'conv_ANN',
    });
  });
});
