/**
 * Connections end to end over the API, against a real Dovecot (IMAP) and a real SMTP submission server,
 * on SQLite or PostgreSQL. The pure rule matrix lives in src/features/connections/domain/connection-rules.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { allowLocalMailServers, setPrivateHostsForTest } from '../support/local-hosts.js';
import { startDovecot, type TestDovecot } from '../harness/dovecot.js';
import { startSubmissionServer, type TestSubmissionServer } from '../harness/submission.js';

let t: TestApp;
let dovecot: TestDovecot;
let smtp: TestSubmissionServer;
allowLocalMailServers();

beforeAll(async () => {
  dovecot = await startDovecot();
  smtp = await startSubmissionServer({ dovecot });
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
  await smtp?.stop();
  await dovecot?.stop();
});

let seq = 0;
/** A mailbox on the test Dovecot; the address is the login. */
async function mailbox(password = 'mailbox-password') {
  seq += 1;
  const user = `box${seq}-${Math.random().toString(36).slice(2, 7)}@example.test`;
  await dovecot.addUser(user, password);
  return { address: user, password };
}

function imapBody(box: { address: string; password: string }, over: Record<string, unknown> = {}) {
  return {
    type: 'personal',
    address: box.address,
    transport: 'imap',
    imap: { host: '127.0.0.1', port: dovecot.imapPort, tls: 'none', password: box.password },
    smtp: { host: '127.0.0.1', port: smtp.port, tls: 'none', password: box.password },
    ...over,
  };
}

async function member(a: { token: string }, over: Record<string, unknown> = {}) {
  seq += 1;
  const r = await t.api(a.token, 'POST', '/api/v1/users', { email: `u${seq}-${Date.now()}@example.com`, name: `User ${seq}`, password: 'member-password', ...over });
  expect(r.statusCode).toBe(201);
  const user = r.json().user;
  const token = (await t.api(a.token, 'POST', '/api/v1/tokens', { name: 'test', userId: user.id })).json().token as string;
  return { user, token };
}

describe('connecting personal email', () => {
  it('verifies IMAP and SMTP, finds the Sent folder, stores credentials encrypted and never returns them', async () => {
    const a = await t.account();
    const box = await mailbox('s3cret-Imap-Pass');
    const res = await t.api(a.token, 'POST', '/api/v1/connections', imapBody(box));
    expect(res.statusCode, res.body).toBe(201);
    const c = res.json();
    expect(c).toMatchObject({ type: 'personal', address: box.address, userId: a.adminUserId, transport: 'imap', state: 'syncing', isDefaultFrom: true, useForMeetings: true });
    expect(c.sentFolder).toBe('Sent');
    expect(res.body).not.toContain('s3cret-Imap-Pass');
    const row = await t.database.db.selectFrom('connections').selectAll().where('id', '=', c.id).executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain('s3cret-Imap-Pass');
    expect(JSON.parse(t.env.secrets.open(row.credentials!)).imapPassword).toBe('s3cret-Imap-Pass');
    const job = await t.database.db.selectFrom('jobs').selectAll().where('dedupe_key', '=', `sync:${c.id}`).executeTakeFirst();
    expect(job?.kind).toBe('connection.sync');
  });

  it('gives each failure its own code: wrong IMAP password, closed port, wrong SMTP password, closed SMTP port, private host', async () => {
    const a = await t.account();
    const box = await mailbox();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ imap: { host: '127.0.0.1', port: dovecot.imapPort, tls: 'none', password: 'wrong' } }, 'imap_authentication_failed'],
      [{ imap: { host: '127.0.0.1', port: 1, tls: 'none', password: box.password } }, 'imap_settings_incorrect'],
      [{ imap: { host: '127.0.0.1', port: dovecot.imapPort, tls: 'tls', password: box.password } }, 'imap_settings_incorrect'],
      [{ smtp: { host: '127.0.0.1', port: smtp.port, tls: 'none', password: 'wrong' } }, 'smtp_authentication_failed'],
      [{ smtp: { host: '127.0.0.1', port: 1, tls: 'none', password: box.password } }, 'smtp_settings_incorrect'],
    ];
    for (const [over, code] of cases) {
      const r = await t.api(a.token, 'POST', '/api/v1/connections', imapBody(box, over));
      expect([r.statusCode, r.json().error.code], JSON.stringify(over)).toEqual([422, code]);
      expect(r.json().error.message.length).toBeGreaterThan(20);
    }
    const restoreAllow = setPrivateHostsForTest([]);
    try {
      const r = await t.api(a.token, 'POST', '/api/v1/connections', imapBody(box));
      expect(r.json().error).toMatchObject({ code: 'host_not_allowed', details: { field: 'imap.host', host: '127.0.0.1' } });
      expect(r.json().error.message).toMatch(/MAILROOM_ALLOW_PRIVATE_HOSTS/);
    } finally {
      restoreAllow();
    }
    const none = await t.database.db.selectFrom('connections').select('id').where('account_id', '=', a.accountId).execute();
    expect(none).toEqual([]);
  });

  it('an address belongs to one user: another user is refused with the holder named', async () => {
    const a = await t.account();
    const bob = await member(a);
    const box = await mailbox();
    expect((await t.api(bob.token, 'POST', '/api/v1/connections', imapBody(box))).statusCode).toBe(201);
    const r = await t.api(a.token, 'POST', '/api/v1/connections', imapBody({ ...box, address: `  ${box.address.toUpperCase()} ` }));
    expect(r.statusCode).toBe(409);
    const e = r.json().error;
    expect(e.code).toBe('address_in_use');
    expect(e.holder).toMatchObject({ kind: 'personal', userId: bob.user.id, userName: bob.user.name, userState: 'active', inboxId: null });
    expect(e.message).toContain(bob.user.name);
    expect(e.resolution).toBeTruthy();
  });

  it('respects seats, permissions and the plan quota', async () => {
    const a = await t.account('free');
    const viewer = await member(a, { seat: 'view_only' });
    const noPerm = await member(a, { seat: 'free', permissions: { personalEmail: false } });
    expect((await t.api(viewer.token, 'POST', '/api/v1/connections', imapBody(await mailbox()))).json().error.code).toBe('permission_denied');
    expect((await t.api(noPerm.token, 'POST', '/api/v1/connections', imapBody(await mailbox()))).json().error.code).toBe('permission_denied');
    expect((await t.api(a.token, 'POST', '/api/v1/connections', imapBody(await mailbox()))).statusCode).toBe(201);
    const over = await t.api(a.token, 'POST', '/api/v1/connections', imapBody(await mailbox()));
    expect(over.statusCode).toBe(409);
    expect(over.json().error.code).toBe('plan_limit_reached');
  });

  it('after a password change, updating the password (checked live) resumes sync; "sync now" queues a pass', async () => {
    const a = await t.account();
    const box = await mailbox('old-password');
    const c = (await t.api(a.token, 'POST', '/api/v1/connections', imapBody(box))).json();
    await dovecot.setPassword(box.address, 'new-password');
    await t.database.db.updateTable('connections').set({ state: 'auth_failed', last_error_code: 'imap_authentication_failed' }).where('id', '=', c.id).execute();
    await t.database.db.deleteFrom('jobs').where('dedupe_key', '=', `sync:${c.id}`).execute();
    expect((await t.api(a.token, 'POST', `/api/v1/connections/${c.id}/sync`)).json().error.code).toBe('imap_authentication_failed');
    const wrong = await t.api(a.token, 'POST', `/api/v1/connections/${c.id}/credentials`, { imap: { password: 'still-wrong' }, smtp: { password: 'new-password' } });
    expect(wrong.json().error.code).toBe('imap_authentication_failed');
    const fixed = await t.api(a.token, 'POST', `/api/v1/connections/${c.id}/credentials`, { imap: { password: 'new-password' }, smtp: { password: 'new-password' } });
    expect(fixed.statusCode, fixed.body).toBe(200);
    expect(fixed.json()).toMatchObject({ id: c.id, state: 'syncing', lastError: null });
    expect(fixed.body).not.toContain('new-password');
    expect(await t.database.db.selectFrom('jobs').select('id').where('dedupe_key', '=', `sync:${c.id}`).executeTakeFirst()).toBeTruthy();
    expect((await t.api(a.token, 'POST', `/api/v1/connections/${c.id}/sync`)).statusCode).toBe(200);
  });

  it('20 parallel connects of one address by different users: exactly one wins', async () => {
    const a = await t.account('enterprise');
    const users = [];
    for (let i = 0; i < 20; i++) users.push(await member(a));
    const box = await mailbox();
    const results = await Promise.all(users.map((u) => t.api(u.token, 'POST', '/api/v1/connections', imapBody(box))));
    const codes = results.map((r) => (r.statusCode === 201 ? 'ok' : r.json().error.code));
    expect(codes.filter((c) => c === 'ok')).toHaveLength(1);
    expect(codes.filter((c) => c === 'address_in_use')).toHaveLength(19);
    const live = await t.database.db.selectFrom('connections').select('id').where('account_id', '=', a.accountId).where('disconnected_at', 'is', null).execute();
    expect(live).toHaveLength(1);
  });

  it("keeps someone's personal connection private from other members", async () => {
    const a = await t.account();
    const bob = await member(a);
    const eve = await member(a);
    const c = (await t.api(bob.token, 'POST', '/api/v1/connections', imapBody(await mailbox()))).json();
    expect((await t.api(eve.token, 'GET', `/api/v1/connections/${c.id}`)).statusCode).toBe(404);
    expect((await t.api(eve.token, 'DELETE', `/api/v1/connections/${c.id}`)).statusCode).toBe(404);
    expect((await t.api(eve.token, 'PATCH', `/api/v1/connections/${c.id}`, { useForMeetings: false })).statusCode).toBe(404);
    expect((await t.api(eve.token, 'GET', '/api/v1/connections')).json().connections).toEqual([]);
    // Admins see every connection of the account (metadata only).
    expect((await t.api(a.token, 'GET', '/api/v1/connections')).json().connections.map((x: { id: string }) => x.id)).toContain(c.id);
  });
});

describe('team email and the rules between personal and team', () => {
  it('team email by forwarding: generated forwarding address, one inbox only, never meetings', async () => {
    const a = await t.account();
    const support = (await t.api(a.token, 'POST', '/api/v1/inboxes', { name: 'Support' })).json();
    const sales = (await t.api(a.token, 'POST', '/api/v1/inboxes', { name: 'Sales' })).json();
    const box = await mailbox();
    const team = { type: 'team', address: box.address, inboxId: support.id, transport: 'forwarding', smtp: { host: '127.0.0.1', port: smtp.port, tls: 'none', password: box.password } };
    const meetings = await t.api(a.token, 'POST', '/api/v1/connections', { ...team, useForMeetings: true });
    expect([meetings.statusCode, meetings.json().error.code]).toEqual([422, 'team_address_not_allowed_for_meetings']);
    const ok = await t.api(a.token, 'POST', '/api/v1/connections', team);
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json().forwardingAddress).toMatch(/@/);
    expect(ok.json().state).toBe('active');
    const patch = await t.api(a.token, 'PATCH', `/api/v1/connections/${ok.json().id}`, { useForMeetings: true });
    expect(patch.json().error.code).toBe('team_address_not_allowed_for_meetings');
    const second = await t.api(a.token, 'POST', '/api/v1/connections', { ...team, inboxId: sales.id });
    expect(second.statusCode).toBe(409);
    expect(second.json().error.holder).toMatchObject({ kind: 'team', inboxId: support.id, inboxName: 'Support', userId: null });
    // The direct switch to personal is refused and says it is two steps.
    const personal = await t.api(a.token, 'POST', '/api/v1/connections', imapBody(box));
    expect(personal.json().error.code).toBe('address_in_use');
    expect(personal.json().error.resolution).toMatch(/disconnect/i);
    const forwardingPersonal = await t.api(a.token, 'POST', '/api/v1/connections', { ...team, type: 'personal', inboxId: undefined });
    expect(forwardingPersonal.json().error.code).toBe('invalid_request');
  });

  it('members without account access cannot connect team email; inbox count follows the plan', async () => {
    const a = await t.account('free');
    const m = await member(a, { seat: 'free' });
    const inbox = (await t.api(a.token, 'POST', '/api/v1/inboxes', { name: 'Help' })).json();
    const box = await mailbox();
    const r = await t.api(m.token, 'POST', '/api/v1/connections', { type: 'team', address: box.address, inboxId: inbox.id, transport: 'forwarding', smtp: { host: '127.0.0.1', port: smtp.port, tls: 'none', password: box.password } });
    expect(r.json().error.code).toBe('permission_denied');
    const more = await t.api(a.token, 'POST', '/api/v1/inboxes', { name: 'Second' });
    expect([more.statusCode, more.json().error.code]).toEqual([409, 'plan_limit_reached']);
  });

  it('disconnect keeps history, notifies admins for team email, and reconnecting resumes the same connection', async () => {
    const a = await t.account();
    const inbox = (await t.api(a.token, 'POST', '/api/v1/inboxes', { name: 'Billing' })).json();
    const box = await mailbox();
    const body = { type: 'team', address: box.address, inboxId: inbox.id, transport: 'forwarding', smtp: { host: '127.0.0.1', port: smtp.port, tls: 'none', password: box.password } };
    const c = (await t.api(a.token, 'POST', '/api/v1/connections', body)).json();
    const gone = await t.api(a.token, 'DELETE', `/api/v1/connections/${c.id}`);
    expect(gone.json()).toMatchObject({ state: 'disconnected' });
    const notes = (await t.api(a.token, 'GET', '/api/v1/notifications')).json().notifications;
    expect(notes[0]).toMatchObject({ kind: 'team_email_disconnected' });
    expect(notes[0].message).toContain(box.address);
    expect(notes[0].message).toContain('Billing');
    const again = (await t.api(a.token, 'POST', '/api/v1/connections', body)).json();
    expect(again.id).toBe(c.id);
    expect(again.forwardingAddress).toBe(c.forwardingAddress);
  });

  it('the deactivated-holder flow: refusal names the deactivated user; restore-and-disconnect frees the address in one call', async () => {
    const a = await t.account();
    const userA = await member(a);
    const box = await mailbox();
    const personal = (await t.api(userA.token, 'POST', '/api/v1/connections', imapBody(box))).json();
    expect((await t.api(a.token, 'POST', `/api/v1/users/${userA.user.id}/deactivate`)).statusCode).toBe(200);
    const inbox = (await t.api(a.token, 'POST', '/api/v1/inboxes', { name: 'Support' })).json();
    const team = { type: 'team', address: box.address, inboxId: inbox.id, transport: 'imap', imap: { host: '127.0.0.1', port: dovecot.imapPort, tls: 'none', password: box.password }, smtp: { host: '127.0.0.1', port: smtp.port, tls: 'none', password: box.password } };
    const refused = await t.api(a.token, 'POST', '/api/v1/connections', team);
    expect(refused.statusCode).toBe(409);
    const e = refused.json().error;
    expect(e.holder).toMatchObject({ kind: 'personal', userId: userA.user.id, userState: 'deactivated' });
    expect(e.message).toMatch(/deactivated/);
    expect(e.resolution).toMatch(/restore/i);
    const released = await t.api(a.token, 'POST', `/api/v1/connections/${personal.id}/release`, { action: 'restore_and_disconnect' });
    expect(released.statusCode, released.body).toBe(200);
    expect(released.json().state).toBe('disconnected');
    expect((await t.api(a.token, 'GET', `/api/v1/users/${userA.user.id}`)).json().state).toBe('active');
    const connected = await t.api(a.token, 'POST', '/api/v1/connections', team);
    expect(connected.statusCode, connected.body).toBe(201);
    expect(connected.json()).toMatchObject({ type: 'team', inboxId: inbox.id });
    // The old personal connection row (and what it logged) is still there.
    expect((await t.api(a.token, 'GET', `/api/v1/connections/${personal.id}`)).json().state).toBe('disconnected');
  });

  it('a removed holder can be transferred to another user in one call', async () => {
    const a = await t.account();
    const leaver = await member(a);
    const heir = await member(a);
    const c = (await t.api(leaver.token, 'POST', '/api/v1/connections', imapBody(await mailbox()))).json();
    await t.api(a.token, 'POST', `/api/v1/users/${leaver.user.id}/remove`);
    const r = await t.api(a.token, 'POST', `/api/v1/connections/${c.id}/release`, { action: 'transfer', toUserId: heir.user.id });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({ userId: heir.user.id, isDefaultFrom: true, state: 'syncing' });
    expect((await t.api(heir.token, 'GET', `/api/v1/connections/${c.id}`)).statusCode).toBe(200);
  });
});
