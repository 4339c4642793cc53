/** Inbox members, routing rules per team address, allow and deny lists (issue 5). */
import { api } from './client.js';
import type { Body, Item, Ok } from './contract.js';

const enc = encodeURIComponent;

export type InboxMembers = Ok<'/api/v1/inboxes/{id}/members', 'get'>;
export type InboxMember = Item<InboxMembers['members']>;
export type InboxAccess = InboxMembers['access'];

type RoutingAnswer = Ok<'/api/v1/inboxes/{id}/routing', 'get'>;
export type InboxRouting = Omit<RoutingAnswer, 'rules'> & { rules: Array<Omit<Item<RoutingAnswer['rules']>, 'rule'> & { rule: RoutingRule }> };
/** The routing rule's shape is the server's own (src/shared/routing-rule.ts): the route schema types `rule` as an open object. */
export type { RoutingRule, RoutingStrategy, UsersRule } from '../../../src/shared/routing-rule.js';
import type { RoutingRule } from '../../../src/shared/routing-rule.js';

export type SenderLists = Ok<'/api/v1/inboxes/{id}/sender-lists', 'get'>;
export type SenderList = Body<'/api/v1/inboxes/{id}/sender-lists', 'post'>['list'];

export const getMembers = (inboxId: string) => api.get<InboxMembers>(`/inboxes/${enc(inboxId)}/members`);
export const addMember = (inboxId: string, m: { userId: string } | { teamId: string }) => api.post<InboxMembers>(`/inboxes/${enc(inboxId)}/members`, m);
export const removeMember = (inboxId: string, memberId: string) => api.del<InboxMembers>(`/inboxes/${enc(inboxId)}/members/${enc(memberId)}`);
export const setInboxAccess = (inboxId: string, access: InboxAccess) => api.patch<Ok<'/api/v1/inboxes/{id}', 'patch'>>(`/inboxes/${enc(inboxId)}`, { access });

export const getRouting = (inboxId: string) => api.get<InboxRouting>(`/inboxes/${enc(inboxId)}/routing`);
export const setRouting = (inboxId: string, connectionId: string, rule: RoutingRule) =>
  api.put<InboxRouting>(`/inboxes/${enc(inboxId)}/routing/${enc(connectionId)}`, { rule });

export const getSenderLists = (inboxId: string) => api.get<SenderLists>(`/inboxes/${enc(inboxId)}/sender-lists`);
export const addSenderListEntry = (inboxId: string, list: SenderList, pattern: string) => api.post<SenderLists>(`/inboxes/${enc(inboxId)}/sender-lists`, { list, pattern });
export const removeSenderListEntry = (inboxId: string, entryId: string) => api.del<SenderLists>(`/inboxes/${enc(inboxId)}/sender-lists/${enc(entryId)}`);

export type InboxSla = Ok<'/api/v1/inboxes/{id}/sla', 'get'>;
export type InboxSlaInput = Body<'/api/v1/inboxes/{id}/sla', 'put'>;
export const getInboxSla = (inboxId: string) => api.get<InboxSla>(`/inboxes/${enc(inboxId)}/sla`);
export const setInboxSla = (inboxId: string, input: InboxSlaInput) => api.put<InboxSla>(`/inboxes/${enc(inboxId)}/sla`, input);
