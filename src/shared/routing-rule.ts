/**
 * The shape of a team address's routing rule, shared by the server (src/features/inbox/domain/routing.ts
 * decides with it) and the browser (Settings → Inboxes edits it).
 */
export const ROUTING_STRATEGIES = ['round_robin', 'least_open'] as const;
export type RoutingStrategy = (typeof ROUTING_STRATEGIES)[number];

export interface UsersRule {
  kind: 'users';
  strategy: RoutingStrategy;
  /** Users, in the order round robin visits them. */
  userIds: string[];
  /** Teams whose members join the pool (after the users, each team's members in id order). */
  teamIds: string[];
  /** Most open conversations in this inbox a user may hold before being skipped; null = no cap. */
  perUserCap: number | null;
}
export type FallbackRule = { kind: 'none' } | UsersRule;
export type RoutingRule = { kind: 'none' } | UsersRule | { kind: 'contact_owner'; fallback: FallbackRule };
