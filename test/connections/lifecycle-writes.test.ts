/**
 * The named lifecycle transitions against a real database: what each writes, and that a refused
 * transition writes nothing (the sync loop relies on this when a connection is disconnected or its
 * password is refused while a pass runs).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { insertConnection } from '../support/connections.js';
import {
  ERROR_AFTER_FAILURES,
  LifecycleError,
  markAuthFailed,
  markDisconnected,
  markInitialSyncDone,
  markReleased,
  markSyncFailed,
  markSyncStarted,
  markSyncSucceeded,
} from '../../src/features/connections/lifecycle.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

const uniq = () => Math.random().toString(36).slice(2, 10);

async function imapConnection() {
  const a = await t.account();
  const address = `life-${uniq()}@example.test`;
  const c = await insertConnection(t, {
    accountId: a.accountId,
    userId: a.adminUserId,
    type: 'personal',
    address,
    imap: { host: 'imap.example.test', port: 993, username: address, password: 'pw' },
    smtp: { host: 'smtp.example.test', port: 587, username: address, password: 'pw' },
  });
  return { a, id: c.id };
}

const row = (id: string) =>
  t.database.db
    .selectFrom('connections')
    .select(['state', 'stage', 'stage_started_at', 'progress_total', 'progress_done', 'failure_count', 'last_error_code', 'last_error_message', 'disconnected_at', 'disconnected_by', 'user_id', 'is_default_from', 'use_for_meetings'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();

describe('named lifecycle transitions', () => {
  it('initial sync, failures up to error, and success back to active', async () => {
    const { id } = await imapConnection();
    expect(await markSyncStarted(t.database.db, id, 1000, { total: 40 })).toMatchObject({ ok: true, to: { state: 'syncing', stage: 'initial_sync' } });
    expect(await row(id)).toMatchObject({ state: 'syncing', stage: 'initial_sync', stage_started_at: 1000, progress_total: 40, progress_done: 0 });

    const counts: Array<[number | undefined, string]> = [];
    for (let i = 0; i < ERROR_AFTER_FAILURES; i++) {
      const r = await markSyncFailed(t.database.db, id, { code: 'imap_unreachable', message: 'unreachable', now: 2000 + i });
      counts.push([r.ok ? r.failureCount : undefined, (await row(id)).state]);
    }
    expect(counts).toEqual([...Array.from({ length: ERROR_AFTER_FAILURES - 1 }, (_, i) => [i + 1, 'syncing']), [ERROR_AFTER_FAILURES, 'error']]);
    expect(await row(id)).toMatchObject({ stage: 'initial_sync', last_error_code: 'imap_unreachable', last_error_message: 'unreachable' });

    await markInitialSyncDone(t.database.db, id);
    expect(await row(id)).toMatchObject({ state: 'error', stage: null });
    await markSyncSucceeded(t.database.db, id, { initialPending: false });
    expect(await row(id)).toMatchObject({ state: 'active', stage: null, failure_count: 0, last_error_code: null, last_error_message: null });
  });

  it('a refused password stops sync: auth_failed once (changed), again unchanged; sync transitions then write nothing', async () => {
    const { id } = await imapConnection();
    const first = await markAuthFailed(t.database.db, id, { message: 'refused', now: 10 });
    expect(first).toMatchObject({ ok: true, changed: true, failureCount: 1, to: { state: 'auth_failed', stage: null } });
    const again = await markAuthFailed(t.database.db, id, { message: 'refused', now: 11 });
    expect(again).toMatchObject({ ok: true, changed: false, failureCount: 2 });
    const before = await row(id);
    expect(await markSyncSucceeded(t.database.db, id, { initialPending: false })).toMatchObject({ ok: false, reason: expect.stringMatching(/new credentials/) });
    expect(await markSyncStarted(t.database.db, id, 99, { total: 1 })).toMatchObject({ ok: false });
    expect(await row(id)).toEqual(before);
  });

  it('disconnected: the row records who and when, drops its flags, and a late sync pass changes nothing', async () => {
    const { a, id } = await imapConnection();
    await t.database.db.updateTable('connections').set({ is_default_from: 1, use_for_meetings: 1 }).where('id', '=', id).execute();
    await t.database.db.transaction().execute((trx) => markDisconnected(trx, id, { by: a.adminUserId, now: 500 }));
    const gone = await row(id);
    expect(gone).toMatchObject({ state: 'disconnected', stage: null, disconnected_at: 500, disconnected_by: a.adminUserId, is_default_from: 0, use_for_meetings: 0 });
    expect(await markSyncSucceeded(t.database.db, id, { initialPending: false })).toMatchObject({ ok: false });
    expect(await markSyncFailed(t.database.db, id, { code: 'imap_unreachable', message: 'x', now: 1 })).toMatchObject({ ok: false });
    expect(await row(id)).toEqual(gone);
    // Commands rely on their own checks: a refused transition there is a bug and aborts.
    await expect(markDisconnected(t.database.db, id, { by: a.adminUserId, now: 600 })).rejects.toBeInstanceOf(LifecycleError);
    await expect(markReleased(t.database.db, id, { toUserId: a.adminUserId, makeDefaultFrom: true, now: 600 })).rejects.toBeInstanceOf(LifecycleError);
  });

  it('released to another user keeps the state and stage', async () => {
    const { a, id } = await imapConnection();
    await markSyncStarted(t.database.db, id, 5, { total: 3 });
    const other = await t.api(a.token, 'POST', '/api/v1/users', { email: `o-${uniq()}@acme.test`, name: 'Olga Other', password: 'member-password' });
    const to = other.json().user.id as string;
    expect(await markReleased(t.database.db, id, { toUserId: to, makeDefaultFrom: true, now: 7 })).toMatchObject({ ok: true, changed: false });
    expect(await row(id)).toMatchObject({ state: 'syncing', stage: 'initial_sync', user_id: to, is_default_from: 1, use_for_meetings: 0 });
  });
});
