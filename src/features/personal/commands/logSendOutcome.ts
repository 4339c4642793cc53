/**
 * Shows on the timeline when an email from the CRM did not go out (a `sendFinished` reaction of the outbox
 * sender): a reached send limit says "This email was not sent because you reached your send limit" and
 * when the limit resets; a refusal or an uncertain send says what happened. The sender is notified in-app
 * too. Only the contacts the email is logged to see it on their timelines.
 */
import { appendTimelineEvent } from '../../crm/index.js';
import type { CommandEnv } from '../../../platform/context.js';
import { notifyUsers } from '../../notifications/index.js';
import { json, readJson } from '../../../platform/database/json.js';
import { personalOutboxMeta } from '../queries.js';

export const SEND_LIMIT_MESSAGE = 'This email was not sent because you reached your send limit';

export async function logSendOutcome(env: CommandEnv, outboxId: string, outcome: 'sent' | 'failed' | 'uncertain' | 'limit_reached'): Promise<void> {
  if (outcome === 'sent') return; // the stored sent copy is logged by logPersonalMail
  const pe = await env.db.selectFrom('personal_emails').selectAll().where('outbox_id', '=', outboxId).executeTakeFirst();
  if (!pe) return;
  const o = await env.db.selectFrom('outbox').select(['last_error', 'meta', 'connection_id']).where('id', '=', outboxId).executeTakeFirst();
  if (!o) return;
  const meta = readJson('outbox.meta', o.meta, personalOutboxMeta, {});
  const resetsAt = meta.sendLimit?.resetsAt ?? null;
  const message = outcome === 'limit_reached' ? `${SEND_LIMIT_MESSAGE}${resetsAt ? `; it resets at ${resetsAt}` : ''}.` : (o.last_error ?? 'This email could not be sent.');
  const now = env.now();
  await env.db.transaction().execute(async (trx) => {
    if (pe.logged === 1) {
      for (const contactId of readJson('personal_emails.log_contact_ids', pe.log_contact_ids, json.stringArray, [])) {
        const alive = await trx.selectFrom('contacts').select('id').where('id', '=', contactId).where('account_id', '=', pe.account_id).executeTakeFirst();
        if (!alive) continue;
        await appendTimelineEvent(trx, {
          accountId: pe.account_id,
          contactId,
          kind: 'send_failed',
          occurredAt: now,
          actorUserId: pe.user_id,
          refType: 'outbox',
          refId: outboxId,
          data: { reason: outcome === 'limit_reached' ? 'send_limit' : outcome, message, resetsAt, personalEmailId: pe.id, subject: pe.subject, userId: pe.user_id },
        });
      }
    }
    await notifyUsers(trx, { accountId: pe.account_id, userIds: [pe.user_id], kind: outcome === 'limit_reached' ? 'send_limit_reached' : 'send_failed', message: `“${pe.subject}”: ${message}`, data: { personalEmailId: pe.id, resetsAt }, at: now });
  });
}
