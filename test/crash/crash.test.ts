/**
 * Crash tests with real processes: a worker is killed with SIGKILL at random moments and restarted.
 * - during an initial IMAP sync of 10,000 messages (MAILROOM_CRASH_SYNC_MESSAGES to change it): in the end every message is stored exactly once;
 * - during inbound SMTP under load: every message that got 250 is stored;
 * - during outbox sending: no message reaches the SMTP server twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { createTestApp, type TestApp } from '../support/app.js';
import { allowLocalMailServers } from '../support/local-hosts.js';
import { insertConnection } from '../support/connections.js';
import { fillMailbox } from '../support/fill-mailbox.js';
import { startDovecot, type TestDovecot } from '../harness/dovecot.js';
import { startSubmissionServer, type TestSubmissionServer } from '../harness/submission.js';
import { createIngestor } from '../../src/app/engine.js';
import { sha256Hex } from '../../src/mail/blob-store.js';
import { queueEmail } from '../../src/features/outbox/commands/queueEmail.js';

let t: TestApp;
let dovecot: TestDovecot;
let smtp: TestSubmissionServer;
let account: { accountId: string; adminUserId: string; token: string };
allowLocalMailServers();
const children = new Set<ChildProcess>();

beforeAll(async () => {
  dovecot = await startDovecot({ specialFolders: false });
  smtp = await startSubmissionServer({ dovecot });
  t = await createTestApp();
  account = await t.account('enterprise');
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await t?.close();
  await smtp?.stop();
  await dovecot?.stop();
});

function startChild(args: string[]): { proc: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: t.database.dataDir, LOG_LEVEL: 'silent', MAILROOM_ALLOW_PRIVATE_HOSTS: '127.0.0.1' };
  if (t.database.pgSchema) env.DATABASE_SCHEMA = t.database.pgSchema;
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'child.ts'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  let out = '';
  proc.stdout!.on('data', (d) => (out += d.toString()));
  proc.stderr!.on('data', (d) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => (children.delete(proc), resolve(code))));
  return { proc, output: () => out, exited };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('crash safety (kill -9)', () => {
  it('an initial sync killed at random points loses and duplicates nothing', async () => {
    const user = 'crash-sync@example.test';
    await dovecot.addUser(user, 'pw');
    // The size on both databases (about 1 min on SQLite, 1.5 min on PostgreSQL on a loaded 2-core machine).
    const count = Number(process.env.MAILROOM_CRASH_SYNC_MESSAGES ?? 10_000);
    await fillMailbox(dovecot, user, count, 'crash');
    const conn = await insertConnection(t, {
      accountId: account.accountId,
      userId: account.adminUserId,
      type: 'team',
      address: user,
      transport: 'imap',
      imap: { host: '127.0.0.1', port: dovecot.imapPort, username: user, password: 'pw' },
      smtp: { host: '127.0.0.1', port: 1, username: user, password: 'pw' },
      syncWindowDays: null,
    });
    const storedCount = async () => Number((await t.database.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).where('connection_id', '=', conn.id).executeTakeFirstOrThrow()).n);
    let kills = 0;
    for (let round = 0; round < 4; round++) {
      const child = startChild(['sync', conn.id]);
      const before = await storedCount();
      // Wait until this run has made progress, then kill it at a random moment.
      for (let i = 0; i < 300 && (await storedCount()) <= before; i++) await sleep(50);
      await sleep(Math.floor(Math.random() * 400));
      if (child.proc.exitCode === null) {
        child.proc.kill('SIGKILL');
        kills += 1;
      }
      await child.exited;
      // The dead worker's lease must expire before another can take over (leaseMs 3 s in the child).
      await sleep(3200);
    }
    const final = startChild(['sync', conn.id]);
    expect(await final.exited, final.output()).toBe(0);
    expect(kills).toBeGreaterThan(0);
    expect(await storedCount()).toBe(count);
    const distinct = await t.database.db.selectFrom('messages').select('message_id').distinct().where('connection_id', '=', conn.id).execute();
    expect(distinct).toHaveLength(count);
    const locations = await t.database.db.selectFrom('message_locations').select((eb) => eb.fn.countAll<number>().as('n')).where('connection_id', '=', conn.id).executeTakeFirstOrThrow();
    expect(Number(locations.n)).toBe(count);
    // Every stored message's raw bytes are on disk (in a batch's pack, or loose) and hash to its id.
    const blobs = createIngestor(t.env).blobs;
    const raws = await t.database.db
      .selectFrom('messages')
      .leftJoin('packed_blobs', 'packed_blobs.sha256', 'messages.raw_sha256')
      .select(['messages.raw_sha256', 'packed_blobs.pack'])
      .where('messages.connection_id', '=', conn.id)
      .execute();
    expect(raws.filter((r) => !r.pack && !blobs.hasLoose(r.raw_sha256))).toEqual([]);
    for (let i = 0; i < raws.length; i += Math.ceil(raws.length / 200)) expect(sha256Hex(await blobs.get(raws[i]!.raw_sha256))).toBe(raws[i]!.raw_sha256);
  }, 600_000);

  it('every message acknowledged with 250 by inbound SMTP survives a kill -9', async () => {
    const inbox = (await t.api(account.token, 'POST', '/api/v1/inboxes', { name: `Crash ${Date.now()}` })).json();
    const team = await insertConnection(t, { accountId: account.accountId, userId: account.adminUserId, type: 'team', address: `crash-in-${Date.now()}@acme.test`, inboxId: inbox.id });
    const port = 30_000 + Math.floor(Math.random() * 20_000);
    const acked = new Set<string>();
    let attempts = 0;
    for (let round = 0; round < 3; round++) {
      const child = startChild(['smtp', String(port)]);
      for (let i = 0; i < 100 && !child.output().includes('listening'); i++) await sleep(50);
      const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, pool: true, maxConnections: 5 });
      const sends: Promise<void>[] = [];
      const ackedBefore = acked.size;
      for (let i = 0; i < 80; i++) {
        const id = `crash-in-${round}-${i}@example.org`;
        attempts += 1;
        sends.push(
          transport
            .sendMail({ envelope: { from: 'c@example.org', to: [team.forwarding_address!] }, raw: `From: c@example.org\r\nTo: support@acme.test\r\nSubject: load ${i}\r\nMessage-ID: <${id}>\r\nDate: ${new Date().toUTCString()}\r\n\r\n${'x'.repeat(2000)}\r\n` })
            .then(
              (info) => {
                if (/^250/.test(info.response)) acked.add(id);
              },
              () => {},
            ),
        );
      }
      // Kill it mid-load: after some messages were acknowledged, at a random moment.
      for (let i = 0; i < 200 && acked.size < ackedBefore + 5; i++) await sleep(25);
      await sleep(Math.floor(Math.random() * 150));
      child.proc.kill('SIGKILL');
      await Promise.all(sends);
      transport.close();
      child.proc.kill('SIGKILL');
      await child.exited;
    }
    expect(acked.size).toBeGreaterThan(0);
    expect(acked.size).toBeLessThan(attempts);
    const stored = await t.database.db.selectFrom('messages').select('message_id').where('connection_id', '=', team.id).execute();
    const storedIds = new Set(stored.map((m) => m.message_id));
    const lost = [...acked].filter((id) => !storedIds.has(id));
    expect(lost).toEqual([]);
  }, 120_000);

  it('an outbox killed mid-send never sends a message twice', async () => {
    const me = 'crash-out@example.test';
    await dovecot.addUser(me, 'pw-out');
    await dovecot.addUser('crash-rcpt@example.test', 'pw-r');
    const conn = await insertConnection(t, {
      accountId: account.accountId,
      userId: account.adminUserId,
      type: 'personal',
      address: me,
      transport: 'imap',
      imap: { host: '127.0.0.1', port: dovecot.imapPort, username: me, password: 'pw-out' },
      smtp: { host: '127.0.0.1', port: smtp.port, username: me, password: 'pw-out' },
    });
    await t.database.db.updateTable('connections').set({ is_default_from: 0 }).where('id', '=', conn.id).execute();
    const ingestor = createIngestor(t.env);
    const ids: string[] = [];
    const messageIds: string[] = [];
    for (let i = 0; i < 15; i++) {
      const q = await t.database.db.transaction().execute((trx) =>
        queueEmail(trx, { now: Date.now(), putBlob: (b) => ingestor.blobs.put(b), replyTokenSecret: ingestor.replyTokenSecret, messageIdDomain: 'mailroom.test' }, {
          connection: conn,
          userId: account.adminUserId,
          email: { from: { address: me }, to: [{ address: 'crash-rcpt@example.test' }], subject: `crash send ${i}`, text: 'x'.repeat(20_000) },
        }),
      );
      ids.push(q.outboxId);
      messageIds.push(q.messageId);
    }
    for (let round = 0; round < 3; round++) {
      const child = startChild(['outbox', ids.join(',')]);
      await sleep(300 + Math.floor(Math.random() * 700));
      child.proc.kill('SIGKILL');
      await child.exited;
    }
    const last = startChild(['outbox', ids.join(',')]);
    expect(await last.exited, last.output()).toBe(0);
    const rows = await t.database.db.selectFrom('outbox').select(['id', 'state']).where('id', 'in', ids).execute();
    expect(rows.every((r) => ['sent', 'uncertain'].includes(r.state)), JSON.stringify(rows)).toBe(true);
    for (const mid of messageIds) {
      const copies = smtp.messages.filter((m) => m.raw.toString('latin1').includes(mid)).length;
      expect(copies, mid).toBeLessThanOrEqual(1);
    }
    const sent = rows.filter((r) => r.state === 'sent').map((r) => messageIds[ids.indexOf(r.id)]!);
    for (const mid of sent) expect(smtp.messages.some((m) => m.raw.toString('latin1').includes(mid))).toBe(true);
  }, 120_000);
});
