import type { Executor } from '../../platform/context.js';

/** A user's latest 100 notifications, newest first, and how many of them are unread. */
export async function listNotifications(db: Executor, accountId: string, userId: string) {
  const rows = await db.selectFrom('notifications').selectAll().where('account_id', '=', accountId).where('user_id', '=', userId).orderBy('created_at', 'desc').limit(100).execute();
  return {
    notifications: rows.map((n) => ({ id: n.id, kind: n.kind, message: n.message, data: JSON.parse(n.data), createdAt: new Date(n.created_at).toISOString(), read: n.read_at !== null })),
    unread: rows.filter((n) => n.read_at === null).length,
  };
}
