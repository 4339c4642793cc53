/**
 * Personal email's part of deleting a contact (a `contactDeleting` reaction, inside the deletion's
 * transaction). Deleting a contact is an erasure, so nothing of personal email may point at it afterwards:
 *
 * - Emails written from the contact's record stay in their author's list (they were sent, or are the
 *   author's own work), with `contact_id` cleared (null: "the contact was deleted").
 * - Those of them that have not left yet (scheduled, or queued and not yet picked up) are cancelled:
 *   they would otherwise go out to a person the account has just erased, and their replies could no
 *   longer be logged anywhere. The author is told in-app. One being sent at this moment is not stopped
 *   (the sender's claim and this update exclude each other, as for a cancel).
 * - The contact leaves every email's list of contacts it is logged to (`log_contact_ids`); an email
 *   logged to nobody else is no longer marked as logged. Emails written from another contact's record
 *   with this one in copy still go out: only the logging to the deleted contact stops.
 * - Logged personal conversations are no longer associated with it (`logged_conversations` rows go).
 * - The outbox entries of its emails no longer carry its id in their metadata (older versions wrote it).
 */
import type { CommandEnv, Executor } from '../../../platform/context.js';
import { json, readJson } from '../../../platform/database/json.js';
import { notifyUsers } from '../../notifications/index.js';
import { UNSENT_OUTBOX_STATES, type OutboxState } from '../../outbox/index.js';

export async function forgetDeletedContact(trx: Executor, p: { accountId: string; contactId: string; now: number }, _env: CommandEnv): Promise<void> {
  const written = await trx
    .selectFrom('personal_emails')
    .innerJoin('outbox', 'outbox.id', 'personal_emails.outbox_id')
    .select(['personal_emails.id', 'personal_emails.user_id', 'personal_emails.subject', 'outbox.id as outbox_id', 'outbox.state', 'outbox.meta'])
    .where('personal_emails.account_id', '=', p.accountId)
    .where('personal_emails.contact_id', '=', p.contactId)
    .execute();
  for (const e of written) {
    const meta = readJson('outbox.meta', e.meta, json.record, {});
    let cancelled = false;
    if ((UNSENT_OUTBOX_STATES as readonly OutboxState[]).includes(e.state)) {
      const r = await trx.updateTable('outbox').set({ state: 'cancelled' }).where('id', '=', e.outbox_id).where('state', 'in', UNSENT_OUTBOX_STATES).executeTakeFirst();
      cancelled = Number(r.numUpdatedRows) === 1;
    }
    if ('contactId' in meta) {
      const { contactId: _gone, ...rest } = meta;
      await trx.updateTable('outbox').set({ meta: JSON.stringify(rest) }).where('id', '=', e.outbox_id).execute();
    }
    if (cancelled) {
      await notifyUsers(trx, {
        accountId: p.accountId,
        userIds: [e.user_id],
        kind: 'personal_email.cancelled',
        message: `“${e.subject || '(no subject)'}” was not sent: the contact it was written to was deleted.`,
        data: { personalEmailId: e.id },
        at: p.now,
      });
    }
  }
  await trx.updateTable('personal_emails').set({ contact_id: null }).where('account_id', '=', p.accountId).where('contact_id', '=', p.contactId).execute();

  // Ids are [A-Za-z0-9_]: the LIKE finds a superset (`_` matches any one character); the list decides.
  const logged = await trx
    .selectFrom('personal_emails')
    .select(['id', 'log_contact_ids'])
    .where('account_id', '=', p.accountId)
    .where('log_contact_ids', 'like', `%"${p.contactId}"%`)
    .execute();
  for (const e of logged) {
    const ids = readJson('personal_emails.log_contact_ids', e.log_contact_ids, json.stringArray, []);
    if (!ids.includes(p.contactId)) continue;
    const left = ids.filter((id) => id !== p.contactId);
    await trx
      .updateTable('personal_emails')
      .set({ log_contact_ids: JSON.stringify(left), ...(left.length ? {} : { logged: 0 }) })
      .where('id', '=', e.id)
      .execute();
  }

  await trx.deleteFrom('logged_conversations').where('account_id', '=', p.accountId).where('contact_id', '=', p.contactId).execute();
}
