/**
 * Notifications: in-app notifications (assignments, mentions, snoozes ending, disconnected addresses...)
 * and, when NOTIFY_SMTP_URL is set, one email digest per user per minute at most. This file is the only
 * door other features use.
 */
import type { CommandEnv } from '../../platform/context.js';
import { configureNotificationEmail, notificationEmailJob } from './email-digest.js';
import { NOTIFICATION_EMAIL_JOB } from './notify.js';

export { adminIds, notifyUsers } from './notify.js';

export function notificationsFeature() {
  return {
    name: 'notifications',
    /** When a process starts: notification email on if the server has an SMTP server for it. */
    start: (env: CommandEnv) => configureNotificationEmail(env),
    jobs: () => ({
      /** Emails each user's pending notifications as one digest. */
      [NOTIFICATION_EMAIL_JOB]: notificationEmailJob,
    }),
  } as const;
}
