/**
 * OAuth mailboxes end to end (issue 14), on SQLite or PostgreSQL, against real peers on loopback: an
 * OpenID provider (oidc-provider: code flow with PKCE, device flow, rotated refresh tokens), a Dovecot
 * whose oauth2 passdb checks the access tokens with that provider (XOAUTH2 / OAUTHBEARER), and an SMTP
 * submission server that accepts XOAUTH2 tokens the provider vouches for. Nothing is mocked.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createTestApp, type TestApp } from '../support/app.js';
import { allowLocalMailServers } from '../support/local-hosts.js';
import { startDovecot, type TestDovecot } from '../harness/dovecot.js';
import { startSubmissionServer, type TestSubmissionServer } from '../harness/submission.js';
import { startOAuthServer, type TestOAuthServer } from '../harness/oauth-server.js';
import { createIngestor, jobHandlersFor } from '../../src/app/engine.js';
import type { Ingestor } from '../../src/features/ingest/index.js';
import { runConnectionSync } from '../../src/features/connections/sync-job.js';
import { needsReauth, refreshConnectionToken } from '../../src/features/connections/oauth/tokens.js';
import { CALLBACK_PATH, OAUTH_DEVICE_POLL_JOB, pollDeviceFlow } from '../../src/features/connections/oauth/flows.js';
import { JobWorker } from '../../src/platform/jobs/worker.js';
import { secretFromCredentials, sendThroughConnection } from '../../src/mail/transport-options.js';
import { MailboxSupervisor } from '../../src/features/connections/mailbox-supervisor.js';
import { queueEmail } from '../../src/features/outbox/commands/queueEmail.js';
import { sendOutboxMessage } from '../../src/features/outbox/sender.js';

const PUBLIC_URL = 'http://mailroom.test';
let t: TestApp;
let idp: TestOAuthServer;
let dovecot: TestDovecot;
let smtp: TestSubmissionServer;
let ingestor: Ingestor;
let account: { accountId: string; adminUserId: string; token: string };
const smtpRefuses = new Set<string>();
const log = pino({ level: 'silent' });
allowLocalMailServers();

beforeAll(async () => {
  idp = await startOAuthServer({ redirectUris: [PUBLIC_URL + CALLBACK_PATH], deviceIntervalS: 1 });
  dovecot = await startDovecot({ oauth2: idp.dovecotOAuth2Config() });
  // The SMTP server asks the provider whether a token is valid and its user's; a mailbox in `smtpRefuses`
  // is refused whatever the token (as Exchange does for a mailbox whose SMTP AUTH is turned off).
  smtp = await startSubmissionServer({ dovecot, verifyAccessToken: async (user, token) => !smtpRefuses.has(user.toLowerCase()) && (await idp.tokenBelongsTo(user, token)) });
  t = await createTestApp({
    configEnv: {
      PUBLIC_URL,
      MAILROOM_OAUTH_OIDC_ISSUER: idp.issuer,
      MAILROOM_OAUTH_OIDC_CLIENT_ID: idp.clientId,
      MAILROOM_OAUTH_OIDC_CLIENT_SECRET: idp.clientSecret,
      MAILROOM_OAUTH_OIDC_NAME: 'Example ID',
      MAILROOM_OAUTH_OIDC_IMAP: `imap://127.0.0.1:${dovecot.imapPort}?tls=none`,
      MAILROOM_OAUTH_OIDC_SMTP: `smtp://127.0.0.1:${smtp.port}?tls=none`,
    },
  });
  ingestor = createIngestor(t.env);
  account = await t.account('enterprise');
}, 60_000);
afterAll(async () => {
  await t?.close();
  await smtp?.stop();
  await dovecot?.stop();
  await idp?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let n = 0;
/** A person with a mailbox on the Dovecot and an account at the provider (login = local part). */
async function person() {
  n += 1;
  const login = `oauth${n}-${Math.random().toString(36).slice(2, 6)}`;
  const address = `${login}@example.test`;
  await dovecot.addUser(address, `unused-password-${n}`);
  idp.addAccount(login, address);
  return { login, address };
}

async function member() {
  n += 1;
  const r = await t.api(account.token, 'POST', '/api/v1/users', { email: `m${n}-${Date.now()}@example.com`, name: `Member ${n}`, password: 'member-password' });
  expect(r.statusCode).toBe(201);
  const user = r.json().user;
  const token = (await t.api(account.token, 'POST', '/api/v1/tokens', { name: 'test', userId: user.id })).json().token as string;
  return { user, token };
}

/** The browser's round trip: start, sign in at the provider, come back to the callback. Returns the callback's redirect. */
async function connectByCode(token: string, login: string, body: Record<string, unknown> = {}) {
  const start = await t.api(token, 'POST', '/api/v1/connections/oauth/start', { provider: 'oidc', ...body });
  expect(start.statusCode, start.body).toBe(201);
  const authUrl = new URL(start.json().authorizationUrl);
  expect(authUrl.searchParams.get('code_challenge_method')).toBe('S256');
  expect(authUrl.searchParams.get('redirect_uri')).toBe(PUBLIC_URL + CALLBACK_PATH);
  const callback = await idp.signInAndConsent(authUrl.toString(), login);
  expect(callback.startsWith(PUBLIC_URL + CALLBACK_PATH)).toBe(true);
  return { callback, result: await callbackAs(token, callback) };
}

async function callbackAs(token: string, callback: string) {
  const res = await t.api(token, 'POST', '/api/v1/connections/oauth/callback', { url: callback });
  if (res.statusCode === 200) return { connectedId: res.json().id as string, errorCode: null, errorMessage: null };
  expect(res.statusCode).toBeGreaterThanOrEqual(400);
  return { connectedId: null, errorCode: res.json().error.code as string, errorMessage: res.json().error.message as string };
}

async function syncOnce(connectionId: string) {
  return runConnectionSync(ingestor, { log, signal: new AbortController().signal, workerId: `w-${connectionId}` }, connectionId, { sliceMs: 0, idleReissueMs: 1000, pollMs: 1000, leaseMs: 5000 });
}

async function grantOf(connectionId: string) {
  return t.database.db.selectFrom('oauth_grants').selectAll().where('connection_id', '=', connectionId).executeTakeFirstOrThrow();
}
async function connectionRow(connectionId: string) {
  return t.database.db.selectFrom('connections').selectAll().where('id', '=', connectionId).executeTakeFirstOrThrow();
}

function raw(id: string, to: string) {
  id = id.toLowerCase();
  return `From: Customer <customer@example.org>\r\nTo: ${to}\r\nSubject: Hello ${id}\r\nMessage-ID: <${id}@example.org>\r\nDate: ${new Date().toUTCString()}\r\n\r\nbody of ${id}\r\n`;
}

describe('connecting with OAuth (authorization code + PKCE)', () => {
  it('lists only the configured provider', async () => {
    const r = await t.api(account.token, 'GET', '/api/v1/connections/oauth/providers');
    expect(r.statusCode).toBe(200);
    expect(r.json().providers).toEqual([{ id: 'oidc', name: 'Example ID', deviceFlow: true }]);
    const g = await t.api(account.token, 'POST', '/api/v1/connections/oauth/start', { provider: 'google' });
    expect(g.statusCode).toBe(404);
    expect(g.json().error.code).toBe('oauth_provider_not_configured');
    expect(g.json().error.message).toContain('MAILROOM_OAUTH_GOOGLE_');
  });

  it('connects the signed-in address, syncs with XOAUTH2/OAUTHBEARER and sends with XOAUTH2; tokens are sealed', async () => {
    const p = await person();
    const { result } = await connectByCode(account.token, p.login);
    expect(result.errorCode, result.errorMessage ?? '').toBeNull();
    const id = result.connectedId!;
    const view = (await t.api(account.token, 'GET', `/api/v1/connections/${id}`)).json();
    expect(view.address).toBe(p.address);
    expect(view.type).toBe('personal');
    expect(view.oauthProvider).toBe('oidc');
    expect(view.imap).toMatchObject({ host: '127.0.0.1', port: dovecot.imapPort, username: p.address });
    expect(JSON.stringify(view)).not.toMatch(/accessToken|refresh/i);

    const c = await connectionRow(id);
    const g = await grantOf(id);
    expect(g.refresh_token).toBeTruthy();
    const opened = t.env.secrets.open(g.refresh_token!);
    expect(c.credentials).not.toContain(opened);
    expect(g.refresh_token).not.toContain(opened);
    const secret = secretFromCredentials(t.env.secrets.open(c.credentials!), 'imap');
    expect(typeof secret).toBe('object');
    expect(c.credentials).not.toContain((secret as { accessToken: string }).accessToken);

    // Sync: a message delivered to the mailbox arrives through an OAuth IMAP login.
    await dovecot.deliver(p.address, raw(`m-${id}`, p.address));
    expect(await syncOnce(id)).not.toBe('stopped');
    const stored = await t.database.db.selectFrom('messages').select('message_id').where('connection_id', '=', id).execute();
    expect(stored.map((m) => m.message_id)).toContain(`m-${id}@example.org`.toLowerCase());
    expect((await connectionRow(id)).state).not.toBe('auth_failed');
    expect(await dovecot.readLog()).toMatch(/method=(XOAUTH2|OAUTHBEARER)/);

    // Send through the mailbox's SMTP with the token (XOAUTH2).
    const before = smtp.messages.length;
    const row = await connectionRow(id);
    await sendThroughConnection(row, secretFromCredentials(t.env.secrets.open(row.credentials!), 'smtp'), {
      envelope: { from: p.address, to: ['someone@example.org'] },
      raw: `From: ${p.address}\r\nTo: someone@example.org\r\nSubject: sent with a token\r\n\r\nhi\r\n`,
    });
    const sent = await smtp.waitForMessages(before + 1);
    expect(sent[before]!.authUser).toBe(p.address);
  });

  it('refuses a replayed state, a state from another user, and an identity that is not the typed address', async () => {
    const p = await person();
    const { callback, result } = await connectByCode(account.token, p.login);
    expect(result.connectedId).toBeTruthy();
    const replay = await callbackAs(account.token, callback);
    expect(replay.errorCode).toBe('oauth_state_invalid');
    expect(replay.errorMessage).toContain('already used');

    // Another user presents someone else's callback.
    const m = await member();
    const q = await person();
    const start = await t.api(account.token, 'POST', '/api/v1/connections/oauth/start', { provider: 'oidc' });
    const cb = await idp.signInAndConsent(start.json().authorizationUrl, q.login);
    const stolen = await callbackAs(m.token, cb);
    expect(stolen.errorCode).toBe('oauth_state_invalid');
    // ... which leaves the owner's flow usable (nothing was consumed by the refused attempt).
    expect((await callbackAs(account.token, cb)).connectedId).toBeTruthy();

    // Typed address A, signed in as B.
    const a = await person();
    const b = await person();
    const mis = await connectByCode(account.token, b.login, { address: a.address });
    expect(mis.result.errorCode).toBe('oauth_address_mismatch');
    expect(mis.result.errorMessage).toContain(a.address);
    expect(mis.result.errorMessage).toContain(b.address);
  });

  it('applies the connection rules: an address already connected is refused with its holder', async () => {
    const p = await person();
    expect((await connectByCode(account.token, p.login)).result.connectedId).toBeTruthy();
    const m = await member();
    const again = await connectByCode(m.token, p.login);
    expect(again.result.errorCode).toBe('address_in_use');
  });
});

describe('token lifecycle', () => {
  it('stores the rotated refresh token, and the next refresh uses it', async () => {
    const p = await person();
    const id = (await connectByCode(account.token, p.login)).result.connectedId!;
    const first = t.env.secrets.open((await grantOf(id)).refresh_token!);
    const calls = idp.tokenCalls.refresh_token;
    expect(await refreshConnectionToken(t.env, id, 'test')).toBe('not_due');
    expect(idp.tokenCalls.refresh_token).toBe(calls);
    expect(await refreshConnectionToken(t.env, id, 'test', { force: true })).toBe('refreshed');
    const second = t.env.secrets.open((await grantOf(id)).refresh_token!);
    expect(second).not.toBe(first);
    // The provider consumed the first one: only the stored (rotated) one can work.
    expect(await refreshConnectionToken(t.env, id, 'test', { force: true })).toBe('refreshed');
    expect(idp.tokenCalls.refresh_token).toBe(calls + 2);
    const g = await grantOf(id);
    expect(Number(g.refresh_due_at)).toBeGreaterThan(Date.now());
    const jobs = await t.database.db.selectFrom('jobs').select(['kind', 'run_at']).where('kind', '=', 'connection.oauth_refresh').where('state', '=', 'queued').execute();
    expect(jobs.some((j) => Number(j.run_at) === Number(g.refresh_due_at))).toBe(true);
    // The new access token works for IMAP.
    await dovecot.deliver(p.address, raw(`r-${id}`, p.address));
    expect(await syncOnce(id)).not.toBe('stopped');
    expect((await connectionRow(id)).state).not.toBe('auth_failed');
  });

  it('one refresh at a time per connection: two at once make one token call', async () => {
    const p = await person();
    const id = (await connectByCode(account.token, p.login)).result.connectedId!;
    const calls = idp.tokenCalls.refresh_token;
    const results = await Promise.all([refreshConnectionToken(t.env, id, 'worker-a', { force: true }), refreshConnectionToken(t.env, id, 'worker-b', { force: true })]);
    expect(results.sort()).toEqual(['busy', 'refreshed']);
    expect(idp.tokenCalls.refresh_token).toBe(calls + 1);
    expect(await refreshConnectionToken(t.env, id, 'worker-b', { force: true })).toBe('refreshed');
  });

  it('invalid_grant: only that mailbox needs reauth (named in its error and the notification), no more token calls; others keep syncing; Reconnect resumes', async () => {
    const broken = await person();
    const healthy = await person();
    const id = (await connectByCode(account.token, broken.login)).result.connectedId!;
    const other = (await connectByCode(account.token, healthy.login)).result.connectedId!;
    await syncOnce(id);
    await idp.revokeAccount(broken.login);

    expect(await refreshConnectionToken(t.env, id, 'test', { force: true })).toBe('needs_reauth');
    const c = await connectionRow(id);
    expect(c.state).toBe('needs_reauth');
    expect(c.last_error_code).toBe('oauth_reauth_required');
    expect(c.last_error_message).toContain(broken.address);
    expect(c.last_error_message).toContain('Reconnect');
    expect((await t.api(account.token, 'GET', `/api/v1/connections/${id}`)).json().state).toBe('needs_reauth');
    const notes = await t.database.db.selectFrom('notifications').selectAll().where('user_id', '=', account.adminUserId).where('kind', '=', 'connection_needs_reauth').execute();
    expect(notes.filter((x) => x.message.includes(broken.address))).toHaveLength(1);
    const reauthEvents = async () => (await t.database.db.selectFrom('events').select(['type', 'data']).where('subject_id', '=', id).execute()).filter((e) => e.type === 'connection.needs_reauth');
    expect(await reauthEvents()).toHaveLength(1);
    const d = (await reauthEvents())[0]!.data as unknown;
    expect(typeof d === 'string' ? JSON.parse(d) : d).toMatchObject({ to: 'needs_reauth' });

    const calls = idp.tokenCalls.total;
    expect(await refreshConnectionToken(t.env, id, 'test', { force: true })).toBe('needs_reauth');
    // A second refusal changes nothing: no second event, no second notification.
    await needsReauth(t.env, id, 'oidc', 'invalid_grant');
    expect(await reauthEvents()).toHaveLength(1);
    expect((await t.database.db.selectFrom('notifications').select('id').where('user_id', '=', account.adminUserId).where('kind', '=', 'connection_needs_reauth').where('message', 'like', `%${broken.address}%`).execute())).toHaveLength(1);
    expect(await syncOnce(id)).toBe('stopped');
    expect(idp.tokenCalls.total).toBe(calls);

    // The other mailbox is untouched.
    expect(await refreshConnectionToken(t.env, other, 'test', { force: true })).toBe('refreshed');
    await dovecot.deliver(healthy.address, raw(`h-${other}`, healthy.address));
    expect(await syncOnce(other)).not.toBe('stopped');
    expect((await connectionRow(other)).state).not.toBe('auth_failed');

    // Reconnect: same connection, same checkpoint; mail that arrived meanwhile comes in once.
    await dovecot.deliver(broken.address, raw(`after-${id}`, broken.address));
    const again = await connectByCode(account.token, broken.login, { connectionId: id });
    expect(again.result.connectedId).toBe(id);
    const back = await connectionRow(id);
    expect(back.state).toBe('syncing');
    expect((await reauthEvents())).toHaveLength(1);
    expect(back.last_error_code).toBeNull();
    expect(await syncOnce(id)).not.toBe('stopped');
    const ids = (await t.database.db.selectFrom('messages').select('message_id').where('connection_id', '=', id).execute()).map((m) => m.message_id);
    expect(ids.filter((x) => x === `after-${id}@example.org`.toLowerCase())).toHaveLength(1);
  });
});

describe('device authorization flow (polled by the worker in a durable job)', () => {
  it('shows a code and a link; the job polls no faster than the interval and honours slow_down; the page only reads', async () => {
    const p = await person();
    const start = await t.api(account.token, 'POST', '/api/v1/connections/oauth/start', { provider: 'oidc', flow: 'device' });
    expect(start.statusCode, start.body).toBe(201);
    const d = start.json();
    expect(d.flow).toBe('device');
    expect(d.userCode).toMatch(/\S+/);
    expect(d.verificationUri.startsWith(idp.issuer)).toBe(true);
    expect(d.intervalSeconds).toBe(1);
    // A durable job polls it, due at the provider's interval.
    const job = await t.database.db.selectFrom('jobs').select(['kind', 'run_at', 'state']).where('dedupe_key', '=', `oauth-device:${d.flowId}`).executeTakeFirstOrThrow();
    expect(job).toMatchObject({ kind: OAUTH_DEVICE_POLL_JOB, state: 'queued' });
    const status = async () => {
      const r = await t.api(account.token, 'POST', `/api/v1/connections/oauth/flows/${d.flowId}/poll`);
      expect(r.statusCode, r.body).toBe(200);
      return r.json();
    };

    // The page asking never reaches the provider.
    const calls = idp.tokenCalls.device_code;
    expect(await status()).toMatchObject({ status: 'pending' });
    await sleep(1100);
    expect(await status()).toMatchObject({ status: 'pending' });
    expect(idp.tokenCalls.device_code).toBe(calls);
    const pending = (await t.api(account.token, 'GET', '/api/v1/connections/oauth/flows')).json().flows;
    expect(pending.find((f: { flowId: string }) => f.flowId === d.flowId)).toMatchObject({ userCode: d.userCode, providerName: 'Example ID' });

    // The job's poll: once the interval has passed, one request; before it, none.
    const first = await pollDeviceFlow(t.env, d.flowId);
    expect(first.status).toBe('pending');
    expect(idp.tokenCalls.device_code).toBe(calls + 1);
    expect(await pollDeviceFlow(t.env, d.flowId)).toMatchObject({ status: 'pending' });
    expect(idp.tokenCalls.device_code).toBe(calls + 1);
    // A poll that reaches the provider too early anyway gets slow_down: the interval grows by 5 s.
    await t.database.db.updateTable('oauth_flows').set({ next_poll_at: 0 }).where('id', '=', d.flowId).execute();
    const slowed = await pollDeviceFlow(t.env, d.flowId);
    expect(idp.tokenCalls.slow_down).toBe(1);
    expect(slowed.status === 'pending' && slowed.nextPollAt - Date.now()).toBeGreaterThan(5000);
    expect(await status()).toMatchObject({ status: 'pending', retryAfterSeconds: 6 });

    // The user approves with nobody's page open: the worker connects it at the next due poll.
    await idp.approveDevice(d.userCode, p.login);
    const worker = new JobWorker({ env: t.env, handlers: jobHandlersFor(ingestor), queues: ['default'], pollMs: 50, log });
    worker.start();
    let done: { status: string; connection?: { id: string; address: string } } = { status: 'pending' };
    try {
      const end = Date.now() + 20_000;
      while (Date.now() < end && done.status === 'pending') {
        await sleep(200);
        done = await status();
      }
    } finally {
      await worker.stop();
    }
    expect(done.status, JSON.stringify(done)).toBe('connected');
    expect(done.connection!.address).toBe(p.address);
    expect(idp.tokenCalls.slow_down).toBe(1);
    // Asking again answers from the record; the job is finished.
    const calls3 = idp.tokenCalls.device_code;
    expect((await status()).status).toBe('connected');
    expect(idp.tokenCalls.device_code).toBe(calls3);
    expect((await t.database.db.selectFrom('jobs').select('state').where('dedupe_key', '=', `oauth-device:${d.flowId}`).execute()).every((j) => j.state !== 'queued')).toBe(true);
    expect((await t.api(account.token, 'GET', '/api/v1/connections/oauth/flows')).json().flows.some((f: { flowId: string }) => f.flowId === d.flowId)).toBe(false);
    const g = await grantOf(done.connection!.id);
    expect(g.refresh_token).toBeTruthy();
    await dovecot.deliver(p.address, raw(`d-${done.connection!.id}`, p.address));
    expect(await syncOnce(done.connection!.id)).not.toBe('stopped');
    expect((await connectionRow(done.connection!.id)).state).not.toBe('needs_reauth');
  }, 40_000);

  it('a code that expires unentered fails the flow with why, without asking the provider', async () => {
    const start = await t.api(account.token, 'POST', '/api/v1/connections/oauth/start', { provider: 'oidc', flow: 'device' });
    const flowId = start.json().flowId as string;
    await t.database.db.updateTable('oauth_flows').set({ expires_at: Date.now() - 1000 }).where('id', '=', flowId).execute();
    const calls = idp.tokenCalls.device_code;
    expect(await pollDeviceFlow(t.env, flowId)).toEqual({ status: 'failed' });
    expect(idp.tokenCalls.device_code).toBe(calls);
    const r = (await t.api(account.token, 'POST', `/api/v1/connections/oauth/flows/${flowId}/poll`)).json();
    expect(r).toMatchObject({ status: 'failed', error: { code: 'oauth_device_code_expired' } });
  });

  it('a flow belongs to the user who started it', async () => {
    const start = await t.api(account.token, 'POST', '/api/v1/connections/oauth/start', { provider: 'oidc', flow: 'device' });
    const m = await member();
    const r = await t.api(m.token, 'POST', `/api/v1/connections/oauth/flows/${start.json().flowId}/poll`);
    expect(r.statusCode).toBe(404);
    expect(r.json().error.code).toBe('not_found');
    expect((await t.api(m.token, 'GET', '/api/v1/connections/oauth/flows')).json().flows).toEqual([]);
  });
});

describe('a listening mailbox and its token', () => {
  it('token expiry during IDLE: the session keeps listening, a refresh does not interrupt it, and when the server drops it, it logs in again with a fresh token; no message lost or duplicated', async () => {
    const p = await person();
    idp.setAccessTokenTtl(3);
    const sup = new MailboxSupervisor(ingestor, { log, workerId: `oauth-sup:${process.pid}`, settings: { leaseMs: 3000, tickMs: 300, maxMailboxes: 10 } });
    const live = async () => (await t.api(account.token, 'GET', `/api/v1/connections/${id}`)).json().listening === 'live';
    const count = async (mid: string) => (await t.database.db.selectFrom('messages').select('id').where('connection_id', '=', id).where('message_id', '=', mid.toLowerCase()).execute()).length;
    const until = async (what: () => Promise<boolean>, ms = 15_000) => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        if (await what()) return true;
        await sleep(100);
      }
      return false;
    };
    const logins = async () => ((await dovecot.readLog()).match(new RegExp(`user=<${p.address}>, method=(OAUTHBEARER|XOAUTH2)`, 'g')) ?? []).length;
    const m = await member();
    const connected = await connectByCode(m.token, p.login);
    expect(connected.result.errorCode, connected.result.errorMessage ?? '').toBeNull();
    const id = connected.result.connectedId!;
    try {
      await sup.start();
      expect(await until(live)).toBe(true);
      // Every token issued so far lived 3 s: the session is listening on an expired token.
      await sleep(3500);
      idp.setAccessTokenTtl(3600);
      await dovecot.deliver(p.address, raw(`idle-1-${id}`, p.address));
      expect(await until(async () => (await count(`idle-1-${id}@example.org`)) === 1)).toBe(true);
      // A refresh (the worker's job) does not restart the listening session.
      const before = await logins();
      expect(await refreshConnectionToken(t.env, id, 'test', { force: true })).toBe('refreshed');
      await sleep(1000);
      expect(await logins()).toBe(before);
      // The server drops the session (as providers do when a token ends): it comes back with the new token.
      await promisify(execFile)('doveadm', ['-c', `${dovecot.dir}/dovecot.conf`, 'kick', p.address]);
      await dovecot.deliver(p.address, raw(`idle-2-${id}`, p.address));
      expect(await until(async () => (await count(`idle-2-${id}@example.org`)) === 1, 30_000)).toBe(true);
      expect(await until(live)).toBe(true);
      await sleep(1000);
      expect(await count(`idle-1-${id}@example.org`)).toBe(1);
      expect(await count(`idle-2-${id}@example.org`)).toBe(1);
      expect((await connectionRow(id)).state).not.toBe('auth_failed');
      expect(await logins()).toBeGreaterThan(before);
    } finally {
      idp.setAccessTokenTtl(3600);
      await sup.stop();
    }
  }, 60_000);
});

describe('sending through the outbox with a token (renew once on 535)', () => {
  async function queue(connectionId: string, subject: string) {
    const conn = await connectionRow(connectionId);
    return t.database.db.transaction().execute((trx) =>
      queueEmail(trx, { now: Date.now(), putBlob: (b) => ingestor.blobs.put(b), replyTokenSecret: ingestor.replyTokenSecret, messageIdDomain: 'mailroom.test' }, {
        connection: conn,
        userId: conn.user_id,
        email: { from: { name: 'Me', address: conn.address }, to: [{ address: 'customer@example.org' }], subject, text: `hello from ${subject}` },
      }),
    );
  }
  const copies = (messageId: string) => smtp.messages.filter((m) => m.raw.toString('utf8').includes(messageId.replace(/^<|>$/g, ''))).length;
  const outboxRow = (id: string) => t.database.db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  it('an access token the provider ended is refused with 535: the outbox renews it once and sends once', async () => {
    const p = await person();
    const m = await member();
    const id = (await connectByCode(m.token, p.login)).result.connectedId!;
    await idp.revokeAccessTokens(p.login);
    const refreshes = idp.tokenCalls.refresh_token;
    const q = await queue(id, `renewed ${id}`);
    expect(await sendOutboxMessage(ingestor, q.outboxId)).toBe('sent');
    expect(idp.tokenCalls.refresh_token).toBe(refreshes + 1);
    expect(copies(q.messageId)).toBe(1);
    expect((await outboxRow(q.outboxId)).state).toBe('sent');
    expect((await connectionRow(id)).state).not.toBe('needs_reauth');
    // The stored token is the renewed one: the next email goes without another renewal.
    const q2 = await queue(id, `after ${id}`);
    expect(await sendOutboxMessage(ingestor, q2.outboxId)).toBe('sent');
    expect(idp.tokenCalls.refresh_token).toBe(refreshes + 1);
    expect(copies(q2.messageId)).toBe(1);
  });

  it('a second 535 (the fresh token refused too) marks needs_reauth once; the email is failed, never sent, and not retried', async () => {
    const p = await person();
    const m = await member();
    const id = (await connectByCode(m.token, p.login)).result.connectedId!;
    smtpRefuses.add(p.address.toLowerCase());
    try {
      const refreshes = idp.tokenCalls.refresh_token;
      const q = await queue(id, `refused ${id}`);
      expect(await sendOutboxMessage(ingestor, q.outboxId)).toBe('failed');
      expect(idp.tokenCalls.refresh_token).toBe(refreshes + 1);
      expect(copies(q.messageId)).toBe(0);
      const row = await outboxRow(q.outboxId);
      expect(row.state).toBe('failed');
      expect(row.last_error).toContain('not sent');
      expect(row.last_error).toContain(p.address);
      const c = await connectionRow(id);
      expect(c.state).toBe('needs_reauth');
      expect(c.last_error_code).toBe('oauth_reauth_required');
      expect(c.last_error_message).toContain(p.address);
      const events = (await t.database.db.selectFrom('events').select('type').where('subject_id', '=', id).execute()).filter((e) => e.type === 'connection.needs_reauth');
      expect(events).toHaveLength(1);
      // Another email from it: no token call, no SMTP, failed at once with what to do.
      const calls = idp.tokenCalls.total;
      const q2 = await queue(id, `refused again ${id}`);
      expect(await sendOutboxMessage(ingestor, q2.outboxId)).toBe('failed');
      expect(idp.tokenCalls.total).toBe(calls);
      expect(copies(q2.messageId)).toBe(0);
      expect((await t.database.db.selectFrom('events').select('type').where('subject_id', '=', id).execute()).filter((e) => e.type === 'connection.needs_reauth')).toHaveLength(1);
      expect(await sendOutboxMessage(ingestor, q.outboxId)).toBe('skipped');
    } finally {
      smtpRefuses.delete(p.address.toLowerCase());
    }
  });

  it('a revoked sign-in (invalid_grant on the renewal) marks needs_reauth and sends nothing', async () => {
    const p = await person();
    const m = await member();
    const id = (await connectByCode(m.token, p.login)).result.connectedId!;
    await idp.revokeAccount(p.login);
    const q = await queue(id, `revoked ${id}`);
    expect(await sendOutboxMessage(ingestor, q.outboxId)).toBe('failed');
    expect(copies(q.messageId)).toBe(0);
    expect((await connectionRow(id)).state).toBe('needs_reauth');
    expect((await outboxRow(q.outboxId)).last_error).toContain('Reconnect');
  });
});

describe('provider outage (last: stops the provider)', () => {
  it('a refresh that cannot reach the provider backs off without asking the user', async () => {
    const p = await person();
    const m = await member();
    const connected = await connectByCode(m.token, p.login);
    expect(connected.result.errorCode, connected.result.errorMessage ?? '').toBeNull();
    const id = connected.result.connectedId!;
    await idp.stop();
    const r = await refreshConnectionToken(t.env, id, 'test', { force: true });
    expect(r).toEqual({ retryInMs: 5000 });
    const c = await connectionRow(id);
    expect(c.state).not.toBe('auth_failed');
    expect((await grantOf(id)).transient_failures).toBe(1);
    expect((await grantOf(id)).refresh_token).toBeTruthy();
  });
});
