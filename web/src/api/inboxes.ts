import { api } from './client.js';
import type { Inbox } from './types.js';

export const listInboxes = () => api.get<{ inboxes: Inbox[] }>('/inboxes').then((r) => r.inboxes);
export const createInbox = (name: string, access: 'everyone' | 'restricted' = 'everyone') => api.post<Inbox>('/inboxes', { name, access });
export const renameInbox = (id: string, name: string) => api.patch<Inbox>(`/inboxes/${encodeURIComponent(id)}`, { name });
export const deleteInbox = (id: string) => api.del<void>(`/inboxes/${encodeURIComponent(id)}`);
