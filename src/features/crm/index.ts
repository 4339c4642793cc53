/**
 * The CRM: contacts, companies (matched by email domain), timelines, CSV import. This file is the only
 * door other features use.
 */
import { demoCrm } from './demo.js';

export { appendTimelineEvent } from './commands/appendTimelineEvent.js';
export type { TimelineKind } from './commands/appendTimelineEvent.js';
export { findContactsByEmail } from './commands/findContactsByEmail.js';
export { contactDisplayName, decodeCursor, encodeCursor, normaliseDomain } from './domain/contacts.js';
export { chunks, companyForEmails, companyViewById, contactDerived, contactViewById, emailsOf, loadContact } from './queries.js';
export { crmPolicies } from './policies.js';
export type { ContactDeletionHook } from './commands/deleteContact.js';

export function crmFeature() {
  return {
    name: 'crm',
    /** Demo: two companies, contacts imported from a small CSV, a note. */
    demo: demoCrm,
  } as const;
}
