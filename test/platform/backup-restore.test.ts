/**
 * `mailroom backup` while mail is being ingested, then `mailroom restore` into a fresh data folder:
 * every message of the snapshot is there with its raw bytes readable (SHA-256 checked), the count
 * matches the manifest, and no message of the restored database is half there. On PostgreSQL the
 * database is pg_dump's job: the blobs-only backup must hold the raw bytes of every message stored
 * before it began.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestApp, type TestApp } from '../support/app.js';
import { usingPostgres } from '../support/db.js';
import { insertConnection } from '../support/connections.js';
import { createIngestor } from '../../src/app/engine.js';
import { importMail } from '../../src/features/ingest/import-mail.js';
import { backup, restore, type BackupManifest } from '../../src/app/backup.js';
import { openDatabase } from '../../src/platform/database/database.js';
import { folderBlobStore, sha256Hex } from '../../src/mail/blob-store.js';

let t: TestApp;
let dir: string;
beforeAll(async () => {
  t = await createTestApp();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-backup-'));
});
afterAll(async () => {
  await t?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const N = 300;
const msg = (i: number) =>
  `From: Ann <ann${i}@example.org>\r\nTo: support@acme.test\r\nSubject: Backup ${i}\r\nMessage-ID: <backup-${i}@x>\r\nDate: Tue, 01 Sep 2026 10:00:00 +0000\r\n\r\n${`line ${i} `.repeat(50 + (i % 40))}\r\n`;

async function count(db: TestApp['env']['db']): Promise<number> {
  const r = await db
    .selectFrom('messages')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

describe('backup and restore', () => {
  it('a backup taken during ingest restores into a fresh folder with every message readable', async () => {
    const a = await t.account();
    const inbox = (await t.api(a.token, 'POST', '/api/v1/inboxes', { name: 'Backed up' })).json();
    const conn = await insertConnection(t, { accountId: a.accountId, userId: a.adminUserId, type: 'team', address: `bk-${Date.now()}@acme.test`, inboxId: inbox.id });
    const mailDir = path.join(dir, 'mail');
    fs.mkdirSync(mailDir);
    for (let i = 0; i < N; i++) fs.writeFileSync(path.join(mailDir, `${String(i).padStart(4, '0')}.eml`), msg(i));
    // A loose blob too (mail composed in Mailroom is stored loose).
    const loose = Buffer.from('From: me@acme.test\r\nSubject: composed\r\n\r\nloose\r\n');
    await folderBlobStore(path.join(t.database.dataDir, 'blobs'), t.env.db).put(loose);

    const ingest = importMail(createIngestor(t.env), conn, mailDir, { batchSize: 10 });
    await expect.poll(() => count(t.env.db), { timeout: 60_000, interval: 20 }).toBeGreaterThanOrEqual(20);
    const before = await t.env.db.selectFrom('messages').select(['id', 'raw_sha256']).execute();

    const target = path.join(dir, 'backup');
    const lines: string[] = [];
    const manifest: BackupManifest = await backup(target, {
      dataDir: t.database.dataDir,
      db: t.env.db,
      dialect: t.env.dialect,
      includeKey: true,
      blobsOnly: usingPostgres,
      log: (l) => lines.push(l),
    });
    const summary = await ingest;
    console.info(`backup: snapshot of ${manifest.counts.messages} of ${N} messages (${manifest.counts.packs} packs)`);
    expect(summary.imported).toBe(N);
    expect(lines.join('\n')).toMatch(/secret key is in this backup/);
    expect(manifest.counts.messages).toBeGreaterThanOrEqual(before.length);
    expect(manifest.counts.looseBlobs).toBeGreaterThanOrEqual(1);

    const restored = path.join(dir, 'restored');
    const r = await restore(target, restored, { log: () => {} });
    expect(r.files).toBe(manifest.files.length);
    expect(fs.readFileSync(path.join(restored, 'secret.key'))).toEqual(fs.readFileSync(path.join(t.database.dataDir, 'secret.key')));
    expect(fs.existsSync(path.join(restored, 'blobs', loose.length ? `${sha256Hex(loose).slice(0, 2)}/${sha256Hex(loose).slice(2, 4)}/${sha256Hex(loose)}` : ''))).toBe(true);

    if (usingPostgres) {
      // The database is pg_dump's: the messages stored before the backup began must all be readable from the restored blobs.
      const blobs = folderBlobStore(path.join(restored, 'blobs'), t.env.db);
      for (const m of before) expect(sha256Hex(await blobs.get(m.raw_sha256))).toBe(m.raw_sha256);
      return;
    }
    const db = await openDatabase({ dataDir: restored });
    try {
      const rows = await db.db.selectFrom('messages').select(['id', 'raw_sha256']).execute();
      expect(rows.length).toBe(manifest.counts.messages);
      expect(rows.length).toBeLessThanOrEqual(await count(t.env.db));
      const ids = new Set(rows.map((m) => m.id));
      for (const m of before) expect(ids.has(m.id)).toBe(true);
      const blobs = folderBlobStore(path.join(restored, 'blobs'), db.db);
      for (const m of rows) expect(sha256Hex(await blobs.get(m.raw_sha256))).toBe(m.raw_sha256);
    } finally {
      await db.close();
    }
  }, 180_000);

  it('restore refuses a non-empty data folder and a damaged backup', async () => {
    const target = path.join(dir, 'backup');
    const busy = path.join(dir, 'busy');
    fs.mkdirSync(busy);
    fs.writeFileSync(path.join(busy, 'x'), 'x');
    await expect(restore(target, busy, { log: () => {} })).rejects.toThrow(/not empty/);
    const manifest = JSON.parse(fs.readFileSync(path.join(target, 'manifest.json'), 'utf8')) as BackupManifest;
    const victim = manifest.files.find((f) => f.path.startsWith('blobs/'))!;
    fs.appendFileSync(path.join(target, victim.path), 'x');
    await expect(restore(target, path.join(dir, 'again'), { log: () => {} })).rejects.toThrow(/damaged/);
    expect(fs.existsSync(path.join(dir, 'again'))).toBe(false);
  });

  it('without --include-key the key stays out and the backup says so; PostgreSQL needs --blobs-only', async () => {
    const lines: string[] = [];
    const target = path.join(dir, 'nokey');
    if (usingPostgres) {
      await expect(backup(target, { dataDir: t.database.dataDir, db: t.env.db, dialect: 'postgres', log: () => {} })).rejects.toThrow(/pg_dump/);
    }
    const m = await backup(target, { dataDir: t.database.dataDir, db: t.env.db, dialect: t.env.dialect, blobsOnly: usingPostgres, log: (l) => lines.push(l) });
    expect(m.includesKey).toBe(false);
    expect(fs.existsSync(path.join(target, 'secret.key'))).toBe(false);
    expect(lines.join('\n')).toMatch(/NOT in this backup/);
  });
});
