/**
 * Notification email (the imperative shell of src/features/notifications/domain/notification-digest.ts): when the server has
 * NOTIFY_SMTP_URL, each user's in-app notifications are also emailed to their sign-in address, as one
 * digest per minute at most (NOTIFY_BATCH_SECONDS), unless they turned it off. Read notifications and
 * those older than a day are not emailed. A notification is marked emailed only after the SMTP server
 * accepted the digest (a crash in between may send a digest twice, never lose one); SMTP failures retry
 * with backoff.
 */
import type { CommandEnv } from '../../platform/context.js';
import { notificationEmail } from './notify.js';
import { userSettings } from '../accounts/index.js';
import { buildDigest, MAX_DIGEST_ITEMS } from './domain/notification-digest.js';
import { RunAgain, type JobContext } from '../../platform/jobs/worker.js';
import { json, readJson } from '../../platform/database/json.js';

const MAX_AGE_MS = 24 * 3_600_000;

/** Turns notification email on for this process when the server has NOTIFY_SMTP_URL. */
export function configureNotificationEmail(env: CommandEnv): void {
  notificationEmail.enabled = Boolean(env.settings.notifySmtpUrl);
  notificationEmail.delayMs = env.settings.notifyBatchMs;
}

/** The digest job: one email per user with what is pending; runs again while more is pending. */
export async function notificationEmailJob(payload: { userId: string }, ctx: JobContext): Promise<void> {
  const r = await sendNotificationDigest(ctx.env, payload.userId);
  if (r.remaining > 0) throw new RunAgain(notificationEmail.delayMs);
}

export interface DigestOutcome {
  sent: number;
  /** Pending notifications left for the next digest (more than one digest holds, or they came in meanwhile). */
  remaining: number;
  skipped?: 'not_configured' | 'user_inactive' | 'turned_off' | 'nothing_pending';
}

export async function sendNotificationDigest(env: CommandEnv, userId: string): Promise<DigestOutcome> {
  const url = env.settings.notifySmtpUrl;
  if (!url) return { sent: 0, remaining: 0, skipped: 'not_configured' };
  const user = await env.db.selectFrom('users').select(['id', 'account_id', 'email', 'name', 'state', 'settings']).where('id', '=', userId).executeTakeFirst();
  if (!user || user.state !== 'active') return { sent: 0, remaining: 0, skipped: 'user_inactive' };
  if (userSettings(user).emailNotifications === false) return { sent: 0, remaining: 0, skipped: 'turned_off' };
  const now = env.now();
  const pending = () =>
    env.db
      .selectFrom('notifications')
      .where('user_id', '=', userId)
      .where('emailed_at', 'is', null)
      .where('read_at', 'is', null)
      .where('created_at', '>', now - MAX_AGE_MS);
  const rows = await pending().select(['id', 'kind', 'message', 'data', 'created_at']).orderBy('created_at').orderBy('id').limit(MAX_DIGEST_ITEMS).execute();
  if (!rows.length) return { sent: 0, remaining: 0, skipped: 'nothing_pending' };
  const digest = buildDigest({
    userName: user.name,
    accountId: user.account_id,
    publicUrl: env.settings.publicUrl,
    now,
    items: rows.map((r) => ({ kind: r.kind, message: r.message, data: readJson('notifications.data', r.data, json.record, {}), createdAt: Number(r.created_at) })),
  });
  const { default: nodemailer } = await import('nodemailer');
  const transport = nodemailer.createTransport(url);
  try {
    await transport.sendMail({
      from: env.settings.notifyFrom ?? `Mailroom <notifications@${env.settings.inboundDomain}>`,
      to: { name: user.name, address: user.email },
      subject: digest.subject,
      text: digest.text,
      html: digest.html,
      headers: digest.headers,
      messageId: `<notify.${rows[0]!.id}@${env.settings.inboundDomain}>`,
    });
  } finally {
    transport.close();
  }
  await env.db.updateTable('notifications').set({ emailed_at: env.now() }).where('id', 'in', rows.map((r) => r.id)).execute();
  const left = await pending().select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  return { sent: rows.length, remaining: Number(left?.n ?? 0) };
}

