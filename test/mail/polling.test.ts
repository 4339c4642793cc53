/**
 * A server without IDLE (issue 20): Dovecot with IDLE left out of its capabilities. The mailbox is
 * reported `polling`, checked on an adaptive interval (from pollMinMs, doubling while nothing comes, back
 * to pollMinMs after new mail), kept alive by NOOPs, and new mail is stored on the same login.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createTestApp, type TestApp } from '../support/app.js';
import { allowLocalMailServers } from '../support/local-hosts.js';
import { insertConnection } from '../support/connections.js';
import { startDovecot, type TestDovecot } from '../harness/dovecot.js';
import { createIngestor } from '../../src/app/engine.js';
import { MailboxSession } from '../../src/features/connections/mailbox-session.js';
import { Limiter } from '../../src/platform/jobs/limiter.js';

let t: TestApp;
let dovecot: TestDovecot;
allowLocalMailServers();

beforeAll(async () => {
  dovecot = await startDovecot({ specialFolders: false, extraConfig: 'protocol imap {\n  imap_capability = IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE UIDPLUS\n}\n' });
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
  await dovecot?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a server without IDLE', () => {
  it('is polled on an adaptive interval, reported as polling, and its new mail arrives', async () => {
    const a = await t.account('enterprise');
    const user = 'noidle@example.test';
    await dovecot.addUser(user, 'pw');
    const conn = await insertConnection(t, {
      accountId: a.accountId,
      userId: a.adminUserId,
      type: 'team',
      address: user,
      transport: 'imap',
      imap: { host: '127.0.0.1', port: dovecot.imapPort, username: user, password: 'pw' },
      smtp: { host: '127.0.0.1', port: 1, username: user, password: 'pw' },
    });
    const session = new MailboxSession(createIngestor(t.env), conn.id, {
      settings: { timings: { socketMs: 3000, idleReissueMs: 1000, probeMs: 1500 }, pollMs: 4000, pollMinMs: 500, stableMs: 60_000 },
      limits: { work: new Limiter(2), connect: new Limiter(2) },
      log: pino({ level: 'silent' }),
    });
    const run = session.run();
    const listening = async () => (await t.database.db.selectFrom('connections').select('listening').where('id', '=', conn.id).executeTakeFirstOrThrow()).listening;
    for (let i = 0; i < 100 && (await listening()) !== 'polling'; i++) await sleep(100);
    expect(await listening()).toBe('polling');
    // Empty polls back off: 0.5, 1, 2, 4, 4 s... so in 8 s far fewer than 16 passes. Several socket timeouts pass on one login.
    const before = session.passes;
    await sleep(8000);
    const quiet = session.passes - before;
    expect(quiet).toBeGreaterThanOrEqual(2);
    expect(quiet).toBeLessThanOrEqual(6);
    expect(session.connects).toBe(1);
    await dovecot.deliver(user, `From: s@example.org\r\nTo: ${user}\r\nSubject: polled\r\nMessage-ID: <polled-1@example.org>\r\nDate: ${new Date().toUTCString()}\r\n\r\nhi\r\n`);
    let found = false;
    for (let i = 0; i < 150 && !found; i++) {
      await sleep(100);
      found = Boolean(await t.database.db.selectFrom('messages').select('id').where('connection_id', '=', conn.id).where('message_id', '=', 'polled-1@example.org').executeTakeFirst());
    }
    expect(found).toBe(true);
    expect(session.connects).toBe(1);
    await session.stop();
    expect(await run).toBe('again');
  }, 60_000);
});
