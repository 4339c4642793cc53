/**
 * Content-addressed blob store for raw messages and attachments: a folder by default
 * (`<dataDir>/blobs/ab/cd/<sha256>`). Writes are atomic and durable (temp file, fsync, rename, fsync the
 * folder), so once `put` resolves the bytes survive a crash. Identical content is stored once.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

export interface BlobStore {
  /**
   * Stores bytes; resolves once they are on disk (fsync). `durable: false` skips the fsyncs, for
   * derived content (decoded HTML, attachments) that can be rebuilt from the raw message.
   */
  put(data: Buffer, opts?: { durable?: boolean }): Promise<string>;
  get(sha256: string): Promise<Buffer>;
  has(sha256: string): Promise<boolean>;
  /** Stream a blob (large attachments). */
  stream(sha256: string): NodeJS.ReadableStream;
}

export function sha256Hex(data: Buffer | string): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

const HEX64 = /^[0-9a-f]{64}$/;

export function folderBlobStore(root: string): BlobStore {
  const pathOf = (sha: string) => {
    if (!HEX64.test(sha)) throw new Error(`Not a blob id: ${sha.slice(0, 80)}`);
    return path.join(root, sha.slice(0, 2), sha.slice(2, 4), sha);
  };
  return {
    async put(data, opts) {
      const durable = opts?.durable !== false;
      const sha = sha256Hex(data);
      const file = pathOf(sha);
      try {
        await fsp.access(file);
        return sha;
      } catch {
        /* not there yet */
      }
      const dir = path.dirname(file);
      await fsp.mkdir(dir, { recursive: true });
      const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
      const fh = await fsp.open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(data);
        if (durable) await fh.sync();
      } finally {
        await fh.close();
      }
      await fsp.rename(tmp, file);
      if (!durable) return sha;
      const dh = await fsp.open(dir, 'r');
      try {
        await dh.sync();
      } finally {
        await dh.close();
      }
      return sha;
    },
    async get(sha) {
      return fsp.readFile(pathOf(sha));
    },
    async has(sha) {
      try {
        await fsp.access(pathOf(sha));
        return true;
      } catch {
        return false;
      }
    },
    stream(sha) {
      return fs.createReadStream(pathOf(sha));
    },
  };
}
