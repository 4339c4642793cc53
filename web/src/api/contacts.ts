import { api } from './client.js';
import type { Contact, ImportReport, TimelineEvent } from './types.js';

export const listContacts = (query: { q?: string; cursor?: string; limit?: number } = {}) =>
  api.get<{ contacts: Contact[]; nextCursor: string | null }>('/contacts', query);
export const getContact = (id: string) => api.get<Contact>(`/contacts/${encodeURIComponent(id)}`);
export const createContact = (input: { name?: string; emails?: string[] }) => api.post<Contact>('/contacts', input);
export const contactTimeline = (id: string, cursor?: string) =>
  api.get<{ events: TimelineEvent[]; nextCursor: string | null }>(`/contacts/${encodeURIComponent(id)}/timeline`, { cursor });
export const addNote = (id: string, text: string) => api.post<TimelineEvent>(`/contacts/${encodeURIComponent(id)}/notes`, { text });
export const importContacts = (csv: string, dryRun = false) => api.post<ImportReport>('/contacts/import', { csv, dryRun });
