import { describe, expect, test } from 'vitest';
import { hasRoom, isPlanId, limitsFor, PLAN_IDS, PLAN_LIMITS, planAllowing, type CountLimit, type PlanLimits } from './plans.js';

const NUMERIC: CountLimit[] = [
  'conversationsInboxes',
  'personalConnectionsPerUser',
  'teamConnectionsPerInbox',
  'sequences',
  'sendsPerDay',
  'sendsPerMinute',
  'paidSeats',
  'freeSeats',
  'usersTotal',
  'contactImportRows',
  'maxAttachmentBytes',
  'routingRulesPerInbox',
];

describe('the plan table', () => {
  test('has the four plans, in order', () => {
    expect(PLAN_IDS).toEqual(['free', 'starter', 'professional', 'enterprise']);
    expect(Object.keys(PLAN_LIMITS)).toEqual([...PLAN_IDS]);
  });

  test.each(NUMERIC)('%s never shrinks from one plan to the next', (key) => {
    const values = PLAN_IDS.map((p) => PLAN_LIMITS[p][key]);
    for (let i = 1; i < values.length; i++) {
      const prev = values[i - 1]!;
      const cur = values[i]!;
      if (prev === null) expect(cur).toBeNull();
      else if (cur !== null) expect(cur).toBeGreaterThanOrEqual(prev);
    }
  });

  test.each(PLAN_IDS)('%s: counts are non-negative integers; core features present', (plan) => {
    const l: PlanLimits = PLAN_LIMITS[plan];
    for (const key of NUMERIC) {
      const v = l[key];
      if (v !== null) expect(Number.isInteger(v) && v >= 0).toBe(true);
    }
    expect(l.conversationsInboxes).toBeGreaterThanOrEqual(1);
    expect(l.personalConnectionsPerUser).toBeGreaterThanOrEqual(1);
    expect(l.teamConnectionsPerInbox).toBeGreaterThanOrEqual(1);
    expect(l.usersTotal).toBeGreaterThanOrEqual(l.paidSeats);
    expect(l.maxAttachmentBytes).toBe(20 * 1024 * 1024);
  });

  test.each(PLAN_IDS)('%s: send caps stay below the providers (Workspace 2,000/day, Microsoft 365 30/min)', (plan) => {
    expect(PLAN_LIMITS[plan].sendsPerDay).toBeLessThan(2000);
    expect(PLAN_LIMITS[plan].sendsPerMinute).toBeLessThan(30);
  });

  test('free and starter stay below consumer Gmail (500/day); free below Outlook.com (300/day)', () => {
    expect(PLAN_LIMITS.free.sendsPerDay).toBeLessThan(300);
    expect(PLAN_LIMITS.starter.sendsPerDay).toBeLessThan(500);
  });

  test('the table cannot be changed at run time', () => {
    expect(Object.isFrozen(PLAN_LIMITS)).toBe(true);
    expect(Object.isFrozen(PLAN_LIMITS.free)).toBe(true);
    expect(() => {
      (PLAN_LIMITS.free as { sendsPerDay: number }).sendsPerDay = 10_000;
    }).toThrow();
  });
});

describe('isPlanId and limitsFor', () => {
  test.each([
    ['free', true],
    ['enterprise', true],
    ['Free', false],
    ['gold', false],
    ['', false],
    [null, false],
    [3, false],
    ['toString', false],
  ])('isPlanId(%j) = %s', (x, expected) => {
    expect(isPlanId(x)).toBe(expected);
  });

  test('limitsFor returns the table row, and throws on an unknown plan', () => {
    expect(limitsFor('starter')).toBe(PLAN_LIMITS.starter);
    expect(() => limitsFor('gold' as never)).toThrow(/Unknown plan "gold"/);
  });
});

describe('hasRoom and planAllowing', () => {
  test.each([
    [1, 0, true],
    [1, 1, false],
    [0, 0, false],
    [null, 1_000_000, true],
  ] as const)('hasRoom(%s, %s) = %s', (limit, current, expected) => {
    expect(hasRoom(limit, current)).toBe(expected);
  });

  test.each([
    ['free', 'personalConnectionsPerUser', 2, 'starter'],
    ['free', 'personalConnectionsPerUser', 4, 'professional'],
    ['free', 'sequences', 1, 'starter'],
    ['free', 'freeSeats', 6, 'starter'],
    ['professional', 'conversationsInboxes', 11, 'enterprise'],
    ['enterprise', 'conversationsInboxes', 101, null],
    ['professional', 'personalConnectionsPerUser', 1_000, null],
  ] as const)('from %s, %s ≥ %s → %s', (plan, limit, needed, expected) => {
    expect(planAllowing(plan, limit, needed)).toBe(expected);
  });
});
