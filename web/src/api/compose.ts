/** One-to-one email from a contact's record: templates and snippets, send or schedule, cancel (issue 6). */
import { api } from './client.js';

export interface EmailTemplate {
  id: string;
  kind: 'template' | 'snippet';
  name: string;
  subject: string;
  html: string;
  shortcut: string | null;
  shared: boolean;
  owner: { id: string; name: string } | null;
  editable: boolean;
}

export interface TemplatePreview {
  subject: string;
  html: string;
  problems: Array<{ token: string; reason: string; name?: string }>;
  message: string | null;
}

export interface PersonalEmail {
  id: string;
  /** null once the contact was deleted. */
  contactId: string | null;
  from: string | null;
  to: string[];
  subject: string;
  state: 'scheduled' | 'queued' | 'sending' | 'sent' | 'failed' | 'cancelled' | 'uncertain' | 'unknown';
  sendAt: string | null;
  sentAt: string | null;
  error: string | null;
  sendLimitResetsAt: string | null;
  tracking?: { opens: number; clicks: number };
  createdAt: string;
}

export interface ComposeInput {
  templateId?: string;
  fromConnectionId?: string;
  to?: string[];
  cc?: string[];
  bcc?: string[];
  subject?: string;
  html?: string;
  includeSignature?: boolean;
  log?: boolean;
  trackOpens?: boolean;
  trackClicks?: boolean;
  sendAt?: string | null;
  attachments?: Array<{ filename: string; contentType: string; contentBase64: string }>;
}

export const listTemplates = (kind?: 'template' | 'snippet') => api.get<{ templates: EmailTemplate[] }>('/email-templates', { kind });
export const createTemplate = (input: { kind: 'template' | 'snippet'; name: string; subject?: string; html: string; shortcut?: string | null; shared?: boolean }) => api.post<EmailTemplate>('/email-templates', input);
export const deleteTemplate = (id: string) => api.del<{ deleted: true }>(`/email-templates/${encodeURIComponent(id)}`);
export const previewTemplate = (id: string, contactId: string) => api.get<TemplatePreview>(`/email-templates/${encodeURIComponent(id)}/preview`, { contactId });
export const sendFromContact = (contactId: string, input: ComposeInput) => api.post<PersonalEmail>(`/contacts/${encodeURIComponent(contactId)}/emails`, input);
export const listContactEmails = (contactId: string) => api.get<{ emails: PersonalEmail[] }>('/personal-emails', { contactId, limit: 20 });
export const cancelEmail = (id: string) => api.del<PersonalEmail>(`/personal-emails/${encodeURIComponent(id)}`);
