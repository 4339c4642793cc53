/**
 * Sync failures mapped to the connection's user-facing state in one place, through the lifecycle's named
 * transitions (lifecycle.ts): a refused password moves it to auth_failed (with a notification naming the
 * address), anything else counts a failure (error after 3).
 */
import type { CommandEnv } from '../../platform/context.js';
import { ImapAuthError } from '../../mail/imap-sync.js';
import { adminIds, notifyUsers } from '../notifications/index.js';
import { HostNotAllowedError } from '../../platform/security/host-guard.js';
import { markAuthFailed, markSyncFailed } from './lifecycle.js';
import { isOAuthConnection, refreshConnectionToken } from './oauth/tokens.js';

/** What happened, and for a retry the consecutive failures now recorded (for the caller's backoff). */
export type SyncFailureOutcome = { outcome: 'auth_failed' } | { outcome: 'retry'; failureCount: number };

export async function recordSyncFailure(env: CommandEnv, connectionId: string, err: unknown): Promise<SyncFailureOutcome> {
  const now = env.now();
  const c = await env.db.selectFrom('connections').selectAll().where('id', '=', connectionId).executeTakeFirst();
  if (!c) return { outcome: 'retry', failureCount: 1 };
  if (err instanceof ImapAuthError && (await isOAuthConnection(env.db, connectionId))) {
    // OAuth: a refused access token is renewed (once); only a refused refresh token needs the user.
    const r = await refreshConnectionToken(env, connectionId, `sync:${connectionId}`, { force: true });
    if (r === 'needs_reauth' || r === 'stopped') return { outcome: 'auth_failed' };
    const m = await markSyncFailed(env.db, c.id, { code: 'imap_authentication_failed', message: `The mail server refused the access token of ${c.address}; Mailroom renewed it and retries.`, now });
    return { outcome: 'retry', failureCount: m.ok ? (m.failureCount ?? c.failure_count + 1) : c.failure_count };
  }
  if (err instanceof ImapAuthError) {
    await env.db.transaction().execute(async (trx) => {
      const r = await markAuthFailed(trx, c.id, {
        message: `The mail server refused the password for ${c.address}. It may have been changed: reconnect ${c.address} with the new password in Settings → Email. Sync resumes where it stopped.`,
        now,
      });
      // Told once, when the state changes (not on every refused retry).
      if (r.ok && r.from.state !== 'auth_failed') {
        await notifyUsers(trx, {
          accountId: c.account_id,
          userIds: c.type === 'team' ? [...(await adminIds(trx, c.account_id)), c.user_id] : [c.user_id],
          kind: 'connection_auth_failed',
          message: `Mailroom can no longer sign in to ${c.address}: the password was refused. Reconnect it in Settings → Email.`,
          data: { connectionId: c.id, address: c.address },
          at: now,
        });
      }
    });
    return { outcome: 'auth_failed' };
  }
  const e = err as { code?: string; message?: string };
  const hostRefused = err instanceof HostNotAllowedError;
  const message = hostRefused
    ? err.message
    : `Mailroom could not reach the mail server of ${c.address} (${e.code ?? e.message ?? 'network error'}). It retries on its own; nothing is lost.`;
  const r = await markSyncFailed(env.db, c.id, { code: hostRefused ? 'host_not_allowed' : 'imap_unreachable', message, now });
  return { outcome: 'retry', failureCount: r.ok ? (r.failureCount ?? c.failure_count + 1) : c.failure_count };
}
