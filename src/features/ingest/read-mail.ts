/**
 * Reading mail files for `mailroom import`: an mbox file (split in the mbox shape), a Maildir (cur/ and
 * new/), a single .eml file, or a folder of message files (searched recursively), one message at a time.
 * No database and no pipeline here, so that the import command can start reading and parsing while it
 * still loads the rest (issue 18).
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

/** Messages per transaction (`mailroom import --batch`). */
export const DEFAULT_BATCH = 100;
/** Batches read and handed to the parse workers ahead of the one being written. */
export const LOOKAHEAD = 2;

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
    // "From " compared byte by byte: most lines differ at the first byte, without making a string.
    if (line.length >= 5 && line[0] === 0x46 && line[1] === 0x72 && line[2] === 0x6f && line[3] === 0x6d && line[4] === 0x20 && (!started || (wasBlank && SEPARATOR_SHAPE.test(line.subarray(0, 512).toString('latin1'))))) {
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

export async function listFiles(root: string): Promise<string[]> {
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

/** A message read from a file, with the file's modification time. */
export interface ReadMessage {
  raw: Buffer;
  file: string;
  mtimeMs: number;
}

/** Every raw message under `root`: mbox files are split, other files are one message each; with the file's modification time. */
export async function* readMessages(root: string): AsyncGenerator<ReadMessage> {
  yield* readFiles(await listFiles(root));
}

/** The raw messages of these files (`listFiles`), in order. */
export async function* readFiles(files: readonly string[]): AsyncGenerator<ReadMessage> {
  for (const file of files) {
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

/**
 * The messages under `root`, read ahead of their consumer: each is handed to `start` (its parse) as soon
 * as it is read, up to `ahead` messages (and about `aheadBytes`) before the consumer takes it. The import
 * command starts this first, so the parse workers work while the command still loads its modules and
 * opens the database.
 */
export class ReadAhead<T> {
  readonly files: Promise<string[]>;
  readonly #started = new Map<Buffer, T>();
  readonly #queue: ReadMessage[] = [];
  #queuedBytes = 0;
  #done = false;
  #error: unknown = null;
  #wakeReader: (() => void) | null = null;
  #wakeConsumer: (() => void) | null = null;

  constructor(root: string, start: (raw: Buffer) => T, ahead: number, aheadBytes = 64 * 1024 * 1024) {
    this.files = listFiles(root);
    void this.#read(start, Number.isFinite(ahead) && ahead >= 1 ? ahead : 4 * DEFAULT_BATCH, aheadBytes);
  }

  async #read(start: (raw: Buffer) => T, ahead: number, aheadBytes: number): Promise<void> {
    try {
      for await (const m of readFiles(await this.files)) {
        this.#started.set(m.raw, start(m.raw));
        this.#queue.push(m);
        this.#queuedBytes += m.raw.length;
        this.#wakeConsumer?.();
        while (this.#queue.length >= ahead || this.#queuedBytes >= aheadBytes) await new Promise<void>((resolve) => (this.#wakeReader = resolve));
      }
    } catch (err) {
      this.#error = err;
    } finally {
      this.#done = true;
      this.#wakeConsumer?.();
    }
  }

  /** What `start` returned for a message this read (once). */
  take(raw: Buffer): T | undefined {
    const started = this.#started.get(raw);
    this.#started.delete(raw);
    return started;
  }

  async *messages(): AsyncGenerator<ReadMessage> {
    for (;;) {
      const m = this.#queue.shift();
      if (m) {
        this.#queuedBytes -= m.raw.length;
        this.#wakeReader?.();
        this.#wakeReader = null;
        yield m;
        continue;
      }
      if (this.#error) throw this.#error;
      if (this.#done) return;
      await new Promise<void>((resolve) => (this.#wakeConsumer = resolve));
      this.#wakeConsumer = null;
    }
  }
}

/**
 * The messages under `root` read ahead with their parse started, for `importMail`: the import command
 * starts it before it loads the ingest pipeline and opens the database, so the parse workers start at once.
 */
export function readAheadForImport<T>(root: string, parse: (raw: Buffer) => T, batchSize = DEFAULT_BATCH): ReadAhead<T> {
  return new ReadAhead(root, parse, (LOOKAHEAD + 2) * batchSize);
}
