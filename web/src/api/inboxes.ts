import { api } from './client.js';
import type { Body, Ok } from './contract.js';
import type { Inbox } from './types.js';

export const listInboxes = () => api.get<Ok<'/api/v1/inboxes', 'get'>>('/inboxes').then((r) => r.inboxes);
export const createInbox = (name: string, access: NonNullable<Body<'/api/v1/inboxes', 'post'>['access']> = 'everyone') => api.post<Inbox>('/inboxes', { name, access });
export const renameInbox = (id: string, name: string) => api.patch<Inbox>(`/inboxes/${encodeURIComponent(id)}`, { name });
export const deleteInbox = (id: string) => api.del<void>(`/inboxes/${encodeURIComponent(id)}`);
