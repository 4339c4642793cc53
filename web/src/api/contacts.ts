import { api } from './client.js';
import type { Body, Ok, Query } from './contract.js';
import type { Contact, ImportReport, TimelineEvent } from './types.js';

export const listContacts = (query: Query<'/api/v1/contacts', 'get'> = {}) =>
  api.get<Ok<'/api/v1/contacts', 'get'>>('/contacts', query);
export const getContact = (id: string) => api.get<Contact>(`/contacts/${encodeURIComponent(id)}`);
export const createContact = (input: Body<'/api/v1/contacts', 'post'>) => api.post<Contact>('/contacts', input);
export const contactTimeline = (id: string, cursor?: string) =>
  api.get<Ok<'/api/v1/contacts/{id}/timeline', 'get'>>(`/contacts/${encodeURIComponent(id)}/timeline`, { cursor });
export const addNote = (id: string, text: string) => api.post<TimelineEvent>(`/contacts/${encodeURIComponent(id)}/notes`, { text });
export const importContacts = (csv: string, dryRun = false) => api.post<ImportReport>('/contacts/import', { csv, dryRun });
