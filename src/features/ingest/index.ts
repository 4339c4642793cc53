export { classifyMessage } from './domain/classify.js';
export type { BounceInfo, Classification } from './domain/classify.js';
export { baseSubject, isResponseSubject, subjectKey } from './domain/subject.js';
export { ingestBatch, onMessageStored } from './ingest.js';
export type { IngestItem, Ingestor, StoredMessage } from './ingest.js';
