/**
 * The blob store on a real folder and database: loose blobs, packs (each ingest batch written into the
 * store's current pack file in one write, indexed in the batch's transaction), reads from either, identical
 * content stored once, and what ingest leaves on disk.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { createTestApp, type TestApp } from '../support/app.js';
import { insertConnection } from '../support/connections.js';
import { createIngestor } from '../../src/app/engine.js';
import { ingestBatch, type Ingestor } from '../../src/features/ingest/ingest.js';
import { BlobNotFoundError, folderBlobStore, recordPackEntries, sha256Hex, storedBlobs } from '../../src/mail/blob-store.js';
import type { ConnectionsTable } from '../../src/platform/database/schema.js';
import { collectUnreferencedPacks } from '../../src/mail/collect-unreferenced-packs.js';

let t: TestApp;
let ingestor: Ingestor;
let conn: ConnectionsTable;

beforeAll(async () => {
  t = await createTestApp();
  ingestor = createIngestor(t.env);
  const a = await t.account();
  conn = (await insertConnection(t, { accountId: a.accountId, userId: a.adminUserId, type: 'team', address: 'blobs@acme.test' })) as ConnectionsTable;
});
afterAll(async () => {
  await t?.close();
});

const blobRoot = () => path.join(t.env.settings.dataDir, 'blobs');
const packFiles = () => {
  const dir = path.join(blobRoot(), 'packs');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => path.join(d.parentPath, d.name));
};

async function streamed(s: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

function mail(i: number, attachment: string) {
  return Buffer.from(
    [
      'From: Carla <carla@example.org>',
      'To: blobs@acme.test',
      `Subject: Invoice ${i}`,
      `Message-ID: <blob-${i}@example.org>`,
      'Date: Tue, 24 Nov 2026 10:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      '--b',
      'Content-Type: text/html; charset=utf-8',
      '',
      `<p>Invoice <b>${i}</b> attached.</p>`,
      '--b',
      'Content-Type: application/pdf; name="invoice.pdf"',
      'Content-Disposition: attachment; filename="invoice.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from(attachment).toString('base64'),
      '--b--',
      '',
    ].join('\r\n'),
  );
}

describe('blob store', () => {
  it('a pack holds many blobs; each reads back by its hash once recorded, and not before', async () => {
    const blobs = ['first', 'second blob', '', 'x'.repeat(70_000)].map((s) => Buffer.from(s));
    const entries = await ingestor.blobs.writePack(blobs.map((data) => ({ sha256: sha256Hex(data), data })));
    expect(new Set(entries.map((e) => e.pack)).size).toBe(1);
    // One contiguous run of the pack, on disk.
    for (let i = 1; i < entries.length; i++) expect(entries[i]!.offset).toBe(entries[i - 1]!.offset + entries[i - 1]!.length);
    expect(fs.statSync(path.join(blobRoot(), entries[0]!.pack)).size).toBeGreaterThanOrEqual(entries[0]!.offset + blobs.reduce((n, b) => n + b.length, 0));
    await expect(ingestor.blobs.get(entries[1]!.sha256)).rejects.toBeInstanceOf(BlobNotFoundError);
    expect(await ingestor.blobs.has(entries[1]!.sha256)).toBe(false);

    await t.env.db.transaction().execute((trx) => recordPackEntries(trx, t.env.dialect, entries, Date.now()));
    for (const [i, data] of blobs.entries()) {
      expect(await ingestor.blobs.get(sha256Hex(data))).toEqual(data);
      expect(await ingestor.blobs.has(sha256Hex(data))).toBe(true);
      expect(await streamed(ingestor.blobs.stream(sha256Hex(data)))).toEqual(data);
      expect(entries[i]!.length).toBe(data.length);
    }
  });

  it('loose blobs still work, and are found before the index', async () => {
    const data = Buffer.from('a loose blob');
    const sha = await ingestor.blobs.put(data);
    expect(ingestor.blobs.hasLoose(sha)).toBe(true);
    expect(await ingestor.blobs.get(sha)).toEqual(data);
    expect(await streamed(ingestor.blobs.stream(sha))).toEqual(data);
    expect(await t.env.db.transaction().execute((trx) => storedBlobs(trx, ingestor.blobs, [sha, sha256Hex('never stored')]))).toEqual(new Set([sha]));
  });

  it('an unknown or malformed id is a clear error', async () => {
    await expect(ingestor.blobs.get('0'.repeat(64))).rejects.toThrow(/not stored/);
    await expect(streamed(ingestor.blobs.stream('1'.repeat(64)))).rejects.toThrow(/not stored/);
    await expect(ingestor.blobs.get('../../etc/passwd')).rejects.toThrow(/Not a blob id/);
  });

  it('ingest writes a batch into one pack; later batches are appended to it; identical attachments and re-ingested messages are not written again', async () => {
    const pdf = '%PDF-1.4 the same invoice template '.repeat(50);
    const r1 = await ingestBatch(ingestor, conn, [1, 2, 3].map((i) => ({ raw: mail(i, pdf), source: 'import', direction: 'inbound', receivedAt: Date.now() })));
    expect(r1.stored).toBe(3);
    const filesAfterFirst = packFiles().length;
    // 3 raw messages + 3 HTML bodies + 1 attachment (the same bytes three times), side by side in one pack
    const first = await t.env.db.selectFrom('packed_blobs').select('pack').where('sha256', '=', sha256Hex(mail(1, pdf))).executeTakeFirstOrThrow();
    const firstRows = await t.env.db.selectFrom('packed_blobs').selectAll().where('pack', '=', first.pack).orderBy('offset').execute();
    const batch = firstRows.filter((r) => Number(r.offset) >= Number(firstRows.find((x) => x.sha256 === sha256Hex(mail(1, pdf)))!.offset));
    expect(batch.length).toBeGreaterThanOrEqual(7);

    const m = await t.env.db.selectFrom('messages').selectAll().where('connection_id', '=', conn.id).where('message_id', '=', 'blob-2@example.org').executeTakeFirstOrThrow();
    expect(await ingestor.blobs.get(m.raw_sha256)).toEqual(mail(2, pdf));
    expect((await ingestor.blobs.get(m.html_sha256!)).toString()).toContain('Invoice <b>2</b>');
    const att = (JSON.parse(m.attachments) as Array<{ sha256: string }>)[0]!;
    expect((await ingestor.blobs.get(att.sha256)).toString()).toBe(pdf);

    // The same messages again (a resync): duplicates, nothing written.
    const size = fs.statSync(path.join(blobRoot(), first.pack)).size;
    const r2 = await ingestBatch(ingestor, conn, [1, 2, 3].map((i) => ({ raw: mail(i, pdf), source: 'import', direction: 'inbound', receivedAt: Date.now() })));
    expect(r2).toMatchObject({ stored: 0, duplicates: 3 });
    expect(fs.statSync(path.join(blobRoot(), first.pack)).size).toBe(size);
    // A new message with the known attachment: only the new raw message and HTML, appended to the same pack.
    await ingestBatch(ingestor, conn, [{ raw: mail(4, pdf), source: 'import', direction: 'inbound', receivedAt: Date.now() }]);
    expect(packFiles().length).toBe(filesAfterFirst);
    const newest = await t.env.db.selectFrom('packed_blobs').selectAll().where('sha256', 'in', [sha256Hex(mail(4, pdf))]).execute();
    expect(newest.map((r) => r.pack)).toEqual([first.pack]);
    expect(Number(newest[0]!.offset)).toBeGreaterThanOrEqual(size);
    const fourth = await t.env.db.selectFrom('messages').select('html_sha256').where('message_id', '=', 'blob-4@example.org').executeTakeFirstOrThrow();
    const html = await ingestor.blobs.get(fourth.html_sha256!);
    expect(fs.statSync(path.join(blobRoot(), first.pack)).size).toBe(size + mail(4, pdf).length + html.length);
  });

  it('batches written at the same time never overlap, and a pack takes batches only while it is young', async () => {
    const store = folderBlobStore(blobRoot(), t.env.db, { appendMs: 300 });
    const blob = (s: string) => ({ sha256: sha256Hex(s), data: Buffer.from(s) });
    const written = await Promise.all(Array.from({ length: 20 }, (_, i) => store.writePack([blob(`concurrent ${i} `.repeat(i + 1)), blob(`second of ${i}`)])));
    const all = written.flat();
    expect(new Set(all.map((e) => e.pack)).size).toBe(1);
    await t.env.db.transaction().execute((trx) => recordPackEntries(trx, t.env.dialect, all, Date.now()));
    for (const [i] of written.entries()) {
      expect((await store.get(sha256Hex(`concurrent ${i} `.repeat(i + 1)))).toString()).toBe(`concurrent ${i} `.repeat(i + 1));
      expect((await store.get(sha256Hex(`second of ${i}`))).toString()).toBe(`second of ${i}`);
    }
    const ranges = all.map((e) => [e.offset, e.offset + e.length] as const).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]![0]).toBeGreaterThanOrEqual(ranges[i - 1]![1]);
    await new Promise((r) => setTimeout(r, 350));
    const [later] = await store.writePack([blob('written once the pack is too old to take more')]);
    expect(later!.pack).not.toBe(all[0]!.pack);
    expect(later!.offset).toBe(0);
    await t.env.db.transaction().execute((trx) => recordPackEntries(trx, t.env.dialect, [later!], Date.now()));
  });

  it('packs nothing references (a batch whose transaction failed) are collected once old enough; referenced and recent ones stay', async () => {
    const blob = (s: string) => ({ sha256: sha256Hex(s), data: Buffer.from(s) });
    // One pack per batch here, so that each of the three can be unreferenced or old on its own.
    const store = folderBlobStore(blobRoot(), t.env.db, { appendMs: 0 });
    const [orphan] = await store.writePack([blob('orphaned bytes 1'), blob('orphaned bytes 2')]);
    const [recent] = await store.writePack([blob('a batch still being written')]);
    const [kept] = await store.writePack([blob('referenced bytes')]);
    await t.env.db.transaction().execute((trx) => recordPackEntries(trx, t.env.dialect, [kept!], Date.now()));
    const twoDaysAgo = new Date(Date.now() - 48 * 3600_000);
    for (const e of [orphan!, kept!]) fs.utimesSync(path.join(blobRoot(), e.pack), twoDaysAgo, twoDaysAgo);

    const dry = await collectUnreferencedPacks(t.env.db, blobRoot(), { dryRun: true });
    expect(dry).toMatchObject({ deleted: 0, tooRecent: 1 });
    expect(dry.bytesFreed).toBe('orphaned bytes 1orphaned bytes 2'.length);
    expect(fs.existsSync(path.join(blobRoot(), orphan!.pack))).toBe(true);

    const done = await collectUnreferencedPacks(t.env.db, blobRoot());
    expect(done).toMatchObject({ deleted: 1, tooRecent: 1 });
    expect(fs.existsSync(path.join(blobRoot(), orphan!.pack))).toBe(false);
    expect(fs.existsSync(path.join(blobRoot(), recent!.pack))).toBe(true);
    expect((await ingestor.blobs.get(kept!.sha256)).toString()).toBe('referenced bytes');
    // Everything ingest stored is still readable.
    for (const r of await t.env.db.selectFrom('messages').select('raw_sha256').where('connection_id', '=', conn.id).execute()) expect(await ingestor.blobs.has(r.raw_sha256)).toBe(true);
  });
});
