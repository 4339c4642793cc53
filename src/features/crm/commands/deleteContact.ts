import { recordEvent } from '../../../platform/events.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv, Executor } from '../../../platform/context.js';
import { loadContact } from '../queries.js';
import { crmPolicies } from '../policies.js';
import { authorize } from '../../../platform/authorize.js';

/**
 * Work other features must do, in the same transaction, before a contact row disappears (clear their
 * references to it).
 */
export type ContactDeletionHook = (trx: Executor, p: { accountId: string; contactId: string; now: number }, env: CommandEnv) => Promise<void>;

declare module '../../../platform/reactions.js' {
  interface Reactions {
    /** Run before a contact is deleted, inside that transaction: clear every reference to it. */
    contactDeleting: readonly ContactDeletionHook[];
  }
}

/**
 * Deletes a contact for good: its emails, its timeline and the contact itself (an erasure, not an archive:
 * the addresses become free for a new contact at once). Admins may delete any contact; other users with a
 * paid or free seat the contacts they own and contacts without an owner. The audit event keeps no personal
 * data (no names, no addresses), only counts.
 */
export async function deleteContact(env: CommandEnv, actor: Actor, contactId: string): Promise<void> {
  authorize(actor, crmPolicies.write);
  const now = env.now();
  await env.db.transaction().execute(async (trx) => {
    const contact = await loadContact(trx, actor.accountId, contactId);
    authorize(actor, crmPolicies.deleteContact, { ownerId: contact.owner_id });
    for (const hook of env.reactions.contactDeleting) await hook(trx, { accountId: actor.accountId, contactId: contact.id, now }, env);
    const events = await trx.deleteFrom('timeline_events').where('account_id', '=', actor.accountId).where('contact_id', '=', contact.id).executeTakeFirst();
    const emails = await trx.deleteFrom('contact_emails').where('account_id', '=', actor.accountId).where('contact_id', '=', contact.id).executeTakeFirst();
    await trx.deleteFrom('contacts').where('id', '=', contact.id).where('account_id', '=', actor.accountId).execute();
    await recordAudit(trx, {
      accountId: actor.accountId,
      actorUserId: actor.user.id,
      action: 'contact.deleted',
      targetType: 'contact',
      targetId: contact.id,
      data: { emails: Number(emails.numDeletedRows), timelineEvents: Number(events.numDeletedRows) },
      at: now,
    });
    await recordEvent(trx, { accountId: actor.accountId, type: 'contact.deleted', subject: { type: 'contact', id: contact.id }, data: { contactId: contact.id }, at: now });
  });
}
