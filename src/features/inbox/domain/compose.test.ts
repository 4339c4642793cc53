import { describe, expect, it } from 'vitest';
import { replyRecipients, threadingHeaders, trimReferences, type Mailbox, type ThreadMessage } from './compose.js';

const msg = (over: Partial<ThreadMessage>): ThreadMessage => ({
  messageId: 'c1@example.org',
  direction: 'inbound',
  classification: 'normal',
  from: { name: 'Carla', address: 'carla@example.org' },
  to: [{ address: 'support@acme.test' }],
  cc: [],
  replyTo: [],
  subject: 'Order 1001',
  references: [],
  text: null,
  at: Date.UTC(2026, 0, 7, 10),
  ...over,
});
const a = (...addresses: string[]): Mailbox[] => addresses.map((address) => ({ address }));

// Every address of the inbox's team connections (two team addresses, one with a forwarding address).
const OWN = ['support@acme.test', 'fwd-1@inbound.test', 'help@xn--bcher-kva.example'];

describe('replyRecipients: reply-all keeps every To/Cc recipient except the inbox\'s own addresses', () => {
  it.each<[string, Partial<ThreadMessage>, { to: string[]; cc: string[] }]>([
    ['everyone on To and Cc stays', { to: a('support@acme.test', 'dan@example.org', 'fay@example.org'), cc: a('eve@example.org', 'gus@example.net') }, { to: ['carla@example.org'], cc: ['dan@example.org', 'fay@example.org', 'eve@example.org', 'gus@example.net'] }],
    ['our address only on Cc (To names someone else)', { to: a('dan@example.org'), cc: a('support@acme.test') }, { to: ['carla@example.org'], cc: ['dan@example.org'] }],
    ['our address in another case', { to: a('SUPPORT@Acme.Test', 'dan@example.org') }, { to: ['carla@example.org'], cc: ['dan@example.org'] }],
    ['our IDN address in Unicode while the key is punycode', { to: a('Help@Bücher.Example', 'dan@example.org') }, { to: ['carla@example.org'], cc: ['dan@example.org'] }],
    ['the forwarding address and the other team address of the inbox', { to: a('fwd-1@inbound.test'), cc: a('help@xn--bcher-kva.example', 'eve@example.org') }, { to: ['carla@example.org'], cc: ['eve@example.org'] }],
    ['repeats across To and Cc, in any case, once', { to: a('dan@example.org', 'Carla@Example.org'), cc: a('DAN@example.org', 'eve@example.org') }, { to: ['carla@example.org'], cc: ['dan@example.org', 'eve@example.org'] }],
    ['Reply-To replaces From, and the others still stay', { replyTo: a('orders@example.org'), to: a('support@acme.test', 'dan@example.org') }, { to: ['orders@example.org'], cc: ['dan@example.org'] }],
    ['a follow-up after our own message: its To, then its Cc', { direction: 'outbound', from: { address: 'support@acme.test' }, to: a('carla@example.org', 'dan@example.org'), cc: a('eve@example.org', 'Support@acme.test') }, { to: ['carla@example.org', 'dan@example.org'], cc: ['eve@example.org'] }],
    ['an address that is not a valid key is compared lower-cased', { to: a('odd address@x'), cc: a('ODD ADDRESS@x') }, { to: ['carla@example.org'], cc: ['odd address@x'] }],
  ])('%s', (_name, over, want) => {
    const r = replyRecipients('reply_all', msg(over), OWN);
    expect({ to: r.to.map((m) => m.address.toLowerCase()), cc: r.cc.map((m) => m.address.toLowerCase()) }).toEqual(want);
  });

  it('plain reply: only the customer', () => {
    expect(replyRecipients('reply', msg({ to: a('support@acme.test', 'dan@example.org') }), OWN)).toEqual({ to: [{ name: 'Carla', address: 'carla@example.org' }], cc: [] });
  });
});

describe('threadingHeaders and trimReferences', () => {
  const ids = (n: number) => Array.from({ length: n }, (_, i) => `r${i}@example.org`);
  it.each<[string, Partial<ThreadMessage>, { inReplyTo: string | null; references: string[] }]>([
    ['first reply: the parent only', {}, { inReplyTo: 'c1@example.org', references: ['c1@example.org'] }],
    ['parent\'s References, then the parent', { references: ['r0@x.org', 'r1@x.org'] }, { inReplyTo: 'c1@example.org', references: ['r0@x.org', 'r1@x.org', 'c1@example.org'] }],
    ['the parent\'s own id in its References is not repeated', { references: ['r0@x.org', 'C1@example.org'] }, { inReplyTo: 'c1@example.org', references: ['r0@x.org', 'c1@example.org'] }],
    ['too long: the root and the newest, 20 in all', { references: ids(30) }, { inReplyTo: 'c1@example.org', references: ['r0@example.org', ...ids(30).slice(-18), 'c1@example.org'] }],
    ['a parent without Message-ID: its References only', { messageId: null, references: ['r0@x.org'] }, { inReplyTo: null, references: ['r0@x.org'] }],
  ])('%s', (_name, over, want) => {
    expect(threadingHeaders(msg(over))).toEqual(want);
  });

  it.each<[string, string[], number, string[]]>([
    ['angle brackets removed, repeats dropped (case-insensitively)', ['<a@x>', 'b@x', 'A@x', ' c@x '], 20, ['a@x', 'b@x', 'c@x']],
    ['ids with spaces or empty are dropped', ['a@x', 'b c@x', '', '<>'], 20, ['a@x']],
    ['root kept when trimming', ['a@x', 'b@x', 'c@x', 'd@x'], 3, ['a@x', 'c@x', 'd@x']],
    ['a cap of one keeps the newest', ['a@x', 'b@x'], 1, ['b@x']],
  ])('%s', (_name, input, max, want) => {
    expect(trimReferences(input, max)).toEqual(want);
  });
});
