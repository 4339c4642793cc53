/**
 * Live inbox events between processes (PostgreSQL): what one process publishes reaches a LISTEN on
 * `mailroom_inbox` in another, every event once and in order, in one statement however many there are.
 * Runs in the PostgreSQL pass (DATABASE_URL); SQLite delivers in-process only (live-access.test.ts).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase, usingPostgres } from '../support/db.js';
import { inboxEvents, PG_CHANNEL, type InboxEvent } from '../../src/features/inbox/live.js';

describe.runIf(usingPostgres)('live inbox events over PostgreSQL NOTIFY', () => {
  let database: TestDatabase;
  let listener: pg.Client;
  const heard: InboxEvent[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    listener = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await listener.connect();
    listener.on('notification', (n) => {
      if (n.channel === PG_CHANNEL && n.payload) heard.push(JSON.parse(n.payload) as InboxEvent);
    });
    await listener.query(`LISTEN ${PG_CHANNEL}`);
  });
  afterAll(async () => {
    await listener?.end();
    await database?.drop();
  });

  it('a publish of many events is heard by another connection, each once, in order, quotes and all', async () => {
    const tag = `inb_${Date.now()}`;
    const events: InboxEvent[] = Array.from({ length: 25 }, (_, i) => ({
      type: i % 2 ? 'message.created' : 'conversation.updated',
      inboxId: tag,
      conversationId: `cnv_${i}`,
      data: { n: i, note: `it's "quoted", {braced} and ü` },
      at: 1_700_000_000_000 + i,
    }));
    await inboxEvents.publish({ db: database.db, dialect: 'postgres' }, events);
    await expect.poll(() => heard.filter((e) => e.inboxId === tag).length, { timeout: 10_000 }).toBe(25);
    expect(heard.filter((e) => e.inboxId === tag)).toEqual(events);
  });
});
