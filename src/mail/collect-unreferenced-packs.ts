/**
 * Deletes blob packs that nothing references. A pack is written before the transaction that indexes its
 * blobs commits (see blob-store.ts); when that transaction fails (an ingest batch that is then retried,
 * a crash), the pack stays on disk with no `packed_blobs` row. Packs younger than `olderThanMs` (default
 * a day) are never touched, so a batch still being written keeps its pack. `dryRun` only reports.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Executor } from '../platform/context.js';

export interface PackCollection {
  packs: number;
  unreferenced: number;
  deleted: number;
  bytesFreed: number;
  /** Unreferenced packs kept because they are too recent. */
  tooRecent: number;
}

export async function collectUnreferencedPacks(db: Executor, blobRoot: string, opts: { olderThanMs?: number; dryRun?: boolean; now?: number } = {}): Promise<PackCollection> {
  const olderThanMs = opts.olderThanMs ?? 24 * 3600_000;
  const now = opts.now ?? Date.now();
  const out: PackCollection = { packs: 0, unreferenced: 0, deleted: 0, bytesFreed: 0, tooRecent: 0 };
  const packsDir = path.join(blobRoot, 'packs');
  if (!fs.existsSync(packsDir)) return out;
  for (const month of fs.readdirSync(packsDir, { withFileTypes: true })) {
    if (!month.isDirectory()) continue;
    for (const f of fs.readdirSync(path.join(packsDir, month.name), { withFileTypes: true })) {
      if (!f.isFile() || !f.name.endsWith('.pack')) continue;
      out.packs += 1;
      const rel = path.join('packs', month.name, f.name);
      const used = await db.selectFrom('packed_blobs').select('sha256').where('pack', '=', rel).limit(1).executeTakeFirst();
      if (used) continue;
      out.unreferenced += 1;
      const file = path.join(blobRoot, rel);
      const st = fs.statSync(file);
      if (now - st.mtimeMs < olderThanMs) {
        out.tooRecent += 1;
        continue;
      }
      if (!opts.dryRun) fs.rmSync(file, { force: true });
      out.deleted += opts.dryRun ? 0 : 1;
      out.bytesFreed += st.size;
    }
  }
  return out;
}
