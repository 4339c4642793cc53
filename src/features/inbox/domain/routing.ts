/**
 * Routing rules of a team address: who gets a new conversation. Pure: the shell loads the facts about
 * the candidates (state, seat, inbox membership, availability, working hours, open conversations) and
 * the round-robin pointer, and stores the decision, which always says which rule decided and which
 * candidates were skipped and why (shown in the conversation).
 *
 * Rules:
 * - none: conversations stay unassigned (the default).
 * - users: specific users and teams, by round robin (the next eligible user after the last one
 *   assigned, in a stable order) or by least open load (fewest open conversations in this inbox; ties
 *   go round robin), with an optional per-user cap of open conversations.
 * - contact_owner: the owner of the conversation's contact when eligible, else a fallback (none or a
 *   users rule).
 *
 * Eligible means, in this order of checks: active user, paid seat, member of the inbox, availability
 * "available", inside their working hours (in their time zone), under the cap.
 */
import { isWithinWorkingHours, parseWorkingHours } from './working-hours.js';
import { json, readJson } from '../../../platform/database/json.js';

export { ROUTING_STRATEGIES } from '../../../shared/routing-rule.js';
export type { FallbackRule, RoutingRule, RoutingStrategy, UsersRule } from '../../../shared/routing-rule.js';
import type { RoutingRule, RoutingStrategy, UsersRule } from '../../../shared/routing-rule.js';
import { ROUTING_STRATEGIES } from '../../../shared/routing-rule.js';

/** What routing needs to know about one user. */
export interface AgentFacts {
  id: string;
  name: string;
  state: string;
  seat: string;
  isInboxMember: boolean;
  availability: string;
  /** The stored working hours (JSON text, object or null). */
  workingHours: unknown;
  /** Open conversations assigned to them in this inbox. */
  openCount: number;
}

export type SkipReason = 'not_active' | 'no_paid_seat' | 'not_inbox_member' | 'away' | 'outside_working_hours' | 'at_capacity' | 'unknown_user';

export interface Skipped {
  userId: string;
  name: string;
  reason: SkipReason;
  detail?: string;
}

export interface RoutingDecision {
  assigneeId: string | null;
  assigneeName: string | null;
  /** The configured rule. */
  rule: RoutingRule['kind'];
  /** What picked the assignee: the strategy used, 'contact_owner', or null when nobody was picked. */
  decidedBy: RoutingStrategy | 'contact_owner' | null;
  /** True when the contact-owner rule fell back. */
  usedFallback: boolean;
  /** Candidates looked at, in order. */
  considered: string[];
  skipped: Skipped[];
  /** Other facts worth showing (no contact, unreadable working hours...). */
  notes: string[];
  /** The round-robin pointer to store (the user just assigned by a users rule), or null to keep it. */
  nextPointer: string | null;
  /** One sentence for people. */
  summary: string;
}

export interface RoutingInput {
  rule: RoutingRule;
  /** Facts of the users of the users rule (or of the fallback), in pool order (see `poolOrder`). Unknown ids may be missing. */
  pool: AgentFacts[];
  /** The ids of the pool in order, as `poolOrder` made them (ids with no facts are skipped as unknown). Default: the rule's users, then the rest of `pool`. */
  poolIds?: string[];
  /** Whether the conversation has a contact, and the facts of its owner (null when the contact has none). */
  contact: { ownerId: string | null } | null;
  contactOwner: AgentFacts | null;
  /** The user last assigned by this address's users rule. */
  lastAssignedUserId: string | null;
  now: Date;
}

const REASON_TEXT: Record<SkipReason, string> = {
  not_active: 'not active',
  no_paid_seat: 'no paid seat',
  not_inbox_member: 'not a member of the inbox',
  away: 'away',
  outside_working_hours: 'outside working hours',
  at_capacity: 'at the open-conversation cap',
  unknown_user: 'no longer a user',
};
export const skipReasonText = (r: SkipReason): string => REASON_TEXT[r];

/** The pool of a users rule: its users in order, then each team's members in id order, without repeats. */
export function poolOrder(rule: Pick<UsersRule, 'userIds' | 'teamIds'>, teamMembers: ReadonlyMap<string, readonly string[]>): string[] {
  const out: string[] = [];
  const add = (id: string) => {
    if (!out.includes(id)) out.push(id);
  };
  rule.userIds.forEach(add);
  for (const t of rule.teamIds) [...(teamMembers.get(t) ?? [])].sort().forEach(add);
  return out;
}

/** Why a user may not get a conversation now, or null when they may. `cap` applies to users rules only. */
export function ineligibility(a: AgentFacts, now: Date, cap: number | null): { reason: SkipReason; detail?: string } | null {
  if (a.state !== 'active') return { reason: 'not_active', detail: a.state };
  if (a.seat !== 'paid') return { reason: 'no_paid_seat', detail: a.seat };
  if (!a.isInboxMember) return { reason: 'not_inbox_member' };
  if (a.availability !== 'available') return { reason: 'away', detail: a.availability };
  const hours = parseWorkingHours(a.workingHours);
  if (!isWithinWorkingHours(hours, now)) return { reason: 'outside_working_hours', ...(hours.kind === 'hours' ? { detail: hours.timezone } : {}) };
  if (cap !== null && a.openCount >= cap) return { reason: 'at_capacity', detail: `${a.openCount} open, cap ${cap}` };
  return null;
}

function unreadableHoursNote(a: AgentFacts): string | null {
  const h = parseWorkingHours(a.workingHours);
  return h.kind === 'unreadable' ? `${a.name}'s working hours could not be read (${h.problem}); treated as always working` : null;
}

interface Pick1 {
  chosen: AgentFacts | null;
  considered: string[];
  skipped: Skipped[];
  notes: string[];
}

/** Round robin or least open load over the pool. */
function pickFromPool(rule: UsersRule, input: RoutingInput): Pick1 {
  const byId = new Map(input.pool.map((a) => [a.id, a]));
  const ids = input.poolIds ?? [...rule.userIds, ...input.pool.map((a) => a.id).filter((id) => !rule.userIds.includes(id))];
  const skipped: Skipped[] = [];
  const notes: string[] = [];
  const eligible: AgentFacts[] = [];
  for (const id of ids) {
    const a = byId.get(id);
    if (!a) {
      skipped.push({ userId: id, name: id, reason: 'unknown_user' });
      continue;
    }
    const why = ineligibility(a, input.now, rule.perUserCap);
    if (why) skipped.push({ userId: a.id, name: a.name, reason: why.reason, ...(why.detail ? { detail: why.detail } : {}) });
    else {
      eligible.push(a);
      const note = unreadableHoursNote(a);
      if (note) notes.push(note);
    }
  }
  if (!ids.length) notes.push('the rule names no users or teams with members');
  if (!eligible.length) return { chosen: null, considered: ids, skipped, notes };
  // Rotation: start right after the last user assigned (from the top when they left the pool).
  const start = input.lastAssignedUserId ? ids.indexOf(input.lastAssignedUserId) + 1 : 0;
  const rank = (id: string) => (ids.indexOf(id) - start + ids.length) % ids.length;
  const inRotation = [...eligible].sort((a, b) => rank(a.id) - rank(b.id));
  const chosen = rule.strategy === 'round_robin' ? inRotation[0]! : inRotation.reduce((best, a) => (a.openCount < best.openCount ? a : best));
  return { chosen, considered: ids, skipped, notes };
}

function summarise(d: Omit<RoutingDecision, 'summary'>): string {
  const skipped = d.skipped.length ? `; skipped ${d.skipped.map((s) => `${s.name} (${REASON_TEXT[s.reason]})`).join(', ')}` : '';
  if (d.rule === 'none') return 'No routing rule: left unassigned.';
  const how = d.decidedBy === 'round_robin' ? 'round robin' : d.decidedBy === 'least_open' ? 'least open conversations' : 'contact owner';
  if (d.assigneeId) return `Assigned to ${d.assigneeName} by ${how}${d.usedFallback ? ' (fallback: the contact owner could not take it)' : ''}${skipped}.`;
  const notes = d.notes.length ? ` (${d.notes.join('; ')})` : '';
  return `Nobody eligible: left unassigned${skipped}${notes}.`;
}

/** Decides who gets a new conversation. */
export function routeConversation(input: RoutingInput): RoutingDecision {
  const rule = input.rule;
  const base = { rule: rule.kind, considered: [] as string[], skipped: [] as Skipped[], notes: [] as string[], usedFallback: false, nextPointer: null as string | null };
  const finish = (d: Omit<RoutingDecision, 'summary'>): RoutingDecision => ({ ...d, summary: summarise(d) });
  if (rule.kind === 'none') return finish({ ...base, assigneeId: null, assigneeName: null, decidedBy: null });

  const fromUsers = (r: UsersRule, prefix: { skipped: Skipped[]; notes: string[]; considered: string[] }, usedFallback: boolean) => {
    const p = pickFromPool(r, input);
    return finish({
      ...base,
      usedFallback,
      assigneeId: p.chosen?.id ?? null,
      assigneeName: p.chosen?.name ?? null,
      decidedBy: p.chosen ? r.strategy : null,
      considered: [...prefix.considered, ...p.considered],
      skipped: [...prefix.skipped, ...p.skipped],
      notes: [...prefix.notes, ...p.notes],
      nextPointer: p.chosen?.id ?? null,
    });
  };
  if (rule.kind === 'users') return fromUsers(rule, { skipped: [], notes: [], considered: [] }, false);

  // contact_owner
  const prefix = { skipped: [] as Skipped[], notes: [] as string[], considered: [] as string[] };
  if (!input.contact) prefix.notes.push('the sender is not a contact');
  else if (!input.contact.ownerId) prefix.notes.push('the contact has no owner');
  else if (!input.contactOwner) prefix.skipped.push({ userId: input.contact.ownerId, name: input.contact.ownerId, reason: 'unknown_user' });
  else {
    const owner = input.contactOwner;
    prefix.considered.push(owner.id);
    const why = ineligibility(owner, input.now, null);
    if (!why) {
      const note = unreadableHoursNote(owner);
      return finish({ ...base, ...prefix, notes: note ? [note] : [], assigneeId: owner.id, assigneeName: owner.name, decidedBy: 'contact_owner' });
    }
    prefix.skipped.push({ userId: owner.id, name: owner.name, reason: why.reason, ...(why.detail ? { detail: why.detail } : {}) });
  }
  if (rule.fallback.kind === 'none') {
    return finish({ ...base, ...prefix, notes: [...prefix.notes, 'no fallback'], usedFallback: true, assigneeId: null, assigneeName: null, decidedBy: null });
  }
  return fromUsers(rule.fallback, prefix, true);
}

export type RuleCheck = { ok: true; rule: RoutingRule } | { ok: false; message: string; field: string };

const MAX_POOL = 500;

function checkUsers(x: unknown, field: string): { ok: true; rule: UsersRule } | { ok: false; message: string; field: string } {
  const r = (x ?? {}) as Record<string, unknown>;
  if (!ROUTING_STRATEGIES.includes(r.strategy as RoutingStrategy)) return { ok: false, message: 'Choose the strategy: round_robin or least_open.', field: `${field}.strategy` };
  const userIds = Array.isArray(r.userIds) ? r.userIds : [];
  const teamIds = Array.isArray(r.teamIds) ? r.teamIds : [];
  if (![...userIds, ...teamIds].every((v) => typeof v === 'string' && v.length > 0 && v.length <= 64)) return { ok: false, message: 'User and team ids must be strings.', field: `${field}.userIds` };
  if (!userIds.length && !teamIds.length) return { ok: false, message: 'Name at least one user or team to route to.', field: `${field}.userIds` };
  if (userIds.length + teamIds.length > MAX_POOL) return { ok: false, message: `At most ${MAX_POOL} users and teams.`, field: `${field}.userIds` };
  const cap = r.perUserCap ?? null;
  if (cap !== null && (!Number.isInteger(cap) || (cap as number) < 1 || (cap as number) > 100_000)) return { ok: false, message: 'The per-user cap must be a whole number of at least 1, or null for no cap.', field: `${field}.perUserCap` };
  return { ok: true, rule: { kind: 'users', strategy: r.strategy as RoutingStrategy, userIds: [...new Set(userIds as string[])], teamIds: [...new Set(teamIds as string[])], perUserCap: cap as number | null } };
}

/** Validates a rule sent by a client (the shell then checks that the ids exist in the account). */
export function checkRoutingRule(x: unknown): RuleCheck {
  const r = (x ?? {}) as Record<string, unknown>;
  if (r.kind === 'none') return { ok: true, rule: { kind: 'none' } };
  if (r.kind === 'users') return checkUsers(r, 'rule');
  if (r.kind === 'contact_owner') {
    const f = (r.fallback ?? { kind: 'none' }) as Record<string, unknown>;
    if (f.kind === 'none') return { ok: true, rule: { kind: 'contact_owner', fallback: { kind: 'none' } } };
    if (f.kind !== 'users') return { ok: false, message: 'The fallback is none or a users rule.', field: 'rule.fallback.kind' };
    const u = checkUsers(f, 'rule.fallback');
    return u.ok ? { ok: true, rule: { kind: 'contact_owner', fallback: u.rule } } : u;
  }
  return { ok: false, message: 'Choose the rule: none, users or contact_owner.', field: 'rule.kind' };
}

/** The users rule that routing pools from, if any (the rule itself, or the contact-owner fallback). */
export function usersRuleOf(rule: RoutingRule): UsersRule | null {
  if (rule.kind === 'users') return rule;
  if (rule.kind === 'contact_owner' && rule.fallback.kind === 'users') return rule.fallback;
  return null;
}

/** Reads a stored rule (JSON text); anything unreadable is the default, none. */
export function parseStoredRule(text: string | null | undefined): RoutingRule {
  if (!text) return { kind: 'none' };
  const c = checkRoutingRule(readJson('routing_rules.rule', text, json.unknown, null));
  return c.ok ? c.rule : { kind: 'none' };
}

/**
 * A rule without one team (the team is being deleted): null when the rule does not name it. A users rule
 * left with nobody becomes none (disabled); a contact-owner rule whose fallback is left with nobody keeps
 * routing to the owner with no fallback. `disabled` says the rule (or its fallback) no longer routes to anyone.
 */
export function routingRuleWithoutTeam(rule: RoutingRule, teamId: string): { rule: RoutingRule; disabled: boolean } | null {
  const users = usersRuleOf(rule);
  if (!users || !users.teamIds.includes(teamId)) return null;
  const rest: UsersRule = { ...users, teamIds: users.teamIds.filter((t) => t !== teamId) };
  const empty = !rest.userIds.length && !rest.teamIds.length;
  if (rule.kind === 'users') return empty ? { rule: { kind: 'none' }, disabled: true } : { rule: rest, disabled: false };
  return { rule: { kind: 'contact_owner', fallback: empty ? { kind: 'none' } : rest }, disabled: empty };
}
