/**
 * `mailroom backup DIR` and `mailroom restore DIR`: a consistent copy of a running Mailroom, and its
 * restore into an empty data folder.
 *
 * Backup (the server may go on ingesting meanwhile):
 * 1. SQLite: `VACUUM INTO DIR/mailroom.sqlite`, one read transaction on its own connection. Under WAL it
 *    never blocks the server's writes and, unlike the page-copying online backup API (which starts over
 *    whenever another process writes to the database), it finishes under continuous ingest. That copy is
 *    the snapshot. PostgreSQL: the database is the operator's `pg_dump`, taken BEFORE
 *    `mailroom backup --blobs-only DIR`.
 * 2. Blobs: every pack file that the snapshot's `packed_blobs` names (a batch's bytes are written into a
 *    pack and fsynced before the transaction that records them commits, and never change afterwards; a
 *    pack may grow while it is copied: the bytes after the snapshot's are unreferenced), and every loose blob
 *    file (loose blobs are written before they are referenced and never deleted). Blobs written after
 *    the snapshot may be copied too: unreferenced bytes, harmless. `blobs-gc` deletes only packs that
 *    nothing references, so a pack the snapshot references is still there unless its messages were
 *    deleted since; then the copy fails and says so (run the backup again).
 * 3. `manifest.json`: every file with its size and SHA-256, the message count of the snapshot, and
 *    whether the secret key is included. The key (`DATA_DIR/secret.key`, or MAILROOM_SECRET_KEY) is
 *    copied only with `--include-key`: a backup with the key opens every stored mail password, so keep
 *    it as carefully as the key itself; without it, keep the key separately.
 *
 * Restore checks every file against the manifest first, then copies into a data folder that must be
 * empty (or not exist yet).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { DB } from '../platform/database/schema.js';
import { SQLite, type Dialect } from '../platform/database/database.js';
import { AppError } from '../platform/errors.js';
import { SECRET_KEY_FILE } from '../platform/security/secret-box.js';

export const MANIFEST = 'manifest.json';
const SQLITE_FILE = 'mailroom.sqlite';

export interface BackupManifest {
  format: 'mailroom-backup';
  version: 1;
  createdAt: string;
  database: Dialect;
  /** True when the database is not in the backup (PostgreSQL: pg_dump it separately, before the blobs). */
  blobsOnly: boolean;
  includesKey: boolean;
  counts: { messages: number; packs: number; looseBlobs: number };
  files: Array<{ path: string; size: number; sha256: string }>;
}

export interface BackupOptions {
  dataDir: string;
  db: Kysely<DB>;
  dialect: Dialect;
  /** The key from MAILROOM_SECRET_KEY, when set (else the key file in dataDir is the key). */
  secretKey?: string;
  includeKey?: boolean;
  blobsOnly?: boolean;
  log?: (line: string) => void;
}

const HEX64 = /^[0-9a-f]{64}$/;

function emptyOrMissing(dir: string): boolean {
  try {
    return fs.readdirSync(dir).length === 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
}

/** Copies one file, fsyncs the copy, and returns its size and SHA-256. */
async function copyFile(from: string, to: string, mode = 0o600): Promise<{ size: number; sha256: string }> {
  await fsp.mkdir(path.dirname(to), { recursive: true });
  const data = await fsp.readFile(from);
  const fh = await fsp.open(to, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return { size: data.length, sha256: crypto.createHash('sha256').update(data).digest('hex') };
}

async function fileDigest(file: string): Promise<{ size: number; sha256: string }> {
  const data = await fsp.readFile(file);
  return { size: data.length, sha256: crypto.createHash('sha256').update(data).digest('hex') };
}

/** Loose blob files (`ab/cd/<sha256>`), relative to the blob folder; temp files and packs left out. */
function looseBlobs(blobRoot: string): string[] {
  const out: string[] = [];
  const level = (rel: string): string[] => {
    try {
      return fs.readdirSync(path.join(blobRoot, rel)).sort();
    } catch {
      return [];
    }
  };
  for (const a of level('')) {
    if (!/^[0-9a-f]{2}$/.test(a)) continue;
    for (const b of level(a)) {
      if (!/^[0-9a-f]{2}$/.test(b)) continue;
      for (const f of level(`${a}/${b}`)) if (HEX64.test(f) && f.startsWith(a + b)) out.push(`${a}/${b}/${f}`);
    }
  }
  return out;
}

function insideBlobs(blobRoot: string, rel: string): string {
  const p = path.resolve(blobRoot, rel);
  if (!p.startsWith(path.resolve(blobRoot) + path.sep)) throw new Error(`Pack outside the blob folder: ${rel}`);
  return p;
}

export async function backup(target: string, opts: BackupOptions): Promise<BackupManifest> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const blobsOnly = Boolean(opts.blobsOnly);
  if (opts.dialect === 'postgres' && !blobsOnly) {
    throw new AppError(
      'invalid_input',
      400,
      'On PostgreSQL, back up the database with pg_dump (e.g. `pg_dump -Fc -f mailroom.dump "$DATABASE_URL"`) and THEN the blobs with `mailroom backup --blobs-only DIR`.',
    );
  }
  if (!emptyOrMissing(target)) throw new AppError('conflict', 409, `${target} is not empty: back up into a new or empty folder.`);
  await fsp.mkdir(target, { recursive: true, mode: 0o700 });
  const files: BackupManifest['files'] = [];
  let packs: string[];
  let messages: number;

  if (!blobsOnly) {
    const source = path.join(opts.dataDir, SQLITE_FILE);
    if (!fs.existsSync(source)) throw new AppError('not_found', 404, `No database at ${source}: check DATA_DIR.`);
    const snapshotFile = path.join(target, SQLITE_FILE);
    const conn = new SQLite(source, { fileMustExist: true });
    try {
      conn.pragma('busy_timeout = 10000');
      conn.prepare('VACUUM INTO ?').run(snapshotFile);
    } finally {
      conn.close();
    }
    const snap = new SQLite(snapshotFile, { readonly: true, fileMustExist: true });
    try {
      packs = (snap.prepare('select distinct pack from packed_blobs order by pack').all() as Array<{ pack: string }>).map((r) => r.pack);
      messages = Number((snap.prepare('select count(*) as n from messages').get() as { n: number }).n);
    } finally {
      snap.close();
    }
    await fsp.chmod(snapshotFile, 0o600);
    files.push({ path: SQLITE_FILE, ...(await fileDigest(snapshotFile)) });
    log(`backup: database snapshot taken (${messages} messages)`);
  } else {
    const counted = await opts.db
      .selectFrom('messages')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    messages = Number(counted.n);
    packs = (await opts.db.selectFrom('packed_blobs').select('pack').distinct().orderBy('pack').execute()).map((r) => r.pack);
  }

  const blobRoot = path.join(opts.dataDir, 'blobs');
  for (const rel of packs) {
    const from = insideBlobs(blobRoot, rel);
    try {
      files.push({ path: `blobs/${rel}`, ...(await copyFile(from, path.join(target, 'blobs', rel))) });
    } catch (err) {
      throw new Error(`Cannot copy pack ${rel}: ${(err as Error).message}. If blobs-gc removed it after its messages were deleted, run the backup again.`);
    }
  }
  const loose = looseBlobs(blobRoot);
  for (const rel of loose) files.push({ path: `blobs/${rel}`, ...(await copyFile(path.join(blobRoot, rel), path.join(target, 'blobs', rel))) });
  log(`backup: ${packs.length} blob packs and ${loose.length} loose blobs copied`);

  const includesKey = Boolean(opts.includeKey);
  if (includesKey) {
    const keyFile = path.join(target, SECRET_KEY_FILE);
    if (opts.secretKey) {
      await fsp.writeFile(keyFile, `${opts.secretKey}\n`, { mode: 0o600, flag: 'wx' });
      files.push({ path: SECRET_KEY_FILE, ...(await fileDigest(keyFile)) });
    } else {
      files.push({ path: SECRET_KEY_FILE, ...(await copyFile(path.join(opts.dataDir, SECRET_KEY_FILE), keyFile)) });
    }
    log('backup: WARNING: the secret key is in this backup (--include-key): whoever reads it can open every stored mail password. Keep it as safe as the key itself.');
  } else {
    log(
      'backup: the secret key is NOT in this backup: keep MAILROOM_SECRET_KEY or DATA_DIR/secret.key separately (without it, restored mail passwords cannot be read; --include-key adds it).',
    );
  }

  const manifest: BackupManifest = {
    format: 'mailroom-backup',
    version: 1,
    createdAt: new Date().toISOString(),
    database: opts.dialect,
    blobsOnly,
    includesKey,
    counts: { messages, packs: packs.length, looseBlobs: loose.length },
    files,
  };
  const fh = await fsp.open(path.join(target, MANIFEST), 'wx', 0o600);
  try {
    await fh.writeFile(`${JSON.stringify(manifest, null, 2)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return manifest;
}

export interface RestoreSummary {
  manifest: BackupManifest;
  files: number;
}

/** Checks a backup against its manifest and copies it into an empty data folder. */
export async function restore(source: string, dataDir: string, opts: { log?: (line: string) => void } = {}): Promise<RestoreSummary> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(await fsp.readFile(path.join(source, MANIFEST), 'utf8')) as BackupManifest;
  } catch (err) {
    throw new AppError('invalid_input', 400, `${source} is not a Mailroom backup (no readable ${MANIFEST}: ${(err as Error).message}).`);
  }
  if (manifest.format !== 'mailroom-backup' || manifest.version !== 1) throw new AppError('invalid_input', 400, `${source}: unknown backup format.`);
  if (!emptyOrMissing(dataDir)) throw new AppError('conflict', 409, `DATA_DIR ${dataDir} is not empty: restore only into a new or empty folder.`);
  const bad: string[] = [];
  for (const f of manifest.files) {
    const p = path.resolve(source, f.path);
    if (!p.startsWith(path.resolve(source) + path.sep)) throw new AppError('invalid_input', 400, `Backup names a file outside it: ${f.path}`);
    try {
      const d = await fileDigest(p);
      if (d.size !== f.size || d.sha256 !== f.sha256) bad.push(`${f.path} (changed)`);
    } catch {
      bad.push(`${f.path} (missing)`);
    }
  }
  if (bad.length > 0)
    throw new AppError('invalid_input', 400, `The backup in ${source} is damaged: ${bad.slice(0, 10).join(', ')}${bad.length > 10 ? ` and ${bad.length - 10} more` : ''}.`);
  await fsp.mkdir(dataDir, { recursive: true, mode: 0o700 });
  for (const f of manifest.files) await copyFile(path.join(source, f.path), path.join(dataDir, f.path));
  log(`restore: ${manifest.files.length} files checked and copied into ${dataDir} (${manifest.counts.messages} messages)`);
  if (manifest.blobsOnly) log('restore: this backup holds blobs only: restore the PostgreSQL database from its pg_dump (pg_restore) before starting Mailroom.');
  if (!manifest.includesKey) {
    log(
      'restore: WARNING: the backup has no secret key. Before starting Mailroom, set MAILROOM_SECRET_KEY or copy the old secret.key into DATA_DIR: otherwise a new key is created and stored mail passwords cannot be read (users reconnect their mailboxes).',
    );
  }
  return { manifest, files: manifest.files.length };
}
