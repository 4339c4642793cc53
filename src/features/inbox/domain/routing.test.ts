import { describe, expect, it } from 'vitest';
import { checkRoutingRule, routingRuleWithoutTeam, ineligibility, poolOrder, routeConversation, type AgentFacts, type RoutingRule, type UsersRule } from './routing.js';

// Wednesday 2026-01-07 10:00 UTC (11:00 in Paris, 05:00 in New York).
const NOW = new Date('2026-01-07T10:00:00Z');

const agent = (id: string, over: Partial<AgentFacts> = {}): AgentFacts => ({
  id,
  name: id[0]!.toUpperCase() + id.slice(1),
  state: 'active',
  seat: 'paid',
  isInboxMember: true,
  availability: 'available',
  workingHours: null,
  openCount: 0,
  ...over,
});

const users = (strategy: UsersRule['strategy'], userIds: string[], perUserCap: number | null = null): UsersRule => ({ kind: 'users', strategy, userIds, teamIds: [], perUserCap });

describe('eligibility', () => {
  const paris = (days: Record<string, string[][]>) => JSON.stringify({ timezone: 'Europe/Paris', days });
  const cases: Array<[string, Partial<AgentFacts>, number | null, string | null]> = [
    ['active, paid, member, available, no hours', {}, null, null],
    ['deactivated', { state: 'deactivated' }, null, 'not_active'],
    ['removed', { state: 'removed' }, null, 'not_active'],
    ['free seat', { seat: 'free' }, null, 'no_paid_seat'],
    ['view-only seat', { seat: 'view_only' }, null, 'no_paid_seat'],
    ['not a member of the inbox', { isInboxMember: false }, null, 'not_inbox_member'],
    ['away', { availability: 'away' }, null, 'away'],
    ['inside working hours in Paris (11:00 Wed)', { workingHours: paris({ wed: [['09:00', '17:00']] }) }, null, null],
    ['outside working hours in Paris (day off)', { workingHours: paris({ mon: [['09:00', '17:00']] }) }, null, 'outside_working_hours'],
    ['before the range in New York (05:00)', { workingHours: JSON.stringify({ timezone: 'America/New_York', days: { wed: [['09:00', '17:00']] } }) }, null, 'outside_working_hours'],
    ['overnight range from Tuesday running into Wednesday (00:00 Wed in Honolulu)', { workingHours: JSON.stringify({ timezone: 'Pacific/Honolulu', days: { tue: [['22:00', '06:00']] } }) }, null, null],
    ['range ending at 24:00', { workingHours: paris({ wed: [['11:00', '24:00']] }) }, null, null],
    ['range ends exactly now (end is exclusive)', { workingHours: paris({ wed: [['09:00', '11:00']] }) }, null, 'outside_working_hours'],
    ['unreadable hours count as working', { workingHours: JSON.stringify({ timezone: 'Mars/Olympus', days: {} }) }, null, null],
    ['at the cap', { openCount: 3 }, 3, 'at_capacity'],
    ['under the cap', { openCount: 2 }, 3, null],
    ['several problems: the first in order wins', { state: 'deactivated', seat: 'free', availability: 'away' }, null, 'not_active'],
  ];
  it.each(cases)('%s', (_name, over, cap, reason) => {
    expect(ineligibility(agent('ana', over), NOW, cap)?.reason ?? null).toBe(reason);
  });
});

describe('pool order', () => {
  it('users first in their order, then team members in id order, without repeats', () => {
    const teams = new Map([
      ['t1', ['u9', 'u2']],
      ['t2', ['u1', 'u3']],
    ]);
    expect(poolOrder({ userIds: ['u3', 'u0'], teamIds: ['t1', 't2'] }, teams)).toEqual(['u3', 'u0', 'u2', 'u9', 'u1']);
  });
});

function simulate(rule: RoutingRule, agents: AgentFacts[], n: number, opts: { beforeEach?: (i: number, a: Map<string, AgentFacts>) => void; closeEvery?: number } = {}) {
  const byId = new Map(agents.map((a) => [a.id, { ...a }]));
  let pointer: string | null = null;
  const counts = new Map<string, number>();
  let unassigned = 0;
  for (let i = 0; i < n; i++) {
    opts.beforeEach?.(i, byId);
    const d = routeConversation({ rule, pool: [...byId.values()], contact: null, contactOwner: null, lastAssignedUserId: pointer, now: NOW });
    if (d.nextPointer) pointer = d.nextPointer;
    if (d.assigneeId) {
      counts.set(d.assigneeId, (counts.get(d.assigneeId) ?? 0) + 1);
      byId.get(d.assigneeId)!.openCount += 1;
    } else unassigned += 1;
  }
  return { counts, unassigned };
}

describe('round robin', () => {
  it('is fair over 1,000 assignments: counts differ by at most one', () => {
    const { counts } = simulate(users('round_robin', ['a', 'b', 'c']), [agent('a'), agent('b'), agent('c')], 1000);
    expect([...counts.values()].sort()).toEqual([333, 333, 334]);
  });

  it('stays fair among the available when someone is away part of the time', () => {
    // b is away for the second half: a and c share everything, b gets its share of the first half.
    const { counts } = simulate(users('round_robin', ['a', 'b', 'c']), [agent('a'), agent('b'), agent('c')], 1000, {
      beforeEach: (i, m) => {
        m.get('b')!.availability = i >= 500 ? 'away' : 'available';
      },
    });
    expect(counts.get('b')).toBeGreaterThanOrEqual(166);
    expect(counts.get('b')).toBeLessThanOrEqual(167);
    expect(Math.abs(counts.get('a')! - counts.get('c')!)).toBeLessThanOrEqual(1);
    expect(counts.get('a')! + counts.get('b')! + counts.get('c')!).toBe(1000);
  });

  it('continues after the last user assigned, from the top when that user left the pool', () => {
    const pool = [agent('a'), agent('b'), agent('c')];
    const next = (last: string | null) => routeConversation({ rule: users('round_robin', ['a', 'b', 'c']), pool, contact: null, contactOwner: null, lastAssignedUserId: last, now: NOW }).assigneeId;
    expect(next(null)).toBe('a');
    expect(next('a')).toBe('b');
    expect(next('c')).toBe('a');
    expect(next('gone')).toBe('a');
  });

  it('skips ineligible users and records each one with the reason', () => {
    const d = routeConversation({
      rule: users('round_robin', ['a', 'b', 'c', 'd', 'x']),
      pool: [agent('a', { availability: 'away' }), agent('b', { seat: 'free' }), agent('c', { isInboxMember: false }), agent('d')],
      contact: null,
      contactOwner: null,
      lastAssignedUserId: null,
      now: NOW,
    });
    expect(d.assigneeId).toBe('d');
    expect(d.decidedBy).toBe('round_robin');
    expect(d.skipped.map((s) => [s.userId, s.reason])).toEqual([
      ['a', 'away'],
      ['b', 'no_paid_seat'],
      ['c', 'not_inbox_member'],
      ['x', 'unknown_user'],
    ]);
    expect(d.summary).toBe('Assigned to D by round robin; skipped A (away), B (no paid seat), C (not a member of the inbox), x (no longer a user).');
  });

  it('honours the per-user cap and leaves the conversation unassigned when everyone is full', () => {
    const { counts, unassigned } = simulate(users('round_robin', ['a', 'b'], 5), [agent('a'), agent('b', { openCount: 3 })], 20);
    expect(counts.get('a')).toBe(5);
    expect(counts.get('b')).toBe(2);
    expect(unassigned).toBe(13);
    const d = routeConversation({ rule: users('round_robin', ['a'], 1), pool: [agent('a', { openCount: 1 })], contact: null, contactOwner: null, lastAssignedUserId: null, now: NOW });
    expect(d).toMatchObject({ assigneeId: null, decidedBy: null, skipped: [{ userId: 'a', reason: 'at_capacity', detail: '1 open, cap 1' }] });
    expect(d.summary).toMatch(/^Nobody eligible: left unassigned; skipped A \(at the open-conversation cap\)/);
  });
});

describe('least open load', () => {
  it('picks the user with the fewest open conversations', () => {
    const d = routeConversation({ rule: users('least_open', ['a', 'b', 'c']), pool: [agent('a', { openCount: 4 }), agent('b', { openCount: 1 }), agent('c', { openCount: 2 })], contact: null, contactOwner: null, lastAssignedUserId: null, now: NOW });
    expect(d).toMatchObject({ assigneeId: 'b', decidedBy: 'least_open' });
  });

  it('evens out load over 1,000 assignments and rotates ties', () => {
    const { counts } = simulate(users('least_open', ['a', 'b', 'c']), [agent('a', { openCount: 10 }), agent('b'), agent('c')], 1000);
    // b and c catch up to a first, then all three share: final loads differ by at most one.
    const loads = [counts.get('a')! + 10, counts.get('b')!, counts.get('c')!];
    expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(1);
  });

  it('with a cap, stops at the cap', () => {
    const { counts, unassigned } = simulate(users('least_open', ['a', 'b'], 10), [agent('a'), agent('b')], 25);
    expect(counts.get('a')).toBe(10);
    expect(counts.get('b')).toBe(10);
    expect(unassigned).toBe(5);
  });
});

describe('contact owner', () => {
  const fallback = users('round_robin', ['a', 'b']);
  const rule: RoutingRule = { kind: 'contact_owner', fallback };
  const pool = [agent('a'), agent('b')];

  it('assigns the owner when eligible', () => {
    const d = routeConversation({ rule, pool, contact: { ownerId: 'o' }, contactOwner: agent('o'), lastAssignedUserId: null, now: NOW });
    expect(d).toMatchObject({ assigneeId: 'o', decidedBy: 'contact_owner', usedFallback: false, nextPointer: null });
    expect(d.summary).toBe('Assigned to O by contact owner.');
  });

  const fallbacks: Array<[string, { ownerId: string | null } | null, AgentFacts | null, string[], string[]]> = [
    ['no contact', null, null, [], ['the sender is not a contact']],
    ['contact without owner', { ownerId: null }, null, [], ['the contact has no owner']],
    ['owner away', { ownerId: 'o' }, agent('o', { availability: 'away' }), ['away'], []],
    ['owner deactivated', { ownerId: 'o' }, agent('o', { state: 'deactivated' }), ['not_active'], []],
    ['owner not a member of the inbox', { ownerId: 'o' }, agent('o', { isInboxMember: false }), ['not_inbox_member'], []],
    ['owner unknown', { ownerId: 'o' }, null, ['unknown_user'], []],
  ];
  it.each(fallbacks)('falls back when: %s', (_n, contact, owner, reasons, notes) => {
    const d = routeConversation({ rule, pool, contact, contactOwner: owner, lastAssignedUserId: null, now: NOW });
    expect(d).toMatchObject({ assigneeId: 'a', decidedBy: 'round_robin', usedFallback: true, nextPointer: 'a' });
    expect(d.skipped.map((s) => s.reason)).toEqual(reasons);
    expect(d.notes).toEqual(notes);
    expect(d.summary).toMatch(/^Assigned to A by round robin \(fallback: the contact owner could not take it\)/);
  });

  it('with fallback none leaves it unassigned and says so', () => {
    const d = routeConversation({ rule: { kind: 'contact_owner', fallback: { kind: 'none' } }, pool: [], contact: { ownerId: 'o' }, contactOwner: agent('o', { availability: 'away' }), lastAssignedUserId: null, now: NOW });
    expect(d).toMatchObject({ assigneeId: null, usedFallback: true, notes: ['no fallback'] });
    expect(d.summary).toBe('Nobody eligible: left unassigned; skipped O (away) (no fallback).');
  });

  it('the owner is not subject to the fallback cap', () => {
    const d = routeConversation({ rule: { kind: 'contact_owner', fallback: users('round_robin', ['a'], 1) }, pool, contact: { ownerId: 'o' }, contactOwner: agent('o', { openCount: 50 }), lastAssignedUserId: null, now: NOW });
    expect(d.assigneeId).toBe('o');
  });
});

describe('no rule', () => {
  it('leaves conversations unassigned', () => {
    const d = routeConversation({ rule: { kind: 'none' }, pool: [agent('a')], contact: null, contactOwner: null, lastAssignedUserId: null, now: NOW });
    expect(d).toMatchObject({ assigneeId: null, rule: 'none', summary: 'No routing rule: left unassigned.' });
  });
});

describe('rule validation', () => {
  const cases: Array<[unknown, boolean, string?]> = [
    [{ kind: 'none' }, true],
    [{ kind: 'users', strategy: 'round_robin', userIds: ['u1'] }, true],
    [{ kind: 'users', strategy: 'least_open', teamIds: ['t1'], perUserCap: 10 }, true],
    [{ kind: 'users', strategy: 'fastest', userIds: ['u1'] }, false, 'rule.strategy'],
    [{ kind: 'users', strategy: 'round_robin' }, false, 'rule.userIds'],
    [{ kind: 'users', strategy: 'round_robin', userIds: ['u1'], perUserCap: 0 }, false, 'rule.perUserCap'],
    [{ kind: 'users', strategy: 'round_robin', userIds: ['u1'], perUserCap: 2.5 }, false, 'rule.perUserCap'],
    [{ kind: 'contact_owner' }, true],
    [{ kind: 'contact_owner', fallback: { kind: 'users', strategy: 'round_robin', userIds: [] } }, false, 'rule.fallback.userIds'],
    [{ kind: 'random' }, false, 'rule.kind'],
  ];
  it.each(cases)('%j -> %s', (input, ok, field) => {
    const r = checkRoutingRule(input);
    expect(r.ok).toBe(ok);
    if (!r.ok) expect(r.field).toBe(field);
  });
});

describe('a deleted team leaves the rules that named it', () => {
  const withTeams = (userIds: string[], teamIds: string[]): UsersRule => ({ kind: 'users', strategy: 'round_robin', userIds, teamIds, perUserCap: 3 });
  const cases: Array<[string, RoutingRule, ReturnType<typeof routingRuleWithoutTeam>]> = [
    ['no rule', { kind: 'none' }, null],
    ['a rule without the team', withTeams(['u1'], ['t2']), null],
    ['users and the team: the users stay', withTeams(['u1'], ['t1']), { rule: withTeams(['u1'], []), disabled: false }],
    ['two teams: the other stays', withTeams([], ['t1', 't2']), { rule: withTeams([], ['t2']), disabled: false }],
    ['the team alone: disabled', withTeams([], ['t1']), { rule: { kind: 'none' }, disabled: true }],
    ['contact owner, fallback the team alone: no fallback', { kind: 'contact_owner', fallback: withTeams([], ['t1']) }, { rule: { kind: 'contact_owner', fallback: { kind: 'none' } }, disabled: true }],
    ['contact owner, fallback with a user: the user stays', { kind: 'contact_owner', fallback: withTeams(['u1'], ['t1']) }, { rule: { kind: 'contact_owner', fallback: withTeams(['u1'], []) }, disabled: false }],
    ['contact owner without fallback', { kind: 'contact_owner', fallback: { kind: 'none' } }, null],
  ];
  it.each(cases)('%s', (_, rule, expected) => {
    expect(routingRuleWithoutTeam(rule, 't1')).toEqual(expected);
  });
});
