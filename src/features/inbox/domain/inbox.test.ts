import { describe, expect, it } from 'vitest';
import { fillPlaceholders, renderSenderName, renderSignature, type SenderContext } from './sender.js';
import { changeStatus, effectiveStatus, statusAfterMessage } from './status.js';
import { checkSender, parseSenderPattern } from './sender-lists.js';
import { distinctWords, foldForSearch, fts5Query, resolveFilter, searchDocument, searchTerms, tsQuery } from './filters.js';
import { inboxAccessLevel } from './membership.js';
import { composeText, mentionedUserIds, replyParent, replyRecipients, responseSubject, threadingHeaders, type ThreadMessage } from './compose.js';
import { isWithinWorkingHours, parseWorkingHours } from './working-hours.js';

const ctx: SenderContext = { agentName: 'Ana María López', agentEmail: 'ana@acme.test', inboxName: 'Support', companyName: 'Acme' };

describe('sender name', () => {
  const cases: Array<[string | null, string | null, Partial<SenderContext>, string]> = [
    ['agent_at_inbox', null, {}, 'Ana at Support'],
    [null, null, {}, 'Ana at Support'],
    ['agent_at_inbox', null, { agentName: '  ' }, 'Support'],
    ['inbox', null, {}, 'Support'],
    ['company', null, {}, 'Acme'],
    ['company', null, { companyName: '' }, 'Support'],
    ['custom', 'The {company_name} team', {}, 'The Acme team'],
    ['custom', '{agent_first_name} from {{ company_name }}', {}, 'Ana from Acme'],
    ['custom', '', {}, 'Support'],
    ['custom', 'Evil\r\nBcc: x@y', {}, 'Evil Bcc: x@y'],
  ];
  it.each(cases)('%s %j', (mode, custom, over, expected) => {
    expect(renderSenderName(mode, custom, { ...ctx, ...over })).toBe(expected);
  });
});

describe('signature placeholders', () => {
  it('fills known placeholders and leaves unknown ones as written', () => {
    expect(renderSignature('{agent_name} ({agent_first_name} {agent_last_name})\n{inbox_name} at {company_name}\n{agent_email} {unknown}\n', ctx)).toBe(
      'Ana María López (Ana María López)\nSupport at Acme\nana@acme.test {unknown}',
    );
    expect(renderSignature(null, ctx)).toBe('');
    expect(fillPlaceholders('{ agent_first_name }', ctx)).toBe('Ana');
  });
});

describe('status', () => {
  const now = 1_000_000;
  it('changes by people', () => {
    expect(changeStatus({ status: 'open', snoozedUntil: null }, 'closed', undefined, now)).toEqual({ ok: true, status: 'closed', snoozedUntil: null, changed: true });
    expect(changeStatus({ status: 'open', snoozedUntil: null }, 'snoozed', now + 1, now)).toMatchObject({ ok: true, status: 'snoozed', snoozedUntil: now + 1 });
    expect(changeStatus({ status: 'open', snoozedUntil: null }, 'snoozed', now, now)).toMatchObject({ ok: false, field: 'snoozedUntil' });
    expect(changeStatus({ status: 'open', snoozedUntil: null }, 'snoozed', null, now)).toMatchObject({ ok: false, field: 'snoozedUntil' });
    expect(changeStatus({ status: 'open', snoozedUntil: null }, 'closed', now + 5, now)).toMatchObject({ ok: false, field: 'snoozedUntil' });
    expect(changeStatus({ status: 'open', snoozedUntil: null }, 'pending', undefined, now)).toMatchObject({ ok: false, field: 'status' });
    expect(changeStatus({ status: 'spam', snoozedUntil: null }, 'spam', undefined, now)).toMatchObject({ ok: true, changed: false });
  });
  it('a snooze that ran out is open', () => {
    expect(effectiveStatus({ status: 'snoozed', snoozedUntil: now - 1 }, now)).toBe('open');
    expect(effectiveStatus({ status: 'snoozed', snoozedUntil: now + 1 }, now)).toBe('snoozed');
  });
  const msg: Array<[string, string, string, string, boolean]> = [
    // status, direction, kind -> status, reopened
    ['closed', 'inbound', 'normal', 'open', true],
    ['snoozed', 'inbound', 'normal', 'open', true],
    ['open', 'inbound', 'normal', 'open', false],
    ['closed', 'inbound', 'auto_reply', 'closed', false],
    ['closed', 'inbound', 'bounce', 'closed', false],
    ['closed', 'inbound', 'loop', 'closed', false],
    ['closed', 'inbound', 'list', 'closed', false],
    ['closed', 'outbound', 'normal', 'closed', false],
    ['spam', 'inbound', 'normal', 'spam', false],
    ['snoozed', 'inbound', 'auto_reply', 'snoozed', false],
  ];
  it.each(msg)('%s + %s %s -> %s', (status, direction, kind, to, reopened) => {
    const r = statusAfterMessage({ status, snoozedUntil: status === 'snoozed' ? now + 1000 : null }, { direction, kind }, now);
    expect(r.status).toBe(to);
    expect(r.reopened).toBe(reopened);
  });
});

describe('allow and deny lists', () => {
  const patterns: Array<[string, string | null]> = [
    ['Ana@Example.com', 'ana@example.com'],
    ['@example.com', '@example.com'],
    ['example.com', '@example.com'],
    ['*@Example.COM ', '@example.com'],
    ['not a domain', null],
    ['a b@example.com', null],
    ['', null],
  ];
  it.each(patterns)('pattern %j -> %j', (input, out) => {
    const r = parseSenderPattern(input);
    expect(r.ok ? r.pattern : null).toBe(out);
  });
  const lists = [
    { list: 'deny' as const, pattern: '@spam.example' },
    { list: 'allow' as const, pattern: 'friend@spam.example' },
    { list: 'deny' as const, pattern: 'pest@good.example' },
    { list: 'allow' as const, pattern: '@good.example' },
    { list: 'deny' as const, pattern: '@tie.example' },
    { list: 'allow' as const, pattern: '@tie.example' },
  ];
  const verdicts: Array<[string | null, string]> = [
    ['x@spam.example', 'deny'],
    ['x@mail.spam.example', 'deny'],
    ['x@notspam.example', 'none'],
    ['Friend@Spam.example', 'allow'],
    ['pest@good.example', 'deny'],
    ['other@good.example', 'allow'],
    ['x@tie.example', 'allow'],
    [null, 'none'],
  ];
  it.each(verdicts)('%s -> %s', (addr, verdict) => {
    expect(checkSender(lists, addr).verdict).toBe(verdict);
  });
});

describe('list filters', () => {
  it('views set status and assignee; explicit filters override', () => {
    expect(resolveFilter({}, 'me1')).toMatchObject({ ok: true, filter: { view: 'open', status: 'open', assignee: { kind: 'any' } } });
    expect(resolveFilter({ view: 'mine' }, 'me1')).toMatchObject({ ok: true, filter: { status: 'open', assignee: { kind: 'user', userId: 'me1' } } });
    expect(resolveFilter({ view: 'unassigned' }, 'me1')).toMatchObject({ ok: true, filter: { status: 'open', assignee: { kind: 'none' } } });
    expect(resolveFilter({ view: 'all' }, 'me1')).toMatchObject({ ok: true, filter: { status: null } });
    expect(resolveFilter({ view: 'spam' }, 'me1')).toMatchObject({ ok: true, filter: { status: 'spam' } });
    expect(resolveFilter({ view: 'closed', assigneeId: 'unassigned' }, 'me1')).toMatchObject({ ok: true, filter: { status: 'closed', assignee: { kind: 'none' } } });
    expect(resolveFilter({ view: 'open', status: 'any', assigneeId: 'usr_x' }, 'me1')).toMatchObject({ ok: true, filter: { status: null, assignee: { kind: 'user', userId: 'usr_x' } } });
    expect(resolveFilter({ view: 'nope' }, 'me1')).toMatchObject({ ok: false, field: 'view' });
    expect(resolveFilter({ status: 'pending' }, 'me1')).toMatchObject({ ok: false, field: 'status' });
    expect(resolveFilter({ since: 5, until: 5 }, 'me1')).toMatchObject({ ok: false, field: 'since' });
  });
  it('search words are folded, deduplicated and capped', () => {
    expect(searchTerms('  Réfund, refund ORDER #1001 carla@Example.org ')).toEqual(['refund', 'order', '1001', 'carla', 'example', 'org']);
    expect(searchTerms('a b c d e f g h i j')).toHaveLength(8);
    expect(fts5Query(['refund', 'or'])).toBe('"refund"* AND "or"*');
    expect(tsQuery(['refund', 'or'])).toBe('refund:* & or:*');
    expect(searchDocument({ subject: 'Où est ma commande?', from: { name: 'Carla', address: 'carla@example.org' }, to: [{ address: 'support@acme.test' }], text: 'Bonjour' })).toBe(
      'ou est ma commande carla carla example org support acme test bonjour',
    );
    expect(distinctWords('the order the refund order 12 the 12')).toBe('the order refund 12');
    expect(distinctWords('')).toBe('');
    expect(distinctWords('one')).toBe('one');
    expect(distinctWords(searchDocument({ subject: 'Re: x', text: '> x said: see x\r\n> x' }))).toBe('re x said see');
    expect(distinctWords('a a')).toBe('a');
    expect(distinctWords('b a b')).toBe('b a');
    // Against the plain definition (each word once, in order of first appearance) on long documents.
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let doc = 0; doc < 20; doc++) {
      const words = Array.from({ length: 1 + rnd(3000) }, () => 'w'.repeat(1 + rnd(3)) + rnd(1 + doc * 50).toString(36));
      expect(distinctWords(words.join(' '))).toBe([...new Set(words)].join(' '));
    }
  });
  it('folds plain ASCII (its fast path) exactly as the Unicode rules do', () => {
    const unicodeFold = (s: string) => s.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
    const every = Array.from({ length: 128 }, (_, i) => String.fromCharCode(i)).join('');
    for (const s of [every, ` ${every} x${every}9 `, 'Re: Order #123 -- REFUND_please\r\n\tThanks!', '', '   ', 'a\u0000b\u007fC']) {
      expect(foldForSearch(s)).toBe(unicodeFold(s));
    }
    expect(foldForSearch('Crème BRÛLÉE x')).toBe('creme brulee x');
  });
  it('folds ASCII separators of every shape (single spaces kept as they are, other runs replaced) as the Unicode rules do', () => {
    const unicodeFold = (s: string) => s.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
    const pieces = ['a', 'Z', '7', ' ', '  ', ' ,', ', ', '\r\n', ' \r\n ', '\t', '-', '_', '.', ' x ', ''];
    let seed = 7;
    const pick = () => pieces[(seed = (seed * 1103515245 + 12345) & 0x7fffffff) % pieces.length]!;
    for (let n = 0; n < 2000; n++) {
      const s = Array.from({ length: 1 + (n % 12) }, pick).join('');
      expect(foldForSearch(s), JSON.stringify(s)).toBe(unicodeFold(s));
    }
  });
});

describe('membership', () => {
  const everyone = { access: 'everyone', listed: false, teamListed: false };
  const restricted = { access: 'restricted', listed: false, teamListed: false };
  const cases: Array<[string, { role: string; state: string; seat: string }, typeof everyone, string]> = [
    ['member of an everyone inbox', { role: 'member', state: 'active', seat: 'paid' }, everyone, 'act'],
    ['view-only seat member', { role: 'member', state: 'active', seat: 'view_only' }, everyone, 'view'],
    ['non-member of a restricted inbox', { role: 'member', state: 'active', seat: 'paid' }, restricted, 'none'],
    ['listed user', { role: 'member', state: 'active', seat: 'free' }, { ...restricted, listed: true }, 'act'],
    ['listed through a team', { role: 'member', state: 'active', seat: 'paid' }, { ...restricted, teamListed: true }, 'act'],
    ['admin, not a member', { role: 'admin', state: 'active', seat: 'paid' }, restricted, 'view'],
    ['super admin, not a member', { role: 'super_admin', state: 'active', seat: 'paid' }, restricted, 'view'],
    ['admin and member', { role: 'admin', state: 'active', seat: 'paid' }, { ...restricted, listed: true }, 'act'],
    ['deactivated', { role: 'admin', state: 'deactivated', seat: 'paid' }, everyone, 'none'],
  ];
  it.each(cases)('%s', (_n, user, facts, level) => {
    expect(inboxAccessLevel(user, facts)).toBe(level);
  });
});

describe('replies', () => {
  const m = (over: Partial<ThreadMessage>): ThreadMessage => ({
    messageId: 'c1@example.org',
    direction: 'inbound',
    classification: 'normal',
    from: { name: 'Carla', address: 'carla@example.org' },
    to: [{ address: 'support@acme.test' }, { address: 'dan@example.org' }],
    cc: [{ address: 'eve@example.org' }, { address: 'fwd-1@inbound.test' }],
    replyTo: [],
    subject: 'Order 1001',
    references: [],
    text: 'Where is it?\n> old',
    at: Date.UTC(2026, 0, 7, 10),
    ...over,
  });
  const own = ['support@acme.test', 'fwd-1@inbound.test'];
  it('reply goes to the sender (or Reply-To); reply-all adds the others, never ourselves', () => {
    expect(replyRecipients('reply', m({}), own)).toEqual({ to: [{ name: 'Carla', address: 'carla@example.org' }], cc: [] });
    expect(replyRecipients('reply', m({ replyTo: [{ address: 'orders@example.org' }] }), own).to).toEqual([{ address: 'orders@example.org' }]);
    expect(replyRecipients('reply_all', m({}), own)).toEqual({ to: [{ name: 'Carla', address: 'carla@example.org' }], cc: [{ address: 'dan@example.org' }, { address: 'eve@example.org' }] });
  });
  it('a follow-up after our own message goes to the same people', () => {
    const ours = m({ direction: 'outbound', from: { name: 'Ana at Support', address: 'support@acme.test' }, to: [{ address: 'carla@example.org' }], cc: [{ address: 'dan@example.org' }] });
    expect(replyRecipients('reply', ours, own)).toEqual({ to: [{ address: 'carla@example.org' }], cc: [{ address: 'dan@example.org' }] });
  });
  it('answers the newest normal message, not an auto-reply', () => {
    const a = m({ messageId: 'a', at: 1 });
    const b = m({ messageId: 'b', at: 3, classification: 'auto_reply' });
    const c = m({ messageId: 'c', at: 2 });
    expect(replyParent([a, b, c])?.messageId).toBe('c');
    expect(replyParent([b])?.messageId).toBe('b');
    expect(replyParent([])).toBeNull();
  });
  it('subjects and threading headers', () => {
    expect(responseSubject('Re: AW: Order 1001', 'reply')).toBe('Re: Order 1001');
    expect(responseSubject('Order 1001', 'forward')).toBe('Fwd: Order 1001');
    expect(threadingHeaders(m({ references: ['r0', 'c1@example.org'] }))).toEqual({ inReplyTo: 'c1@example.org', references: ['r0', 'c1@example.org'] });
    expect(threadingHeaders(m({ references: Array.from({ length: 30 }, (_, i) => `r${i}`) })).references).toHaveLength(20);
  });
  it('body: text, signature, quote or forwarded block', () => {
    const text = composeText({ body: 'Hi Carla,\r\nit ships today.', signature: 'Ana\nSupport', mode: 'reply', parent: m({}), quote: true });
    expect(text).toBe(`Hi Carla,\nit ships today.\n\n-- \nAna\nSupport\n\nOn Wed, 07 Jan 2026 10:00:00 GMT, Carla <carla@example.org> wrote:\n> Where is it?\n>> old\n`);
    expect(composeText({ body: 'FYI', signature: '', mode: 'forward', parent: m({}) })).toContain('---------- Forwarded message ----------\nFrom: Carla <carla@example.org>');
  });
  it('mentions', () => {
    expect(mentionedUserIds('hey @usr_abc12 and @usr_abc12, mail me@usr_no', ['usr_x'])).toEqual(['usr_x', 'usr_abc12']);
  });
});

describe('working hours parsing', () => {
  it('reads the stored shape and refuses nonsense', () => {
    expect(parseWorkingHours(null).kind).toBe('always');
    expect(parseWorkingHours('{"timezone":"Europe/Paris","days":{"monday":[["09:00","17:30"]]}}')).toMatchObject({ kind: 'hours', timezone: 'Europe/Paris' });
    expect(parseWorkingHours('{"timezone":"Europe/Paris","days":{"mon":[["9","17"]]}}').kind).toBe('unreadable');
    expect(parseWorkingHours('{"timezone":"Nowhere/City","days":{}}').kind).toBe('unreadable');
    expect(parseWorkingHours('nope').kind).toBe('unreadable');
  });
  it('daylight saving time is the time zone\'s business', () => {
    const h = parseWorkingHours({ timezone: 'Europe/Paris', days: { mon: [['09:00', '10:00']] } });
    expect(isWithinWorkingHours(h, new Date('2026-01-05T08:30:00Z'))).toBe(true); // 09:30 CET
    expect(isWithinWorkingHours(h, new Date('2026-07-06T08:30:00Z'))).toBe(false); // 10:30 CEST
    expect(isWithinWorkingHours(h, new Date('2026-07-06T07:30:00Z'))).toBe(true); // 09:30 CEST
  });
});
