/** The account's webhook settings (admins): how long the delivery log is kept. */
import { authorize } from '../../../platform/authorize.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { invalidRequest } from '../../../platform/errors.js';
import { scheduleCleanup } from '../cleanup.js';
import { webhooksPolicies } from '../policies.js';
import { settingsOf } from '../queries.js';

export const MIN_RETENTION_DAYS = 1;
export const MAX_RETENTION_DAYS = 365;

export async function getWebhookSettings(env: CommandEnv, actor: Actor) {
  authorize(actor, webhooksPolicies.manage);
  return settingsOf(env.db, actor.accountId);
}

/** Sets how many days deliveries, their attempts and their events are kept (30 by default). */
export async function updateWebhookSettings(env: CommandEnv, actor: Actor, input: { logRetentionDays?: number }) {
  authorize(actor, webhooksPolicies.manage);
  const days = input.logRetentionDays;
  if (days !== undefined && (!Number.isInteger(days) || days < MIN_RETENTION_DAYS || days > MAX_RETENTION_DAYS)) {
    throw invalidRequest(`logRetentionDays is a whole number of days from ${MIN_RETENTION_DAYS} to ${MAX_RETENTION_DAYS}.`, { field: 'logRetentionDays' });
  }
  const now = env.now();
  await env.db.transaction().execute(async (trx) => {
    const current = await settingsOf(trx, actor.accountId);
    const next = days ?? current.logRetentionDays;
    await trx
      .insertInto('webhook_settings')
      .values({ account_id: actor.accountId, log_retention_days: next, updated_at: now })
      .onConflict((oc) => oc.column('account_id').doUpdateSet({ log_retention_days: next, updated_at: now }))
      .execute();
    await scheduleCleanup(trx, now);
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'webhook.settings_updated', targetType: 'account', targetId: actor.accountId, data: { logRetentionDays: next }, at: now });
  });
  env.onJobsQueued?.();
  return settingsOf(env.db, actor.accountId);
}
