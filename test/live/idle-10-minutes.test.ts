/**
 * Idle stays live for real (issue 20), with the default timings (socket timeout 5 min, IDLE re-issued
 * every 2 min, Dovecot's own IDLE keepalive every 2 min): a mailbox sits in IDLE for 10 minutes, then a
 * message is delivered and must be stored within 15 s, on the same IMAP login. Before the fix the session
 * stopped listening after 60 s and reconnected every 2 minutes.
 * Takes 10 minutes: excluded from `npm test`, run by `npm run test:idle` (CI runs it once, in parallel).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createTestApp, type TestApp } from '../support/app.js';
import { insertConnection } from '../support/connections.js';
import { setPrivateHostsForTest } from '../support/local-hosts.js';
import { startDovecot, type TestDovecot } from '../harness/dovecot.js';
import { createIngestor } from '../../src/app/engine.js';
import { runConnectionSync, DEFAULT_SYNC_JOB_SETTINGS } from '../../src/features/connections/sync-job.js';
import type { MailboxSession } from '../../src/features/connections/mailbox-session.js';

const IDLE_MS = Number(process.env.MAILROOM_TEST_IDLE_MS ?? 10 * 60_000);
let t: TestApp;
let dovecot: TestDovecot;
let restoreAllow: (() => void) | undefined;

beforeAll(async () => {
  restoreAllow = setPrivateHostsForTest(['127.0.0.1']);
  dovecot = await startDovecot({ specialFolders: false });
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
  await dovecot?.stop();
  restoreAllow?.();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a mailbox idle for 10 minutes', () => {
  it(
    'still receives new mail within seconds, without having reconnected',
    async () => {
      const a = await t.account('enterprise');
      const user = 'idle10@example.test';
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
      const abort = new AbortController();
      let session: MailboxSession | undefined;
      const settings = { ...DEFAULT_SYNC_JOB_SETTINGS, sliceMs: IDLE_MS + 5 * 60_000 };
      const run = runConnectionSync(createIngestor(t.env), { log: pino({ level: 'warn' }), signal: abort.signal, workerId: 'w-idle-10' }, conn.id, settings, (s) => (session = s));
      const listening = async () => (await t.database.db.selectFrom('connections').select('listening').where('id', '=', conn.id).executeTakeFirstOrThrow()).listening;
      for (let i = 0; i < 150 && (await listening()) !== 'live'; i++) await sleep(100);
      expect(await listening()).toBe('live');

      await sleep(IDLE_MS);
      expect(session!.connects).toBe(1);
      const id = `after-idle-${Date.now()}`;
      await dovecot.deliver(user, `From: s@example.org\r\nTo: ${user}\r\nSubject: late\r\nMessage-ID: <${id}@example.org>\r\nDate: ${new Date().toUTCString()}\r\n\r\nhello\r\n`);
      const deliveredAt = Date.now();
      let storedAfterMs = -1;
      while (Date.now() - deliveredAt < 15_000) {
        const row = await t.database.db.selectFrom('messages').select('id').where('connection_id', '=', conn.id).where('message_id', '=', `${id}@example.org`).executeTakeFirst();
        if (row) {
          storedAfterMs = Date.now() - deliveredAt;
          break;
        }
        await sleep(100);
      }
      expect(storedAfterMs).toBeGreaterThanOrEqual(0);
      expect(session!.connects).toBe(1);
      const logins = (await dovecot.readLog()).split('\n').filter((l) => l.includes(`Login: user=<${user}>`)).length;
      expect(logins).toBe(1);
      expect(await listening()).toBe('live');
      abort.abort();
      expect(await run).toBe('again');
    },
    IDLE_MS + 3 * 60_000,
  );
});
