/**
 * The mailbox supervisor against a real Dovecot (issue 20): a worker holds every mailbox assigned to it
 * open and listening; leases are renewed by one statement per worker (every lease of a worker carries the
 * same expiry); a second worker joining gets its fair share (rebalancing) with every mailbox synced by
 * exactly one worker; a worker leaving hands its mailboxes over; a disconnected mailbox is dropped and its
 * lease released. The API says which mailboxes are live and which are waiting (`listening`).
 * (A worker process killed with SIGKILL is test/crash/worker-takeover.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createTestApp, type TestApp } from '../support/app.js';
import { allowLocalMailServers } from '../support/local-hosts.js';
import { insertConnection } from '../support/connections.js';
import { startDovecot, type TestDovecot } from '../harness/dovecot.js';
import { createIngestor } from '../../src/app/engine.js';
import type { Ingestor } from '../../src/features/ingest/ingest.js';
import { MailboxSupervisor } from '../../src/features/connections/mailbox-supervisor.js';

const log = pino({ level: 'silent' });
let t: TestApp;
let dovecot: TestDovecot;
let ingestor: Ingestor;
let account: { accountId: string; adminUserId: string; token: string };
const supervisors: MailboxSupervisor[] = [];
allowLocalMailServers();

beforeAll(async () => {
  dovecot = await startDovecot({ specialFolders: false });
  t = await createTestApp();
  ingestor = createIngestor(t.env);
  account = await t.account('enterprise');
});
afterAll(async () => {
  for (const s of supervisors) await s.stop().catch(() => undefined);
  await t?.close();
  await dovecot?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(what: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await what()) return true;
    await sleep(100);
  }
  return false;
}
const raw = (id: string, to: string) => `From: s@example.org\r\nTo: ${to}\r\nSubject: ${id}\r\nMessage-ID: <${id}@example.org>\r\nDate: ${new Date().toUTCString()}\r\n\r\nhello\r\n`;

function supervisor(name: string, extra: Partial<ConstructorParameters<typeof MailboxSupervisor>[1]['settings']> = {}) {
  const s = new MailboxSupervisor(ingestor, { log, workerId: `${name}:${process.pid}:${Math.random().toString(16).slice(2, 8)}`, settings: { leaseMs: 3000, tickMs: 500, maxMailboxes: 100, ...extra } });
  supervisors.push(s);
  return s;
}

async function view(id: string) {
  const res = await t.api(account.token, 'GET', `/api/v1/connections/${id}`);
  expect(res.statusCode).toBe(200);
  return res.json() as { listening: string | null; listeningSince: string | null; state: string };
}
const holders = async (ids: string[]) => {
  const rows = await t.database.db.selectFrom('leases').select(['name', 'holder', 'expires_at']).where('name', 'in', ids.map((id) => `sync:${id}`)).where('expires_at', '>=', Date.now()).execute();
  return rows;
};

describe('mailbox supervisor', () => {
  it('holds every mailbox live, renews in one statement, rebalances when a worker joins, hands over when one leaves', async () => {
    const boxes: Array<{ user: string; id: string }> = [];
    for (let i = 0; i < 4; i++) {
      const user = `sup${i}-${Math.random().toString(36).slice(2, 6)}@example.test`;
      await dovecot.addUser(user, 'pw');
      const c = await insertConnection(t, {
        accountId: account.accountId,
        userId: account.adminUserId,
        type: 'team',
        address: user,
        transport: 'imap',
        imap: { host: '127.0.0.1', port: dovecot.imapPort, username: user, password: 'pw' },
        smtp: { host: '127.0.0.1', port: 1, username: user, password: 'pw' },
      });
      boxes.push({ user, id: c.id });
    }
    const ids = boxes.map((b) => b.id);
    // Not held by anyone yet: waiting.
    expect((await view(ids[0]!)).listening).toBe('waiting');

    const a = supervisor('wA');
    await a.start();
    expect(await waitFor(async () => (await Promise.all(ids.map(view))).every((v) => v.listening === 'live'), 20_000)).toBe(true);
    expect(a.sessions()).toHaveLength(4);
    const since = (await view(ids[0]!)).listeningSince;
    expect(since).toBeTruthy();

    // One statement renews them all: the worker's leases share one expiry, moving forward together.
    const ticks = a.counters.ticks;
    expect(await waitFor(() => a.counters.ticks >= ticks + 2, 10_000)).toBe(true);
    const mine = await t.database.db.selectFrom('leases').select(['expires_at']).where('holder', '=', a.workerId).execute();
    expect(mine).toHaveLength(5); // 4 mailboxes + the worker's heartbeat
    expect(new Set(mine.map((r) => Number(r.expires_at))).size).toBe(1);
    expect(a.counters.ticks - a.counters.renewStatements).toBeLessThanOrEqual(1); // one renewal per round (one may be under way)
    // Renewal writes no connection row: listeningSince is unchanged.
    expect((await view(ids[0]!)).listeningSince).toBe(since);

    // A second worker joins: fair share is 2 each; every mailbox held by exactly one worker.
    const b = supervisor('wB');
    await b.start();
    expect(await waitFor(() => a.sessions().length === 2 && b.sessions().length === 2, 20_000)).toBe(true);
    expect(await waitFor(async () => (await holders(ids)).length === 4 && (await Promise.all(ids.map(view))).every((v) => v.listening === 'live'), 20_000)).toBe(true);
    const byHolder = new Map<string, number>();
    for (const r of await holders(ids)) byHolder.set(r.holder, (byHolder.get(r.holder) ?? 0) + 1);
    expect([...byHolder.entries()].sort()).toEqual([[a.workerId, 2], [b.workerId, 2]].sort());

    for (const box of boxes) await dovecot.deliver(box.user, raw(`sup-${box.id.toLowerCase()}`, box.user));
    const stored = async () => (await t.database.db.selectFrom('messages').select('id').where('message_id', 'in', boxes.map((x) => `sup-${x.id.toLowerCase()}@example.org`)).execute()).length === 4;
    expect(await waitFor(stored, 20_000)).toBe(true);

    // B leaves: A takes its mailboxes back and they are live again.
    await b.stop();
    expect(await waitFor(async () => a.sessions().length === 4 && (await Promise.all(ids.map(view))).every((v) => v.listening === 'live'), 20_000)).toBe(true);
    expect((await holders(ids)).every((r) => r.holder === a.workerId)).toBe(true);

    // A disconnected mailbox is dropped and its lease released; its listening is null.
    await t.database.db.updateTable('connections').set({ disconnected_at: Date.now(), state: 'disconnected' }).where('id', '=', ids[3]!).execute();
    expect(await waitFor(async () => a.sessions().length === 3 && (await holders([ids[3]!])).length === 0, 10_000)).toBe(true);
    expect((await view(ids[3]!)).listening).toBeNull();

    // Once no worker holds them, the API says waiting even though the column still says live.
    await a.stop();
    const after = await view(ids[0]!);
    expect(after.listening).toBe('waiting');
    const col = await t.database.db.selectFrom('connections').select('listening').where('id', '=', ids[0]!).executeTakeFirstOrThrow();
    expect(col.listening).toBe('live');
    const list = await t.api(account.token, 'GET', '/api/v1/connections');
    expect(list.json().connections.filter((c: { id: string }) => ids.includes(c.id)).map((c: { listening: string | null }) => c.listening).sort()).toEqual(['waiting', 'waiting', 'waiting']);
  }, 120_000);

  it('after a mail server outage every mailbox reconnects, at most connectConcurrency logins at a time', async () => {
    const boxes: Array<{ user: string; id: string }> = [];
    for (let i = 0; i < 6; i++) {
      const user = `out${i}-${Math.random().toString(36).slice(2, 6)}@example.test`;
      await dovecot.addUser(user, 'pw');
      const c = await insertConnection(t, {
        accountId: account.accountId,
        userId: account.adminUserId,
        type: 'team',
        address: user,
        transport: 'imap',
        imap: { host: '127.0.0.1', port: dovecot.imapPort, username: user, password: 'pw' },
        smtp: { host: '127.0.0.1', port: 1, username: user, password: 'pw' },
      });
      boxes.push({ user, id: c.id });
    }
    // Disconnect what the first test left, so that this worker holds exactly these six.
    await t.database.db.updateTable('connections').set({ disconnected_at: Date.now(), state: 'disconnected' }).where('id', 'not in', boxes.map((b) => b.id)).execute();
    const s = supervisor('wOut', { connectConcurrency: 2 });
    await s.start();
    const allLive = async () => (await Promise.all(boxes.map((b) => view(b.id)))).every((v) => v.listening === 'live');
    expect(await waitFor(allLive, 30_000)).toBe(true);
    await dovecot.restart(); // every session dies at once; the server is back a moment later
    expect(await waitFor(() => s.sessions().every((x) => x.connects >= 2), 60_000)).toBe(true);
    expect(await waitFor(allLive, 30_000)).toBe(true);
    expect(s.limits.connect.peak).toBeLessThanOrEqual(2);
    for (const b of boxes) await dovecot.deliver(b.user, raw(`out-${b.id.toLowerCase()}`, b.user));
    const stored = async () => (await t.database.db.selectFrom('messages').select('id').where('message_id', 'in', boxes.map((x) => `out-${x.id.toLowerCase()}@example.org`)).execute()).length === 6;
    expect(await waitFor(stored, 20_000)).toBe(true);
    await s.stop();
  }, 150_000);
});
