/**
 * writePreparedGroup (issue 20: a worker holding many mailboxes writes the batches of those that receive
 * mail at the same moment in one transaction and one pack): each connection's messages end up exactly as
 * when written alone (threads, dedupe per connection, the same message in two mailboxes stored for each),
 * each entry's afterWrite runs in the transaction with its own result, and writing the group again
 * stores nothing twice. Real database (SQLite, or PostgreSQL with DATABASE_URL).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { insertConnection } from '../support/connections.js';
import { createIngestor } from '../../src/app/engine.js';
import { prepareItems, writePreparedGroup, type IngestItem, type Ingestor } from '../../src/features/ingest/ingest.js';

let t: TestApp;
let ingestor: Ingestor;
beforeAll(async () => {
  t = await createTestApp();
  ingestor = createIngestor(t.env);
});
afterAll(async () => {
  await t?.close();
});

const msg = (mid: string, subject: string, inReplyTo?: string): IngestItem => ({
  raw: Buffer.from(`From: c@example.org\r\nTo: box@example.test\r\nSubject: ${subject}\r\nMessage-ID: <${mid}>\r\n${inReplyTo ? `In-Reply-To: <${inReplyTo}>\r\n` : ''}Date: ${new Date(Date.UTC(2026, 10, 1)).toUTCString()}\r\n\r\nbody of ${mid}\r\n`),
  source: 'imap',
  direction: 'inbound',
  receivedAt: Date.UTC(2026, 10, 1),
});

describe('writePreparedGroup', () => {
  it('writes several connections in one transaction exactly as one by one', async () => {
    const a = await t.account();
    const conns = [];
    for (const name of ['g1', 'g2', 'g3']) {
      conns.push(await insertConnection(t, { accountId: a.accountId, userId: a.adminUserId, type: 'team', address: `${name}@example.test`, transport: 'imap', imap: { host: '127.0.0.1', port: 1, username: name, password: 'x' }, smtp: { host: '127.0.0.1', port: 1, username: name, password: 'x' } }));
    }
    const items = [
      [msg('root-1@example.org', 'Order 1'), msg('reply-1@example.org', 'Re: Order 1', 'root-1@example.org')],
      [msg('shared@example.org', 'Shared'), msg('root-2@example.org', 'Order 2')],
      [msg('shared@example.org', 'Shared')],
    ];
    const seen: Array<{ id: string; stored: number }> = [];
    const entries = await Promise.all(
      conns.map(async (c, i) => ({
        connection: c,
        batch: await prepareItems(ingestor, items[i]!),
        afterWrite: async (trx: unknown, r: { stored: number }) => {
          expect(trx).toBeTruthy();
          seen.push({ id: c.id, stored: r.stored });
        },
      })),
    );
    const results = await writePreparedGroup(ingestor, entries);
    expect(results.map((r) => [r.stored, r.duplicates])).toEqual([[2, 0], [2, 0], [1, 0]]);
    expect(seen).toEqual(conns.map((c, i) => ({ id: c.id, stored: [2, 2, 1][i] })));
    const convs = async (id: string) => (await t.database.db.selectFrom('conversations').select(['message_count']).where('connection_id', '=', id).orderBy('subject').execute()).map((r) => Number(r.message_count));
    expect(await convs(conns[0]!.id)).toEqual([2]); // the reply joined its parent
    expect((await convs(conns[1]!.id)).sort()).toEqual([1, 1]);
    expect(await convs(conns[2]!.id)).toEqual([1]); // the same message in another mailbox is stored for it too

    const again = await writePreparedGroup(ingestor, await Promise.all(conns.map(async (c, i) => ({ connection: c, batch: await prepareItems(ingestor, items[i]!) }))));
    expect(again.map((r) => [r.stored, r.duplicates])).toEqual([[0, 2], [0, 2], [0, 1]]);
    const total = await t.database.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).where('connection_id', 'in', conns.map((c) => c.id)).executeTakeFirstOrThrow();
    expect(Number(total.n)).toBe(5);
  });
});
