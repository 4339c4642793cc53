/**
 * Ingest: the one path every message takes into Mailroom (IMAP sync, inbound SMTP, import, our own sent
 * mail): parse, dedupe, classify, thread, store, then the features' `messageStored` reactions in the same
 * transaction. This file is the only door other features use.
 */
export { classifyMessage } from './domain/classify.js';
export type { BounceInfo, Classification } from './domain/classify.js';
export { baseSubject, isResponseSubject, subjectKey } from './domain/subject.js';
export { createIngestor, ingestBatch, writePreparedGroup } from './ingest.js';
export type { ConversationMerge, ConversationsMergedHook, GroupEntry, IngestItem, IngestResult, Ingestor, MessageStoredHook, PreparedBatch, StoredMessage } from './ingest.js';

import { unlinkDeletedContact } from './unlink-contact.js';

export function ingestFeature() {
  return {
    name: 'ingest',
    /** A contact deleted: the conversations linked to it stay, unlinked (the next message may link them again). */
    contactDeleting: unlinkDeletedContact,
  } as const;
}
