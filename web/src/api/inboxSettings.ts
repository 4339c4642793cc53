/** Inbox members, routing rules per team address, allow and deny lists (issue 5). */
import { api } from './client.js';

const enc = encodeURIComponent;

export interface InboxMember {
  type: 'user' | 'team';
  id: string;
  name: string;
  state: string | null;
  addedAt: string;
}
export interface InboxMembers {
  inboxId: string;
  access: 'everyone' | 'restricted';
  members: InboxMember[];
}

export type RoutingStrategy = 'round_robin' | 'least_open';
export interface UsersRule {
  kind: 'users';
  strategy: RoutingStrategy;
  userIds: string[];
  teamIds: string[];
  perUserCap: number | null;
}
export type RoutingRule = { kind: 'none' } | UsersRule | { kind: 'contact_owner'; fallback: { kind: 'none' } | UsersRule };
export interface InboxRouting {
  inboxId: string;
  rules: Array<{ connectionId: string; address: string; rule: RoutingRule; lastAssignedUserId: string | null; updatedAt: string | null }>;
}

export type SenderList = 'allow' | 'deny';
export interface SenderLists {
  inboxId: string;
  entries: Array<{ id: string; list: SenderList; pattern: string; createdAt: string }>;
}

export const getMembers = (inboxId: string) => api.get<InboxMembers>(`/inboxes/${enc(inboxId)}/members`);
export const addMember = (inboxId: string, m: { userId: string } | { teamId: string }) => api.post<InboxMembers>(`/inboxes/${enc(inboxId)}/members`, m);
export const removeMember = (inboxId: string, memberId: string) => api.del<InboxMembers>(`/inboxes/${enc(inboxId)}/members/${enc(memberId)}`);
export const setInboxAccess = (inboxId: string, access: 'everyone' | 'restricted') => api.patch<unknown>(`/inboxes/${enc(inboxId)}`, { access });

export const getRouting = (inboxId: string) => api.get<InboxRouting>(`/inboxes/${enc(inboxId)}/routing`);
export const setRouting = (inboxId: string, connectionId: string, rule: RoutingRule) =>
  api.put<InboxRouting>(`/inboxes/${enc(inboxId)}/routing/${enc(connectionId)}`, { rule });

export const getSenderLists = (inboxId: string) => api.get<SenderLists>(`/inboxes/${enc(inboxId)}/sender-lists`);
export const addSenderListEntry = (inboxId: string, list: SenderList, pattern: string) => api.post<SenderLists>(`/inboxes/${enc(inboxId)}/sender-lists`, { list, pattern });
export const removeSenderListEntry = (inboxId: string, entryId: string) => api.del<SenderLists>(`/inboxes/${enc(inboxId)}/sender-lists/${enc(entryId)}`);
