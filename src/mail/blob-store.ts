/**
 * Content-addressed blob store for raw messages and attachments: a folder by default. A blob is named
 * by the SHA-256 of its bytes and kept in one of two forms:
 *
 *  - loose: `<root>/ab/cd/<sha256>`, one file per blob (`put`): temp file, fsync, rename, fsync the
 *    folder, so once `put` resolves the bytes survive a crash;
 *  - packed: many blobs appended to a pack file `<root>/packs/<yyyy-mm>/<name>.pack` (`writePack`) with
 *    ONE write and ONE fsync for a whole batch, where the loose form costs two fsyncs per blob. Ingest
 *    packs each batch; the batch's entries are recorded in `packed_blobs` in the same transaction as the
 *    messages that reference them, after its bytes are on disk. Bytes whose transaction never commits are
 *    only unreferenced bytes. A store appends the batches of the next few minutes to the pack it has open
 *    (a new pack file costs a create, a close and an fsync of its folder: on inbound SMTP, where a batch is
 *    the dozen messages that arrived during the previous commit, that was more than the batch's own write);
 *    bytes once written never change, and a pack is never appended to once it is PACK_APPEND_MS old, so
 *    `blobs-gc` (which leaves packs younger than an hour alone) never deletes a pack being appended to.
 *
 * Reads look for the loose file first, then the index. Reading a packed blob queries the database:
 * on SQLite, never read a blob while holding a transaction on the same database (it would wait for itself).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { Kysely } from 'kysely';
import type { Executor } from '../platform/context.js';
import type { DB } from '../platform/database/schema.js';
import { insertRows } from '../platform/database/insert-rows.js';
import type { Dialect } from '../platform/database/database.js';

export interface PackEntry {
  sha256: string;
  /** Pack file, relative to the blob folder. */
  pack: string;
  offset: number;
  length: number;
}

export interface BlobStore {
  /**
   * Stores bytes; resolves once they are on disk (fsync). `durable: false` skips the fsyncs, for
   * derived content (decoded HTML, attachments) that can be rebuilt from the raw message.
   */
  put(data: Buffer, opts?: { durable?: boolean }): Promise<string>;
  /**
   * Writes blobs together into a pack file (appended to the store's current pack) and fsyncs it once.
   * Resolves with where each blob landed; the caller records the entries (`recordPackEntries`) in the
   * transaction that references them.
   */
  writePack(blobs: ReadonlyArray<{ sha256: string; data: Uint8Array }>): Promise<PackEntry[]>;
  /** Whether a loose file holds this blob (no database). */
  hasLoose(sha256: string): boolean;
  get(sha256: string): Promise<Buffer>;
  has(sha256: string): Promise<boolean>;
  /** Stream a blob (large attachments). */
  stream(sha256: string): NodeJS.ReadableStream;
}

export function sha256Hex(data: Buffer | Uint8Array | string): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

const HEX64 = /^[0-9a-f]{64}$/;

export class BlobNotFoundError extends Error {
  readonly code = 'ENOENT';
}

/** Records pack entries (written by `writePack`) inside the caller's transaction; a blob already recorded keeps its first copy. */
export async function recordPackEntries(trx: Executor, dialect: Dialect, entries: readonly PackEntry[], now: number): Promise<void> {
  const rows = entries.map((e) => ({ sha256: e.sha256, pack: e.pack, offset: e.offset, length: e.length, created_at: now }));
  await insertRows(trx, dialect, 'packed_blobs', rows, 'on conflict ("sha256") do nothing');
}

/** Which of these blobs are stored already (loose, or recorded in a pack), looked up in the caller's transaction. */
export async function storedBlobs(trx: Executor, blobs: BlobStore, shas: readonly string[]): Promise<Set<string>> {
  const out = new Set<string>();
  const unknown: string[] = [];
  for (const sha of new Set(shas)) (blobs.hasLoose(sha) ? out.add(sha) : unknown.push(sha));
  for (let i = 0; i < unknown.length; i += 500) {
    const rows = await trx.selectFrom('packed_blobs').select('sha256').where('sha256', 'in', unknown.slice(i, i + 500)).execute();
    for (const r of rows) out.add(r.sha256);
  }
  return out;
}

/** A pack is appended to for at most this long after it was created (then a new one starts). */
export const PACK_APPEND_MS = 10 * 60_000;
/** ...and up to about this size. */
const PACK_MAX_BYTES = 256 * 1024 * 1024;
/** A pack nobody wrote to for this long is closed (its file stays; the next batch starts a new pack). */
const PACK_IDLE_CLOSE_MS = 5_000;

/** The pack a store appends to. `size` is where the next batch goes (reserved before it is written). */
interface OpenPack {
  rel: string;
  file: fsp.FileHandle;
  month: string;
  createdAt: number;
  size: number;
  /** Batches being written into it. */
  writers: number;
  /** No batch is added any more; the file is closed once the last writer is done. */
  sealed: boolean;
  closed: boolean;
  idle: NodeJS.Timeout | null;
}

/** `appendMs`: how long a pack takes further batches (0: one pack per batch, as the tests of collection use). */
export function folderBlobStore(root: string, db?: Kysely<DB>, opts: { appendMs?: number } = {}): BlobStore {
  const appendMs = opts.appendMs ?? PACK_APPEND_MS;
  const pathOf = (sha: string) => {
    if (!HEX64.test(sha)) throw new Error(`Not a blob id: ${sha.slice(0, 80)}`);
    return path.join(root, sha.slice(0, 2), sha.slice(2, 4), sha);
  };
  /** Folders known to exist (and be durable): mkdir and the parent fsync once per folder per process. */
  const madeDirs = new Set<string>();
  async function ensureDir(dir: string): Promise<void> {
    if (madeDirs.has(dir)) return;
    const parent = path.dirname(dir);
    if (parent !== dir && !fs.existsSync(dir)) {
      await ensureDir(parent);
      await fsp.mkdir(dir, { recursive: true });
      await syncDir(parent);
    }
    madeDirs.add(dir);
  }
  let current: Promise<OpenPack> | null = null;
  /** A place for `bytes` in the open pack, or in a new one when there is none or it is too old, too large or last month's. */
  async function reserve(bytes: number): Promise<{ pack: OpenPack; at: number }> {
    if (appendMs === 0) {
      const p = await createPack(monthOf(Date.now()), Date.now());
      Object.assign(p, { size: bytes, writers: 1, sealed: true });
      return { pack: p, at: 0 };
    }
    for (;;) {
      const now = Date.now();
      const pending = current;
      if (pending) {
        const p = await pending.catch(() => null);
        if (current !== pending) continue; // replaced while we waited: look again
        if (p && !p.sealed && p.month === monthOf(now) && now - p.createdAt < appendMs && (p.size === 0 || p.size + bytes <= PACK_MAX_BYTES)) {
          // Reserved synchronously, so batches written at the same time never overlap.
          const at = p.size;
          p.size += bytes;
          p.writers += 1;
          if (p.idle) clearTimeout(p.idle);
          p.idle = null;
          return { pack: p, at };
        }
        if (p) seal(p);
      }
      const made = createPack(monthOf(now), now);
      current = made;
      made.catch(() => {
        if (current === made) current = null;
      });
      await made; // a failure (disk full...) is the caller's; on success the loop reserves in it
    }
  }
  async function createPack(month: string, now: number): Promise<OpenPack> {
    const rel = path.join('packs', month, `${now.toString(36)}-${process.pid}-${crypto.randomBytes(6).toString('hex')}.pack`);
    const dir = path.join(root, 'packs', month);
    await ensureDir(dir);
    const file = await fsp.open(path.join(root, rel), 'wx', 0o600);
    // The new name is durable before any batch in it is referenced; appends need only the file's own fsync.
    await syncDir(dir);
    return { rel, file, month, createdAt: now, size: 0, writers: 0, sealed: false, closed: false, idle: null };
  }
  function seal(p: OpenPack) {
    p.sealed = true;
    if (p.idle) clearTimeout(p.idle);
    p.idle = null;
    if (p.writers === 0) void closeQuietly(p);
  }
  function release(p: OpenPack) {
    p.writers -= 1;
    if (p.writers > 0) return;
    if (p.sealed) {
      void closeQuietly(p);
      return;
    }
    // Idle: closed after a while (the next batch then starts a new pack), never holding the process open.
    p.idle = setTimeout(() => seal(p), PACK_IDLE_CLOSE_MS);
    p.idle.unref();
  }
  async function closeQuietly(p: OpenPack) {
    if (p.closed) return;
    p.closed = true;
    await p.file.close().catch(() => undefined);
  }
  async function findPacked(sha: string): Promise<PackEntry | null> {
    if (!db) return null;
    const row = await db.selectFrom('packed_blobs').select(['sha256', 'pack', 'offset', 'length']).where('sha256', '=', sha).executeTakeFirst();
    return row ? { sha256: row.sha256, pack: row.pack, offset: Number(row.offset), length: Number(row.length) } : null;
  }
  const packPath = (e: PackEntry) => {
    const p = path.resolve(root, e.pack);
    if (!p.startsWith(path.resolve(root) + path.sep)) throw new Error(`Pack outside the blob folder: ${e.pack}`);
    return p;
  };
  async function readPacked(e: PackEntry): Promise<Buffer> {
    const fh = await fsp.open(packPath(e), 'r');
    try {
      const out = Buffer.allocUnsafe(e.length);
      let at = 0;
      while (at < e.length) {
        const { bytesRead } = await fh.read(out, at, e.length - at, e.offset + at);
        if (bytesRead === 0) throw new Error(`Pack ${e.pack} is shorter than its index says (blob ${e.sha256})`);
        at += bytesRead;
      }
      return out;
    } finally {
      await fh.close();
    }
  }

  return {
    async put(data, opts) {
      const durable = opts?.durable !== false;
      const sha = sha256Hex(data);
      const file = pathOf(sha);
      if (fs.existsSync(file)) return sha;
      const dir = path.dirname(file);
      await ensureDir(dir);
      const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
      const fh = await fsp.open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(data);
        if (durable) await fh.sync();
      } finally {
        await fh.close();
      }
      await fsp.rename(tmp, file);
      if (durable) await syncDir(dir);
      return sha;
    },
    async writePack(blobs) {
      if (blobs.length === 0) return [];
      const total = blobs.reduce((n, b) => n + b.data.byteLength, 0);
      const { pack, at } = await reserve(total);
      try {
        const entries: PackEntry[] = [];
        let offset = at;
        for (const b of blobs) {
          entries.push({ sha256: b.sha256, pack: pack.rel, offset, length: b.data.byteLength });
          offset += b.data.byteLength;
        }
        // writev in slices: one call per up to 512 buffers (IOV_MAX is 1,024 on Linux), at the reserved place.
        let position = at;
        for (let i = 0; i < blobs.length; i += 512) {
          const slice = blobs.slice(i, i + 512).map((b) => b.data);
          const want = slice.reduce((n, d) => n + d.byteLength, 0);
          const { bytesWritten } = await pack.file.writev(slice, position);
          // A short write (rare): finish it with plain writes.
          if (bytesWritten < want) {
            const rest = Buffer.concat(slice.map((d) => Buffer.from(d.buffer, d.byteOffset, d.byteLength))).subarray(bytesWritten);
            for (let done = 0; done < rest.length; ) done += (await pack.file.write(rest, done, rest.length - done, position + bytesWritten + done)).bytesWritten;
          }
          position += want;
        }
        await pack.file.datasync();
        return entries;
      } catch (err) {
        pack.sealed = true; // a failed write (disk full...) leaves a hole: later batches go to a new pack
        throw err;
      } finally {
        release(pack);
      }
    },
    hasLoose(sha) {
      return fs.existsSync(pathOf(sha));
    },
    async get(sha) {
      try {
        return await fsp.readFile(pathOf(sha));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      const e = await findPacked(sha);
      if (!e) throw new BlobNotFoundError(`Blob ${sha} is not stored`);
      return readPacked(e);
    },
    async has(sha) {
      if (fs.existsSync(pathOf(sha))) return true;
      return (await findPacked(sha)) !== null;
    },
    stream(sha) {
      const file = pathOf(sha);
      if (fs.existsSync(file)) return fs.createReadStream(file);
      const out = new PassThrough();
      void findPacked(sha).then(
        (e) => {
          if (!e) return out.destroy(new BlobNotFoundError(`Blob ${sha} is not stored`));
          if (e.length === 0) return out.end();
          fs.createReadStream(packPath(e), { start: e.offset, end: e.offset + e.length - 1 })
            .on('error', (err) => out.destroy(err))
            .pipe(out);
        },
        (err: Error) => out.destroy(err),
      );
      return out;
    },
  };
}

function monthOf(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

async function syncDir(dir: string): Promise<void> {
  const dh = await fsp.open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
