/**
 * Sync failures mapped to the connection's user-facing state in one place: a refused password moves it to
 * auth_failed (with a notification naming the address), anything else counts a failure (error after 3).
 */
import type { CommandEnv } from '../../platform/context.js';
import { ImapAuthError } from '../../mail/imap-sync.js';
import { adminIds, notifyUsers } from '../notifications/index.js';
import { HostNotAllowedError } from '../../platform/security/host-guard.js';

export async function recordSyncFailure(env: CommandEnv, connectionId: string, err: unknown): Promise<'auth_failed' | 'retry'> {
  const now = env.now();
  const c = await env.db.selectFrom('connections').selectAll().where('id', '=', connectionId).executeTakeFirst();
  if (!c) return 'retry';
  if (err instanceof ImapAuthError) {
    await env.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('connections')
        .set({
          state: 'auth_failed',
          stage: null,
          last_error_code: 'imap_authentication_failed',
          last_error_message: `The mail server refused the password for ${c.address}. It may have been changed: reconnect ${c.address} with the new password in Settings → Email. Sync resumes where it stopped.`,
          last_error_at: now,
          failure_count: c.failure_count + 1,
        })
        .where('id', '=', c.id)
        .execute();
      if (c.state !== 'auth_failed') {
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
    return 'auth_failed';
  }
  const e = err as { code?: string; message?: string };
  const message =
    err instanceof HostNotAllowedError
      ? err.message
      : `Mailroom could not reach the mail server of ${c.address} (${e.code ?? e.message ?? 'network error'}). It retries on its own; nothing is lost.`;
  await env.db
    .updateTable('connections')
    .set({ state: c.failure_count + 1 >= 3 ? 'error' : c.state, last_error_code: 'imap_unreachable', last_error_message: message, last_error_at: now, failure_count: c.failure_count + 1 })
    .where('id', '=', c.id)
    .execute();
  return 'retry';
}
