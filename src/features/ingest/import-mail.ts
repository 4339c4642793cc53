/**
 * Imports mail from files through the same pipeline as live mail (parse, dedupe, thread, classify,
 * hooks): an mbox file, a Maildir (cur/ and new/), a single .eml file, or a folder of message files
 * (searched recursively). Reads one message at a time (memory stays flat), writes in batches, and is
 * idempotent: a re-run finds every message by its dedupe key and counts it as a duplicate.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { ConnectionsTable } from '../../platform/database/schema.js';
import { ingestBatch, prepareItem, writePrepared, type IngestItem, type Ingestor, type Prepared, type PreparedBatch } from './ingest.js';

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

/** Messages per transaction (`mailroom import --batch`). */
export const DEFAULT_BATCH = 100;
/** Batches read and handed to the parse workers ahead of the one being written. */
const LOOKAHEAD = 2;

const SKIP = /\.(md|tsv|json|gitattributes|gitignore|py|js|ts|c|h|rb|go|rs)$/i;

/**
 * The "From " line that separates two messages of an mbox: `From <sender> <date>` (the date carries a
 * time, e.g. `From ann@example.org Tue Sep  1 10:00:00 2026`, `From - Mon Jan  1 00:00:00 2024`).
 */
const SEPARATOR_SHAPE = /^From \S+\s+.*\b\d{1,2}:\d{2}/;

/**
 * Yields raw messages from a file that starts with a "From " line, undoing >From quoting. A later
 * "From " line separates two messages only in the mbox shape: the line before it is blank and it looks
 * like a separator (sender, date). Anything else is the message's own text (a quoted original's "From "
 * line, a sentence), so a single message saved with its envelope line stays one message.
 */
export async function* readMbox(file: string): AsyncGenerator<Buffer> {
  yield* splitMbox(fs.createReadStream(file, { highWaterMark: 1 << 20 }));
}

/** The mbox splitting of `readMbox`, over the file's bytes in chunks (a stream, or one whole buffer). */
async function* splitMbox(chunks: AsyncIterable<Buffer | string> | Iterable<Buffer>): AsyncGenerator<Buffer> {
  let pending: Buffer = Buffer.alloc(0);
  let current: Buffer[] = [];
  let started = false;
  let previousBlank = true;
  const flush = () => {
    if (!started || current.length === 0) return null;
    const msg = joinLines(current);
    current = [];
    return msg;
  };
  const handleLine = (line: Buffer): Buffer | null => {
    const blank = line.length <= 2 && (line[0] === 0x0a || (line[0] === 0x0d && line[1] === 0x0a));
    const wasBlank = previousBlank;
    previousBlank = blank;
    if (line.length >= 5 && line.subarray(0, 5).toString('latin1') === 'From ' && (!started || (wasBlank && SEPARATOR_SHAPE.test(line.subarray(0, 512).toString('latin1'))))) {
      const done = flush();
      started = true;
      return done;
    }
    if (!started) return null;
    // mboxrd: ">From " (any number of >) loses one >.
    if (line[0] === 0x3e && /^>+From /.test(line.subarray(0, 64).toString('latin1'))) current.push(line.subarray(1));
    else current.push(line);
    return null;
  };
  for await (const chunk of chunks) {
    pending = pending.length ? Buffer.concat([pending, chunk as Buffer]) : (chunk as Buffer);
    let start = 0;
    for (;;) {
      const nl = pending.indexOf(0x0a, start);
      if (nl === -1) break;
      const out = handleLine(pending.subarray(start, nl + 1));
      if (out) yield out;
      start = nl + 1;
    }
    pending = pending.subarray(start);
  }
  if (pending.length) {
    const out = handleLine(pending);
    if (out) yield out;
  }
  const last = flush();
  if (last) yield last;
}

/**
 * A message's lines as one Buffer: a view of the bytes they were cut from when they follow each other
 * there (no >From line lost its >, all from one chunk), else a copy.
 */
function joinLines(lines: Buffer[]): Buffer {
  const first = lines[0]!;
  let end = first.byteOffset;
  let adjacent = true;
  for (const l of lines) {
    if (l.buffer !== first.buffer || l.byteOffset !== end) adjacent = false;
    end += l.length;
  }
  const length = end - first.byteOffset;
  return adjacent ? Buffer.from(first.buffer, first.byteOffset, length) : Buffer.concat(lines);
}

async function isMbox(file: string): Promise<boolean> {
  const fh = await fsp.open(file, 'r');
  try {
    const buf = Buffer.alloc(5);
    await fh.read(buf, 0, 5, 0);
    return startsLikeMbox(buf);
  } finally {
    await fh.close();
  }
}

const startsLikeMbox = (buf: Buffer) => buf.length >= 5 && buf.toString('latin1', 0, 5) === 'From ';

/**
 * Files up to this size are read whole, synchronously (one open, fstat, read, close: a quarter of the
 * promise API's cost per small file, and the import's thread has nothing else to do meanwhile); larger
 * ones are streamed (mbox) or read asynchronously.
 */
const READ_WHOLE_BYTES = 16 * 1024 * 1024;

async function listFiles(root: string): Promise<string[]> {
  const st = await fsp.stat(root);
  if (st.isFile()) return [root];
  const out: string[] = [];
  const walk = async (dir: string) => {
    const entries = await fsp.readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name === 'tmp' && (await fsp.stat(path.join(dir, 'cur')).catch(() => null))) continue; // Maildir tmp/
        await walk(p);
      } else if (e.isFile() && !SKIP.test(e.name)) out.push(p);
    }
  };
  await walk(root);
  return out;
}

/** Every raw message under `root`: mbox files are split, other files are one message each; with the file's modification time. */
export async function* readMessages(root: string): AsyncGenerator<{ raw: Buffer; file: string; mtimeMs: number }> {
  for (const file of await listFiles(root)) {
    const fd = fs.openSync(file, 'r');
    let whole: Buffer | null = null;
    let mtimeMs: number;
    try {
      const st = fs.fstatSync(fd);
      mtimeMs = st.mtimeMs;
      if (st.size <= READ_WHOLE_BYTES) whole = fs.readFileSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (whole) {
      if (startsLikeMbox(whole)) for await (const raw of splitMbox([whole])) yield { raw, file, mtimeMs };
      else yield { raw: whole, file, mtimeMs };
    } else if (await isMbox(file)) {
      for await (const raw of readMbox(file)) yield { raw, file, mtimeMs };
    } else {
      yield { raw: await fsp.readFile(file), file, mtimeMs };
    }
  }
}

export async function importMail(ingestor: Ingestor, connection: ConnectionsTable, root: string, opts: { batchSize?: number; onProgress?: ImportProgress } = {}): Promise<ImportSummary> {
  const started = Date.now();
  const files = await listFiles(root);
  const total = files.length;
  const summary: ImportSummary = { files: total, messages: 0, imported: 0, duplicates: 0, malformed: 0, failed: 0, conversationsFormed: 0, seconds: 0 };
  const before = await conversationCount(ingestor, connection.id);
  const batchSize = opts.batchSize ?? DEFAULT_BATCH;
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
  for await (const { raw, mtimeMs } of readMessages(root)) {
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
