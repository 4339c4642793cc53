/**
 * Idle stays live (issue 20), against a real Dovecot with the timings shrunk: a socket timeout of 3 s
 * and IDLE re-issued every second. Before the fix a session stopped listening at the first socket timeout
 * and died at the second. Here the session listens through many re-issue periods (several socket
 * timeouts) with ONE login, and mail delivered then is stored promptly. A socket that dies silently (a
 * proxy that stops forwarding, no FIN) is noticed at the next re-issue and the mailbox reconnects.
 * (The 10-minute version with default timings is test/live/idle-10-minutes.test.ts, `npm run test:idle`.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createTestApp, type TestApp } from '../support/app.js';
import { allowLocalMailServers } from '../support/local-hosts.js';
import { insertConnection } from '../support/connections.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { startDovecot, type TestDovecot } from '../harness/dovecot.js';
import { createIngestor } from '../../src/app/engine.js';
import type { Ingestor } from '../../src/features/ingest/ingest.js';
import { runConnectionSync } from '../../src/features/connections/sync-job.js';
import type { MailboxSession } from '../../src/features/connections/mailbox-session.js';

const log = pino({ level: 'silent' });
let t: TestApp;
let dovecot: TestDovecot;
let ingestor: Ingestor;
let proxy: TcpProxy | null = null;
let account: { accountId: string; adminUserId: string };
allowLocalMailServers();

beforeAll(async () => {
  dovecot = await startDovecot({ specialFolders: false });
  t = await createTestApp();
  ingestor = createIngestor(t.env);
  account = await t.account('enterprise');
});
afterAll(async () => {
  await proxy?.close();
  await t?.close();
  await dovecot?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const raw = (id: string, to: string) => `From: s@example.org\r\nTo: ${to}\r\nSubject: ${id}\r\nMessage-ID: <${id}@example.org>\r\nDate: ${new Date().toUTCString()}\r\n\r\nhello\r\n`;

async function mailbox(name: string, port = dovecot.imapPort) {
  const user = `${name}-${Math.random().toString(36).slice(2, 6)}@example.test`;
  await dovecot.addUser(user, 'pw');
  const conn = await insertConnection(t, {
    accountId: account.accountId,
    userId: account.adminUserId,
    type: 'team',
    address: user,
    transport: 'imap',
    imap: { host: '127.0.0.1', port, username: user, password: 'pw' },
    smtp: { host: '127.0.0.1', port: 1, username: user, password: 'pw' },
  });
  return { user, conn };
}

async function waitFor(what: () => Promise<boolean>, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await what()) return true;
    await sleep(100);
  }
  return false;
}

const isStored = (connectionId: string, id: string) => async () =>
  Boolean(await t.database.db.selectFrom('messages').select('id').where('connection_id', '=', connectionId).where('message_id', '=', `${id}@example.org`).executeTakeFirst());
const listening = async (connectionId: string) => (await t.database.db.selectFrom('connections').select(['listening']).where('id', '=', connectionId).executeTakeFirstOrThrow()).listening;
const logins = async (user: string) => (await dovecot.readLog()).split('\n').filter((l) => l.includes('Login: user=<') && l.includes(`user=<${user}>`)).length;

// Shrunk timings: the socket would time out after 3 s of silence; IDLE is re-issued every second.
const SHORT = { sliceMs: 120_000, idleReissueMs: 1000, socketMs: 3000, probeMs: 2000, pollMs: 120_000, leaseMs: 10_000 };

describe('IDLE stays live', () => {
  it('re-issues IDLE before the socket timeout: one login, and mail after many periods arrives promptly', async () => {
    const { user, conn } = await mailbox('reissue');
    const abort = new AbortController();
    let session: MailboxSession | undefined;
    const run = runConnectionSync(ingestor, { log, signal: abort.signal, workerId: 'w-reissue' }, conn.id, SHORT, (s) => (session = s));
    expect(await waitFor(async () => (await listening(conn.id)) === 'live', 15_000)).toBe(true);
    // Eight re-issue periods, more than two socket timeouts.
    await sleep(8_000);
    expect(session!.reissues).toBeGreaterThanOrEqual(4);
    expect(session!.connects).toBe(1);
    await dovecot.deliver(user, raw('after-periods', user));
    expect(await waitFor(isStored(conn.id, 'after-periods'), 15_000)).toBe(true);
    expect(session!.connects).toBe(1);
    expect(await logins(user)).toBe(1);
    expect(await listening(conn.id)).toBe('live');
    abort.abort();
    expect(await run).toBe('again');
  }, 60_000);

  it('notices a socket that died silently at the next re-issue, logs it, reconnects and receives mail', async () => {
    proxy = await startTcpProxy(dovecot.imapPort);
    const { user, conn } = await mailbox('frozen', proxy.port);
    const lines: string[] = [];
    const warnLog = pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) });
    const { MailboxSession: Session } = await import('../../src/features/connections/mailbox-session.js');
    const { Limiter } = await import('../../src/platform/jobs/limiter.js');
    const session = new Session(ingestor, conn.id, {
      settings: { timings: { socketMs: 3000, idleReissueMs: 1000, probeMs: 1500 }, pollMs: 120_000, pollMinMs: 1000, stableMs: 60_000 },
      limits: { work: new Limiter(2), connect: new Limiter(2) },
      log: warnLog,
    });
    const run = session.run();
    expect(await waitFor(async () => (await listening(conn.id)) === 'live', 15_000)).toBe(true);
    expect(session.connects).toBe(1);
    proxy.freeze(); // no FIN, no RST: the peer just stops answering
    expect(await waitFor(async () => session.connects === 2 && session.listening === 'live', 20_000)).toBe(true);
    expect(lines.some((l) => l.includes('IMAP session lost'))).toBe(true);
    expect(proxy.accepted).toBe(2);
    await dovecot.deliver(user, raw('after-freeze', user));
    expect(await waitFor(isStored(conn.id, 'after-freeze'), 15_000)).toBe(true);
    await session.stop();
    expect(await run).toBe('again');
  }, 60_000);
});
