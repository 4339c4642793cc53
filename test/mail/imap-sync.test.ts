/**
 * IMAP sync against a real Dovecot: initial sync inside the window (newest first), incremental sync,
 * "UID FETCH n:*" with nothing new, expunge, move between synced folders, UIDVALIDITY change (folder
 * deleted and recreated), oversized messages, wrong password after a password change, server restart,
 * IDLE delivery, and one worker per connection (lease).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImapFlow } from 'imapflow';
import pino from 'pino';
import { createTestApp, type TestApp } from '../support/app.js';
import { allowLocalMailServers } from '../support/local-hosts.js';
import { insertConnection } from '../support/connections.js';
import { startDovecot, type TestDovecot } from '../harness/dovecot.js';
import { createIngestor } from '../../src/app/engine.js';
import type { Ingestor } from '../../src/features/ingest/ingest.js';
import { openImap, syncConnectionOnce, DEFAULT_SYNC_OPTIONS } from '../../src/mail/imap-sync.js';
import { runConnectionSync } from '../../src/features/connections/sync-job.js';

const log = pino({ level: 'silent' });
let t: TestApp;
let dovecot: TestDovecot;
let ingestor: Ingestor;
let account: { accountId: string; adminUserId: string; token: string };
allowLocalMailServers();

beforeAll(async () => {
  dovecot = await startDovecot();
  t = await createTestApp();
  ingestor = createIngestor(t.env);
  account = await t.account('enterprise');
});
afterAll(async () => {
  await t?.close();
  await dovecot?.stop();
});

let n = 0;
// The Date header is part of a message's identity (with Message-ID, From, Subject): keep it stable.
const FIXED_DATE = new Date().toUTCString();
function raw(id: string, subject: string, extra = '') {
  return `From: Sender ${id} <sender@example.org>\r\nTo: box@example.test\r\nSubject: ${subject}\r\nMessage-ID: <${id}@example.org>\r\nDate: ${FIXED_DATE}\r\n\r\nbody of ${id}${extra}\r\n`;
}

async function mailbox(folders = ['INBOX']) {
  n += 1;
  const user = `sync${n}-${Math.random().toString(36).slice(2, 6)}@example.test`;
  await dovecot.addUser(user, 'pw-sync');
  const conn = await insertConnection(t, {
    accountId: account.accountId,
    userId: account.adminUserId,
    type: 'personal',
    address: user,
    imap: { host: '127.0.0.1', port: dovecot.imapPort, username: user, password: 'pw-sync' },
    smtp: { host: '127.0.0.1', port: 1, username: user, password: 'pw-sync' },
    folders,
    sentFolder: folders.includes('Sent') ? 'Sent' : null,
  });
  // Personal connections may only be one-per-user as default; keep rows independent.
  await t.database.db.updateTable('connections').set({ is_default_from: 0 }).where('id', '=', conn.id).execute();
  const admin = new ImapFlow(dovecot.imapOptions(user));
  admin.on('error', () => {});
  await admin.connect();
  return { user, conn, admin };
}

async function append(admin: ImapFlow, folder: string, id: string, subject: string, date?: Date, extra = '') {
  await admin.append(folder, raw(id, subject, extra), [], date);
}

async function syncOnce(connectionId: string, opts = DEFAULT_SYNC_OPTIONS) {
  const c = await t.database.db.selectFrom('connections').selectAll().where('id', '=', connectionId).executeTakeFirstOrThrow();
  const client = await openImap(t.env, c);
  try {
    return await syncConnectionOnce(t.env, ingestor, connectionId, client, log, opts);
  } finally {
    await client.logout();
  }
}

const stored = (connectionId: string) => t.database.db.selectFrom('messages').select(['id', 'message_id', 'subject']).where('connection_id', '=', connectionId).execute();
const liveLocations = (connectionId: string, folder: string) =>
  t.database.db.selectFrom('message_locations').selectAll().where('connection_id', '=', connectionId).where('folder', '=', folder).where('expunged_at', 'is', null).execute();

describe('IMAP sync against Dovecot', () => {
  it('initial sync takes the window newest first, then incremental picks up only new mail', async () => {
    const { conn, admin } = await mailbox();
    const old = new Date(Date.now() - 200 * 86_400_000);
    for (let i = 0; i < 5; i++) await append(admin, 'INBOX', `old-${i}`, `old ${i}`, old);
    for (let i = 0; i < 12; i++) await append(admin, 'INBOX', `new-${i}`, `new ${i}`);
    const order: string[] = [];
    const stats = await syncOnce(conn.id, { ...DEFAULT_SYNC_OPTIONS, batchSize: 5, onBatch: (b) => order.push(`${b.stored}`) });
    expect(stats.stored).toBe(12);
    expect((await stored(conn.id)).map((m) => m.message_id).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `new-${i}@example.org`).sort());
    expect(order).toEqual(['5', '5', '2']);
    const c = await t.database.db.selectFrom('connections').selectAll().where('id', '=', conn.id).executeTakeFirstOrThrow();
    expect([c.progress_done, c.progress_total]).toEqual([12, 12]);
    // Newest first: the first batch holds the highest UIDs.
    const firstBatch = await t.database.db.selectFrom('messages').select(['message_id', 'created_at']).where('connection_id', '=', conn.id).orderBy('created_at').orderBy('id').limit(5).execute();
    expect(firstBatch.map((m) => m.message_id).sort()).toEqual(['new-10@example.org', 'new-11@example.org', 'new-7@example.org', 'new-8@example.org', 'new-9@example.org']);

    // Nothing new: UID FETCH n:* returns the last message again, which must not be stored twice.
    const again = await syncOnce(conn.id);
    expect([again.stored, again.duplicates]).toEqual([0, 0]);
    await dovecot.deliver(conn.address, raw('fresh-1', 'fresh'));
    const inc = await syncOnce(conn.id);
    expect(inc.stored).toBe(1);
    expect((await stored(conn.id)).length).toBe(13);
    await admin.logout();
  });

  it('marks expunged messages without deleting what was logged, and follows a move between synced folders', async () => {
    const { conn, admin } = await mailbox(['INBOX', 'Sent']);
    for (let i = 0; i < 4; i++) await append(admin, 'INBOX', `mv-${i}`, `mv ${i}`);
    await syncOnce(conn.id);
    expect(await liveLocations(conn.id, 'INBOX')).toHaveLength(4);
    await admin.mailboxOpen('INBOX');
    await admin.messageDelete({ header: { 'message-id': '<mv-0@example.org>' } });
    await admin.messageMove({ header: { 'message-id': '<mv-1@example.org>' } }, 'Sent');
    await syncOnce(conn.id);
    expect((await liveLocations(conn.id, 'INBOX')).length).toBe(2);
    const sent = await liveLocations(conn.id, 'Sent');
    expect(sent).toHaveLength(1);
    const all = await stored(conn.id);
    expect(all).toHaveLength(4); // nothing deleted, the moved message not duplicated
    const moved = all.find((m) => m.message_id === 'mv-1@example.org')!;
    expect(sent[0]!.message_id).toBe(moved.id);
    await admin.logout();
  });

  it('survives a folder deleted and recreated (UIDVALIDITY change) without duplicates', async () => {
    const { conn, admin } = await mailbox(['INBOX', 'Sent']);
    for (let i = 0; i < 3; i++) await append(admin, 'Sent', `uv-${i}`, `uv ${i}`);
    await syncOnce(conn.id);
    const before = await t.database.db.selectFrom('folder_states').selectAll().where('connection_id', '=', conn.id).where('folder', '=', 'Sent').executeTakeFirstOrThrow();
    await admin.mailboxDelete('Sent');
    await admin.mailboxCreate('Sent');
    for (let i = 0; i < 3; i++) await append(admin, 'Sent', `uv-${i}`, `uv ${i}`);
    await append(admin, 'Sent', 'uv-new', 'uv new');
    const stats = await syncOnce(conn.id);
    const after = await t.database.db.selectFrom('folder_states').selectAll().where('connection_id', '=', conn.id).where('folder', '=', 'Sent').executeTakeFirstOrThrow();
    expect(Number(after.uidvalidity)).not.toBe(Number(before.uidvalidity));
    expect(stats.stored).toBe(1);
    expect(stats.duplicates).toBe(3);
    expect(await stored(conn.id)).toHaveLength(4);
    expect(await liveLocations(conn.id, 'Sent')).toHaveLength(4);
    await admin.logout();
  });

  it('records oversized messages as skipped instead of dropping them silently', async () => {
    const { conn, admin } = await mailbox();
    await append(admin, 'INBOX', 'small', 'small');
    await append(admin, 'INBOX', 'huge', 'huge', undefined, 'x'.repeat(50_000));
    const stats = await syncOnce(conn.id, { ...DEFAULT_SYNC_OPTIONS, maxMessageBytes: 10_000 });
    expect([stats.stored, stats.skipped]).toEqual([1, 1]);
    const skipped = await t.database.db.selectFrom('skipped_messages').selectAll().where('connection_id', '=', conn.id).execute();
    expect(skipped).toHaveLength(1);
    expect(Number(skipped[0]!.size)).toBeGreaterThan(50_000);
    await admin.logout();
  });

  it('moves to auth_failed with a clear message and a notification when the password was changed', async () => {
    const { user, conn, admin } = await mailbox();
    await admin.logout();
    await dovecot.setPassword(user, 'changed-elsewhere');
    const outcome = await runConnectionSync(ingestor, { log, signal: new AbortController().signal, workerId: 'w-auth' }, conn.id, { sliceMs: 0, idleReissueMs: 1000, pollMs: 1000, leaseMs: 5000 });
    expect(outcome).toBe('stopped');
    const c = await t.database.db.selectFrom('connections').selectAll().where('id', '=', conn.id).executeTakeFirstOrThrow();
    expect(c.state).toBe('auth_failed');
    expect(c.last_error_code).toBe('imap_authentication_failed');
    expect(c.last_error_message).toContain(user);
    const note = await t.database.db.selectFrom('notifications').selectAll().where('user_id', '=', account.adminUserId).where('kind', '=', 'connection_auth_failed').execute();
    expect(note.some((x) => x.message.includes(user))).toBe(true);
    await dovecot.setPassword(user, 'pw-sync');
  });

  it('resumes from its checkpoint after the server restarts', async () => {
    const { conn, admin } = await mailbox();
    for (let i = 0; i < 3; i++) await append(admin, 'INBOX', `rs-${i}`, `rs ${i}`);
    await syncOnce(conn.id);
    await admin.logout().catch(() => {});
    await dovecot.restart();
    await dovecot.deliver(conn.address, raw('rs-after', 'after restart'));
    const stats = await syncOnce(conn.id);
    expect([stats.stored, stats.duplicates]).toEqual([1, 0]);
  });

  it('picks up new mail over IDLE while the job holds the connection, and only one worker syncs a connection', async () => {
    const { conn, admin } = await mailbox();
    await admin.logout();
    const abort = new AbortController();
    const settings = { sliceMs: 20_000, idleReissueMs: 20_000, pollMs: 20_000, leaseMs: 5000 };
    const running = runConnectionSync(ingestor, { log, signal: abort.signal, workerId: 'w-idle' }, conn.id, settings);
    // Give it time to finish the first pass and enter IDLE.
    let state = '';
    for (let i = 0; i < 100 && state !== 'active'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      state = (await t.database.db.selectFrom('connections').select('state').where('id', '=', conn.id).executeTakeFirstOrThrow()).state;
    }
    const second = await runConnectionSync(ingestor, { log, signal: abort.signal, workerId: 'w-other' }, conn.id, settings);
    expect(second).toBe('busy');
    await new Promise((r) => setTimeout(r, 300));
    await dovecot.deliver(conn.address, raw('idle-1', 'pushed'));
    let found = false;
    for (let i = 0; i < 100 && !found; i++) {
      await new Promise((r) => setTimeout(r, 100));
      found = (await stored(conn.id)).some((m) => m.message_id === 'idle-1@example.org');
    }
    expect(found).toBe(true);
    abort.abort();
    expect(await running).toBe('again');
  });
});
