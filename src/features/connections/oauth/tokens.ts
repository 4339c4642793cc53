/**
 * The token lifecycle of OAuth connections (issue 14): the worker refreshes an access token at about 80%
 * of its lifetime (the `connection.oauth_refresh` job), one refresh at a time per connection across all
 * processes (a lease), and stores the refresh token the provider rotated in, in the same transaction as
 * the new access token. A refused refresh token (`invalid_grant`) moves only that connection to
 * needs_reauth with `oauth_reauth_required` (the `connection.needs_reauth` event), notifies its owner
 * (and the admins for team email) naming the address and inbox, and makes no further token calls.
 * Transient failures (network, 5xx) back off; after REFRESH_FAILURE_BUDGET in a row they show on the
 * connection as a sync error.
 */
import './schema.js';
import '../settings.js';
import type { CommandEnv, Executor } from '../../../platform/context.js';
import { acquireLease, releaseLease } from '../../../platform/jobs/lease.js';
import { enqueue } from '../../../platform/jobs/queue.js';
import { adminIds, notifyUsers } from '../../notifications/index.js';
import { markNeedsReauth, markSyncFailed, waitsForOwner } from '../lifecycle.js';
import { providerClient, refresh, RefreshError, type TokenSet } from './client.js';
import { displayName, refreshDueAt, type OAuthProviderId } from './providers.js';

export const OAUTH_REFRESH_JOB = 'connection.oauth_refresh';
export const REFRESH_FAILURE_BUDGET = 5;
const LEASE_MS = 60_000;

/** The columns of a grant written after a code exchange, device flow or refresh. */
export function grantColumns(env: CommandEnv, tokens: TokenSet, now: number, previousRefresh: string | null) {
  const refreshToken = tokens.refreshToken ?? previousRefresh;
  return {
    refresh_token: refreshToken ? env.secrets.seal(refreshToken) : null,
    access_expires_at: now + (tokens.expiresIn ?? 3600) * 1000,
    refresh_due_at: refreshDueAt(now, tokens.expiresIn),
    transient_failures: 0,
    updated_at: now,
    ...(tokens.scope ? { scope: tokens.scope } : {}),
  };
}

export function sealedAccessToken(env: CommandEnv, accessToken: string): string {
  return env.secrets.seal(JSON.stringify({ imapPassword: null, smtpPassword: '', oauth: { accessToken } }));
}

/** Queues the next refresh at its due time (one job per due time: the running job may queue its successor). */
export async function scheduleRefresh(db: Executor, now: number, connectionId: string, dueAt: number): Promise<void> {
  await enqueue(db, now, { queue: 'default', kind: OAUTH_REFRESH_JOB, payload: { connectionId }, runAt: dueAt, dedupeKey: `oauth-refresh:${connectionId}:${dueAt}` });
}

/** Writes a new grant for a connection (connect, reconnect) and schedules its refresh. */
export async function storeGrant(
  env: CommandEnv,
  trx: Executor,
  p: { connectionId: string; accountId: string; provider: OAuthProviderId; issuer: string; subject: string; tokens: TokenSet; now: number },
): Promise<void> {
  const cols = grantColumns(env, p.tokens, p.now, null);
  const existing = await trx.selectFrom('oauth_grants').select('connection_id').where('connection_id', '=', p.connectionId).executeTakeFirst();
  if (existing) {
    await trx
      .updateTable('oauth_grants')
      .set({ ...cols, provider: p.provider, issuer: p.issuer, subject: p.subject, scope: p.tokens.scope, refreshed_at: null })
      .where('connection_id', '=', p.connectionId)
      .execute();
  } else {
    await trx
      .insertInto('oauth_grants')
      .values({ connection_id: p.connectionId, account_id: p.accountId, provider: p.provider, issuer: p.issuer, subject: p.subject, scope: p.tokens.scope, refreshed_at: null, created_at: p.now, ...cols })
      .execute();
  }
  await scheduleRefresh(trx, p.now, p.connectionId, cols.refresh_due_at);
}

export type RefreshOutcome = 'refreshed' | 'not_due' | 'busy' | 'stopped' | 'needs_reauth' | { retryInMs: number };

/**
 * Refreshes one connection's access token if it is due (or `force`). Safe to call from any process at
 * any time: the lease makes it one at a time, and a connection that needs the user makes no token call.
 */
export async function refreshConnectionToken(env: CommandEnv, connectionId: string, holder: string, o: { force?: boolean } = {}): Promise<RefreshOutcome> {
  const leaseName = `oauth-refresh:${connectionId}`;
  if (!(await acquireLease(env.db, leaseName, holder, LEASE_MS, env.now()))) return 'busy';
  try {
    const row = await env.db
      .selectFrom('oauth_grants')
      .innerJoin('connections', 'connections.id', 'oauth_grants.connection_id')
      .select(['oauth_grants.provider', 'oauth_grants.refresh_token', 'oauth_grants.refresh_due_at', 'oauth_grants.transient_failures', 'connections.state', 'connections.disconnected_at'])
      .where('oauth_grants.connection_id', '=', connectionId)
      .executeTakeFirst();
    if (!row || row.disconnected_at !== null) return 'stopped';
    if (waitsForOwner(row.state) || !row.refresh_token) return 'needs_reauth';
    const now = env.now();
    if (!o.force && Number(row.refresh_due_at) > now) return 'not_due';
    const provider = row.provider as OAuthProviderId;
    let tokens: TokenSet;
    try {
      const p = await providerClient(provider, env.settings.oauth);
      tokens = await refresh(p, env.secrets.open(row.refresh_token), env.settings.oauth);
    } catch (err) {
      if (err instanceof RefreshError && err.terminal) {
        await needsReauth(env, connectionId, provider, err.reason);
        return 'needs_reauth';
      }
      const failures = row.transient_failures + 1;
      await env.db.updateTable('oauth_grants').set({ transient_failures: failures, updated_at: now }).where('connection_id', '=', connectionId).execute();
      if (failures >= REFRESH_FAILURE_BUDGET) {
        const c = await env.db.selectFrom('connections').select('address').where('id', '=', connectionId).executeTakeFirstOrThrow();
        await markSyncFailed(env.db, connectionId, {
          code: 'oauth_provider_unreachable',
          message: `Mailroom could not renew the sign-in of ${c.address} at ${displayName(provider, env.settings.oauth)} (${(err as Error).message}). It keeps retrying on its own; nothing is lost.`,
          now,
        });
      }
      return { retryInMs: Math.min(15 * 60_000, 5_000 * 2 ** Math.min(failures - 1, 8)) };
    }
    const after = env.now();
    await env.db.transaction().execute(async (trx) => {
      // The rotated refresh token is stored with the access token it came with, or not at all.
      const cols = grantColumns(env, tokens, after, env.secrets.open(row.refresh_token!));
      await trx.updateTable('oauth_grants').set({ ...cols, refreshed_at: after }).where('connection_id', '=', connectionId).execute();
      await trx.updateTable('connections').set({ credentials: sealedAccessToken(env, tokens.accessToken), updated_at: after }).where('id', '=', connectionId).execute();
      await scheduleRefresh(trx, after, connectionId, cols.refresh_due_at);
    });
    env.onJobsQueued?.();
    return 'refreshed';
  } finally {
    await releaseLease(env.db, leaseName, holder).catch(() => {});
  }
}

/** The provider refused the refresh token: this connection (only) waits for its owner to sign in again. */
export async function needsReauth(env: CommandEnv, connectionId: string, provider: OAuthProviderId, reason: string, o: { smtp?: boolean } = {}): Promise<void> {
  const now = env.now();
  await env.db.transaction().execute(async (trx) => {
    const c = await trx.selectFrom('connections').select(['id', 'address', 'type', 'user_id', 'account_id', 'inbox_id']).where('id', '=', connectionId).executeTakeFirstOrThrow();
    const inbox = c.inbox_id ? await trx.selectFrom('inboxes').select('name').where('id', '=', c.inbox_id).executeTakeFirst() : undefined;
    const where = c.type === 'team' ? `${c.address} (team email of the inbox "${inbox?.name ?? 'deleted inbox'}")` : `${c.address} (personal email)`;
    const name = displayName(provider, env.settings.oauth);
    await trx.updateTable('oauth_grants').set({ refresh_token: null, updated_at: now }).where('connection_id', '=', connectionId).execute();
    const what = o.smtp
      ? `the mail server refused to send with ${name}'s sign-in for ${where}, even with a freshly renewed token (${reason})`
      : `${name} no longer accepts Mailroom's sign-in for ${where} (${reason}): it was revoked, the password changed, or it expired`;
    const r = await markNeedsReauth(trx, connectionId, {
      code: 'oauth_reauth_required',
      message: `${what.charAt(0).toUpperCase()}${what.slice(1)}. Sync and sending of this address are paused; click "Reconnect" in Settings → Email and sign in as ${c.address} again. Sync resumes where it stopped.`,
      now,
    });
    // Told once, when the state changes (not on every later refusal).
    if (r.ok && r.from.state !== 'needs_reauth') {
      await notifyUsers(trx, {
        accountId: c.account_id,
        userIds: c.type === 'team' ? [...new Set([...(await adminIds(trx, c.account_id)), c.user_id])] : [c.user_id],
        kind: 'connection_needs_reauth',
        message: `Mailroom can no longer sign in to ${where} at ${name}. Reconnect it in Settings → Email (Reconnect, then sign in as ${c.address}).`,
        data: { connectionId: c.id, address: c.address, inboxId: c.inbox_id, inboxName: inbox?.name ?? null, reason: 'oauth_reauth_required' },
        at: now,
      });
    }
  });
}

/** Whether a connection signs in with OAuth. */
export async function isOAuthConnection(db: Executor, connectionId: string): Promise<boolean> {
  return Boolean(await db.selectFrom('oauth_grants').select('connection_id').where('connection_id', '=', connectionId).executeTakeFirst());
}

/**
 * Before an IMAP login: an OAuth connection whose access token ends within `marginMs` is refreshed first
 * (the refresh job may be late: a worker restart, a long outage). Returns false when it needs the user.
 */
export async function ensureFreshToken(env: CommandEnv, connectionId: string, holder: string, marginMs = 60_000): Promise<'fresh' | 'refreshed' | 'needs_reauth'> {
  const g = await env.db.selectFrom('oauth_grants').select(['access_expires_at']).where('connection_id', '=', connectionId).executeTakeFirst();
  if (!g || Number(g.access_expires_at) - marginMs > env.now()) return 'fresh';
  const r = await refreshConnectionToken(env, connectionId, holder, { force: true });
  return r === 'needs_reauth' || r === 'stopped' ? 'needs_reauth' : 'refreshed';
}

/**
 * Sending with an OAuth connection (issue 14): the outbox's one renewal of the access token when the SMTP
 * server refuses it (535). `renew` refreshes now (or waits for the refresh another process is making) and
 * returns the new access token; it renews at most once per send. When the provider refuses the refresh
 * token, the connection is already needs_reauth and `reauthNeeded` is set. `refusedAfterRenewal` records
 * that the server refused even the fresh token: the connection needs its owner (needs_reauth).
 */
export interface SmtpTokenRenewal {
  renew(): Promise<string>;
  /** A renewal was attempted (at most one per send). */
  readonly renewed: boolean;
  /** A renewal gave a new access token (so a refusal after it is the server's, not the provider's). */
  readonly renewedOk: boolean;
  readonly reauthNeeded: boolean;
  refusedAfterRenewal(serverMessage: string): Promise<void>;
}

export function smtpTokenRenewal(env: CommandEnv, connectionId: string, holder: string): SmtpTokenRenewal {
  let renewed = false;
  let renewedOk = false;
  let reauthNeeded = false;
  const accessToken = async () => {
    const c = await env.db.selectFrom('connections').select('credentials').where('id', '=', connectionId).executeTakeFirstOrThrow();
    const opened = JSON.parse(env.secrets.open(c.credentials!)) as { oauth?: { accessToken?: string } };
    if (!opened.oauth?.accessToken) throw new Error('This connection has no OAuth access token.');
    return opened.oauth.accessToken;
  };
  return {
    get renewed() {
      return renewed;
    },
    get renewedOk() {
      return renewedOk;
    },
    get reauthNeeded() {
      return reauthNeeded;
    },
    async renew() {
      if (renewed) throw new Error('The access token was already renewed once for this email.');
      renewed = true;
      const before = await env.db.selectFrom('oauth_grants').select('refreshed_at').where('connection_id', '=', connectionId).executeTakeFirst();
      let r = await refreshConnectionToken(env, connectionId, holder, { force: true });
      // Another process is refreshing this connection right now: its token is the new one.
      for (let i = 0; r === 'busy' && i < 40; i++) {
        await new Promise((ok) => setTimeout(ok, 250));
        const g = await env.db.selectFrom('oauth_grants').select('refreshed_at').where('connection_id', '=', connectionId).executeTakeFirst();
        if (g && g.refreshed_at !== null && g.refreshed_at !== before?.refreshed_at) {
          renewedOk = true;
          return accessToken();
        }
        r = await refreshConnectionToken(env, connectionId, holder, { force: true });
      }
      if (r === 'refreshed') {
        renewedOk = true;
        return accessToken();
      }
      if (r === 'needs_reauth' || r === 'stopped') {
        reauthNeeded = true;
        throw new Error('The provider no longer accepts the sign-in of this mailbox (needs reauth).');
      }
      throw new Error(r === 'busy' ? 'Another process kept renewing the sign-in of this mailbox.' : 'The provider could not be reached to renew the sign-in of this mailbox.');
    },
    async refusedAfterRenewal(serverMessage: string) {
      const g = await env.db.selectFrom('oauth_grants').select('provider').where('connection_id', '=', connectionId).executeTakeFirst();
      if (!g) return;
      reauthNeeded = true;
      await needsReauth(env, connectionId, g.provider as OAuthProviderId, serverMessage.slice(0, 200), { smtp: true });
    },
  };
}
