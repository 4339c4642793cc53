export { appendTimelineEvent } from './commands/appendTimelineEvent.js';
export type { TimelineKind } from './commands/appendTimelineEvent.js';
export { findContactsByEmail } from './commands/findContactsByEmail.js';
export { contactDisplayName, decodeCursor, encodeCursor, normaliseDomain } from './domain/contacts.js';
export { chunks, companyForEmails, contactDerived, emailsOf, loadContact } from './queries.js';
