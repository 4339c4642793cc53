/**
 * Two `mailroom serve --role worker` processes share one database. The one syncing a mailbox (it holds
 * the lease) is killed with SIGKILL; the other takes the mailbox over within a minute (lease and job
 * lock expire) and keeps delivering new mail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createTestApp, type TestApp } from '../support/app.js';
import { insertConnection } from '../support/connections.js';
import { startDovecot, type TestDovecot } from '../harness/dovecot.js';
import { enqueue } from '../../src/platform/jobs/queue.js';

let t: TestApp;
let dovecot: TestDovecot;
const procs: ChildProcess[] = [];
beforeAll(async () => {
  dovecot = await startDovecot({ specialFolders: false });
  t = await createTestApp();
});
afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await t?.close();
  await dovecot?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function worker(): ChildProcess {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: t.database.dataDir,
    LOG_LEVEL: 'silent',
    MAILROOM_ALLOW_PRIVATE_HOSTS: '127.0.0.1',
    MAILROOM_SYNC_SLICE_MS: '600000',
    MAILROOM_ADMIN_EMAIL: `boot-${Date.now()}-${procs.length}@example.org`,
  };
  if (t.database.pgSchema) env.DATABASE_SCHEMA = t.database.pgSchema;
  const p = spawn(process.execPath, ['--import', 'tsx', path.resolve('src/app/cli.ts'), 'serve', '--role', 'worker'], { env, stdio: 'ignore' });
  procs.push(p);
  return p;
}

describe('worker takeover', () => {
  it('another worker process takes a mailbox over within a minute when the syncing one dies', async () => {
    const a = await t.account();
    const user = 'takeover@example.test';
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
    await enqueue(t.database.db, Date.now(), { queue: 'sync', kind: 'connection.sync', payload: { connectionId: conn.id }, dedupeKey: `sync:${conn.id}` });
    const w1 = worker();
    await sleep(1500);
    const w2 = worker();
    const raw = (id: string) => `From: c@example.org\r\nTo: ${user}\r\nSubject: ${id}\r\nMessage-ID: <${id}@example.org>\r\nDate: ${new Date().toUTCString()}\r\n\r\nhi\r\n`;
    const has = async (id: string) => Boolean(await t.database.db.selectFrom('messages').select('id').where('connection_id', '=', conn.id).where('message_id', '=', `${id}@example.org`).executeTakeFirst());
    const waitFor = async (id: string, ms: number) => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        if (await has(id)) return true;
        await sleep(250);
      }
      return false;
    };
    await dovecot.deliver(user, raw('before-kill'));
    expect(await waitFor('before-kill', 30_000)).toBe(true);
    const lease = await t.database.db.selectFrom('leases').selectAll().where('name', '=', `sync:${conn.id}`).executeTakeFirstOrThrow();
    const holderPid = Number(lease.holder.split(':')[1]);
    const holder = [w1, w2].find((p) => p.pid === holderPid)!;
    const other = [w1, w2].find((p) => p.pid !== holderPid)!;
    expect(holder).toBeTruthy();
    holder.kill('SIGKILL');
    const killedAt = Date.now();
    await dovecot.deliver(user, raw('after-kill'));
    expect(await waitFor('after-kill', 100_000)).toBe(true);
    const tookMs = Date.now() - killedAt;
    const newLease = await t.database.db.selectFrom('leases').selectAll().where('name', '=', `sync:${conn.id}`).executeTakeFirstOrThrow();
    expect(Number(newLease.holder.split(':')[1])).toBe(other.pid);
    // Lease and job lock are 30 s (renewed every 10 s while alive): the issue asks for a takeover within a minute.
    expect(tookMs).toBeLessThan(60_000);
  }, 180_000);
});
