/**
 * The port through which the mail adapters (IMAP sync, inbound SMTP) hand messages to the ingest
 * pipeline. The ingest feature implements it (`createIngestor`); the adapters know only this shape, so
 * `src/mail` never imports a feature.
 */
import type { CommandEnv, Executor } from '../platform/context.js';
import type { ConnectionsTable } from '../platform/database/schema.js';
import type { SenderAuth } from './sender-auth.js';

/** Where a stored message came from (`messages.source`). */
export const MESSAGE_SOURCES = ['imap', 'smtp', 'import', 'outbox'] as const;
export type MessageSource = (typeof MESSAGE_SOURCES)[number];
/** Whether we received or sent it (`messages.direction`). */
export const MESSAGE_DIRECTIONS = ['inbound', 'outbound'] as const;
export type MessageDirection = (typeof MESSAGE_DIRECTIONS)[number];

export interface IngestItem {
  raw: Buffer;
  source: MessageSource;
  direction: MessageDirection;
  receivedAt: number;
  /** Messages imported from a file: the file's modification time (dates a message without a Date header). */
  fileTime?: number;
  location?: { folder: string; uidvalidity: number; uid: number };
  /** Outgoing mail we sent: link to its outbox row and conversation. */
  outboxId?: string;
  conversationId?: string;
  /** Inbound SMTP: SPF, DKIM, DMARC and ARC of the message (stored in `messages.sender_auth`). */
  senderAuth?: SenderAuth;
}

export interface IngestResult {
  stored: number;
  duplicates: number;
  messageIds: string[];
}

/** Parsed messages with their bytes, ready to be written (opaque to the adapters). */
export interface PreparedBatch<P = unknown> {
  items: P[];
}

export interface MailIngest<P = unknown> {
  env: CommandEnv;
  /** One message's CPU half (parse in a worker, hashes); IMAP sync starts it as each message arrives. */
  prepare(item: IngestItem): Promise<P>;
  /** The CPU half of several messages, in parallel. */
  prepareMany(items: IngestItem[]): Promise<PreparedBatch<P>>;
  /** The database half: one transaction for the batch, with the caller's checkpoint in `afterWrite`. */
  write(connection: ConnectionsTable, batch: PreparedBatch<P>, afterWrite?: (trx: Executor, result: IngestResult) => Promise<void>): Promise<IngestResult>;
}
