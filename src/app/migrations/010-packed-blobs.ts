import type { Kysely } from 'kysely';

/**
 * Where blobs written in packs live (see mail/blob-store.ts): an ingest batch writes its messages' raw
 * bytes, HTML and attachments as one pack file with one fsync, and records each blob here in the same
 * transaction as the messages that reference it.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('packed_blobs')
    .addColumn('sha256', 'text', (c) => c.primaryKey())
    .addColumn('pack', 'text', (c) => c.notNull())
    .addColumn('offset', 'bigint', (c) => c.notNull())
    .addColumn('length', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  // Which blobs a pack holds (collecting packs nothing references).
  await db.schema.createIndex('packed_blobs_pack_idx').on('packed_blobs').column('pack').execute();
}
