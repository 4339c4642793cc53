/** One-to-one email from a contact's record: templates and snippets, send or schedule, cancel (issue 6). */
import { api } from './client.js';
import type { Body, Ok } from './contract.js';

export type EmailTemplate = Ok<'/api/v1/email-templates', 'post'>;
export type TemplatePreview = Ok<'/api/v1/email-templates/{id}/preview', 'get'>;
export type PersonalEmail = Ok<'/api/v1/personal-emails/{id}', 'get'>;
export type ComposeInput = Body<'/api/v1/contacts/{id}/emails', 'post'>;
export type TemplateInput = Body<'/api/v1/email-templates', 'post'>;

export const listTemplates = (kind?: 'template' | 'snippet') => api.get<Ok<'/api/v1/email-templates', 'get'>>('/email-templates', { kind });
export const createTemplate = (input: TemplateInput) => api.post<EmailTemplate>('/email-templates', input);
export const deleteTemplate = (id: string) => api.del<Ok<'/api/v1/email-templates/{id}', 'delete'>>(`/email-templates/${encodeURIComponent(id)}`);
export const previewTemplate = (id: string, contactId: string) => api.get<TemplatePreview>(`/email-templates/${encodeURIComponent(id)}/preview`, { contactId });
export const sendFromContact = (contactId: string, input: ComposeInput) => api.post<PersonalEmail>(`/contacts/${encodeURIComponent(contactId)}/emails`, input);
export const listContactEmails = (contactId: string) => api.get<Ok<'/api/v1/personal-emails', 'get'>>('/personal-emails', { contactId, limit: 20 });
/** Undo send: stop an email still inside the undo window (409 too_late_to_undo once it left). */
export const undoEmail = (id: string) => api.post<PersonalEmail>(`/personal-emails/${encodeURIComponent(id)}/undo`);
export const cancelEmail = (id: string) => api.del<PersonalEmail>(`/personal-emails/${encodeURIComponent(id)}`);
