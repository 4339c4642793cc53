/**
 * Imports mail from files through the same pipeline as live mail (parse, dedupe, thread, classify,
 * hooks): an mbox file, a Maildir (cur/ and new/), a single .eml file, or a folder of message files
 * (searched recursively). Reads one message at a time (memory stays flat), writes in batches, and is
 * idempotent: a re-run finds every message by its dedupe key and counts it as a duplicate.
 */
import type { ConnectionsTable } from '../../platform/database/schema.js';
import type { ParsedMessage } from '../../mail/message/message.js';
import { ingestBatch, prepareItem, writePrepared, type IngestItem, type Ingestor, type Prepared, type PreparedBatch } from './ingest.js';
import { DEFAULT_BATCH, LOOKAHEAD, readAheadForImport, type ReadAhead } from './read-mail.js';

export { DEFAULT_BATCH, readAheadForImport, readMbox, readMessages, ReadAhead, type ReadMessage } from './read-mail.js';

export interface ImportSummary {
  files: number;
  messages: number;
  imported: number;
  duplicates: number;
  malformed: number;
  failed: number;
  conversationsFormed: number;
  seconds: number;
}

export type ImportProgress = (p: { done: number; total: number | null; imported: number; duplicates: number }) => void;

export async function importMail(
  base: Ingestor,
  connection: ConnectionsTable,
  root: string,
  opts: { batchSize?: number; onProgress?: ImportProgress; readAhead?: ReadAhead<Promise<ParsedMessage>> } = {},
): Promise<ImportSummary> {
  const started = Date.now();
  const batchSize = opts.batchSize ?? DEFAULT_BATCH;
  // Messages read ahead come with their parse started; a message parsed again (a batch retried one by one) parses afresh.
  const source = opts.readAhead ?? readAheadForImport(root, (raw) => base.parse(raw), batchSize);
  const ingestor: Ingestor = { ...base, parse: (raw) => source.take(raw as Buffer) ?? base.parse(raw) };
  const total = (await source.files).length;
  const summary: ImportSummary = { files: total, messages: 0, imported: 0, duplicates: 0, malformed: 0, failed: 0, conversationsFormed: 0, seconds: 0 };
  const before = await conversationCount(ingestor, connection.id);
  let batch: IngestItem[] = [];
  let parsing: Array<Promise<Prepared>> = [];
  // Pipelined: each message is handed to the parse workers as soon as it is read, so they never wait for
  // a batch to fill; batches are written in order, one transaction each, while the next ones are parsed.
  // At most LOOKAHEAD batches are read ahead of the one being written (memory stays bounded).
  let writing: Promise<void> = Promise.resolve();
  const ahead: Array<Promise<void>> = [];
  const write = async (items: IngestItem[], prepared: PreparedBatch | null) => {
    try {
      if (!prepared) throw new Error('prepare failed');
      const r = await writePrepared(ingestor, connection, prepared);
      summary.imported += r.stored;
      summary.duplicates += r.duplicates;
      if (r.stored) {
        const rows = await ingestor.env.db.selectFrom('messages').select('malformed').where('id', 'in', r.messageIds).execute();
        summary.malformed += rows.filter((m) => m.malformed !== '[]').length;
      }
    } catch {
      // One bad batch must not stop an import: retry its messages one by one to isolate the failure.
      for (const item of items) {
        try {
          const r = await ingestBatch(ingestor, connection, [item]);
          summary.imported += r.stored;
          summary.duplicates += r.duplicates;
        } catch {
          summary.failed += 1;
        }
      }
    }
    opts.onProgress?.({ done: summary.messages, total, imported: summary.imported, duplicates: summary.duplicates });
  };
  const flushBatch = async () => {
    if (!batch.length) return;
    const items = batch;
    const prepared = Promise.all(parsing).then(
      (list): PreparedBatch => ({ items: list }),
      () => null,
    );
    batch = [];
    parsing = [];
    writing = writing.then(async () => write(items, await prepared));
    ahead.push(writing);
    if (ahead.length > LOOKAHEAD) await ahead.shift();
  };
  for await (const { raw, mtimeMs } of source.messages()) {
    summary.messages += 1;
    const item: IngestItem = { raw, source: 'import', direction: 'inbound', receivedAt: ingestor.env.now(), fileTime: Math.floor(mtimeMs) };
    batch.push(item);
    const p = prepareItem(ingestor, item);
    p.catch(() => undefined); // a failure is handled by the batch's write (one by one)
    parsing.push(p);
    if (batch.length >= batchSize) await flushBatch();
  }
  await flushBatch();
  await writing;
  summary.conversationsFormed = (await conversationCount(ingestor, connection.id)) - before;
  summary.seconds = (Date.now() - started) / 1000;
  return summary;
}

async function conversationCount(ingestor: Ingestor, connectionId: string): Promise<number> {
  const r = await ingestor.env.db.selectFrom('conversations').select((eb) => eb.fn.countAll<number>().as('n')).where('connection_id', '=', connectionId).where('deleted_at', 'is', null).executeTakeFirstOrThrow();
  return Number(r.n);
}

/** A one-line progress bar for terminals. */
export function progressBar(done: number, total: number | null, width = 30): string {
  if (!total) return `${done} messages`;
  const f = Math.min(1, done / total);
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${done}/${total} files`;
}
