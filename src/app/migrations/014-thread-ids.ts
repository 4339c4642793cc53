import type { Kysely } from 'kysely';

/**
 * Threading by the References graph, whatever the arrival order (issue 18): every Message-ID a stored
 * message carries or names (its own, In-Reply-To, References) maps, per connection, to the one
 * conversation that holds the messages linked through it. An id no stored message carries is a
 * placeholder for a message Mailroom never saw (JWZ's "ghost"): two replies naming it land in one
 * conversation, and the missing message, when it arrives, takes its place there.
 *
 * Backfilled from the stored messages, oldest first (the first conversation to claim an id keeps it).
 * The id rule is the one of `isThreadingId` in src/features/ingest/domain/threading.ts at the time of
 * writing (a local part, "@", a domain; no spaces): `<yes>` from old git-send-email is not an id.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('thread_ids')
    .addColumn('connection_id', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('conversation_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('thread_ids_pk', ['connection_id', 'message_id'])
    .execute();
  await db.schema.createIndex('thread_ids_conversation_idx').on('thread_ids').column('conversation_id').execute();

  const valid = (id: string) => id.length <= 250 && /^[^\s@<>]+@[^\s@<>]+$/.test(id);
  let after = '';
  for (;;) {
    const rows: Array<{ id: string; connection_id: string; conversation_id: string; message_id: string | null; in_reply_to: string | null; references: string }> = await db
      .selectFrom('messages')
      .select(['id', 'connection_id', 'conversation_id', 'message_id', 'in_reply_to', 'references'])
      .where('conversation_id', 'is not', null)
      .where('id', '>', after)
      .orderBy('id')
      .limit(500)
      .execute();
    if (!rows.length) break;
    after = rows[rows.length - 1]!.id;
    const out = new Map<string, { connection_id: string; message_id: string; conversation_id: string }>();
    for (const r of rows) {
      let refs: unknown = [];
      try {
        refs = JSON.parse(r.references);
      } catch {
        refs = [];
      }
      const ids = [r.message_id, r.in_reply_to, ...(Array.isArray(refs) ? refs.filter((x): x is string => typeof x === 'string') : [])];
      for (const id of ids) {
        if (!id || !valid(id)) continue;
        const key = `${r.connection_id}\n${id}`;
        if (!out.has(key)) out.set(key, { connection_id: r.connection_id, message_id: id, conversation_id: r.conversation_id });
      }
    }
    const values = [...out.values()];
    for (let i = 0; i < values.length; i += 200) {
      await db
        .insertInto('thread_ids')
        .values(values.slice(i, i + 200))
        .onConflict((oc) => oc.columns(['connection_id', 'message_id']).doNothing())
        .execute();
    }
  }
}
