import { enqueue } from '../../platform/jobs/queue.js';
import { newId } from '../../platform/database/ids.js';
import type { Executor } from '../../platform/context.js';

export const NOTIFICATION_EMAIL_JOB = 'notifications.email';

/**
 * Notification email for this process: on when the server has NOTIFY_SMTP_URL (set by
 * configureNotificationEmail, src/features/notifications/email-digest.ts). `delayMs` batches what happens within it
 * into one digest per user.
 */
export const notificationEmail = { enabled: false, delayMs: 60_000 };

/**
 * Writes in-app notifications, inside the caller's transaction, and when notification email is on queues
 * (once per user while one is pending) the digest that emails them.
 */
export async function notifyUsers(trx: Executor, p: { accountId: string; userIds: string[]; kind: string; message: string; data?: Record<string, unknown>; at: number }): Promise<void> {
  for (const userId of [...new Set(p.userIds)]) {
    await trx
      .insertInto('notifications')
      .values({ id: newId('ntf'), account_id: p.accountId, user_id: userId, kind: p.kind, message: p.message, data: JSON.stringify(p.data ?? {}), created_at: p.at, read_at: null })
      .execute();
    if (notificationEmail.enabled) {
      await enqueue(trx, p.at, { kind: NOTIFICATION_EMAIL_JOB, payload: { userId }, runAt: p.at + notificationEmail.delayMs, dedupeKey: `notify-email:${userId}` });
    }
  }
}

export async function adminIds(trx: Executor, accountId: string): Promise<string[]> {
  const rows = await trx.selectFrom('users').select('id').where('account_id', '=', accountId).where('state', '=', 'active').where('role', 'in', ['admin', 'super_admin']).execute();
  return rows.map((r) => r.id);
}
