import { recordEvent } from '../../../platform/events.js';
import { splitName } from '../domain/contacts.js';
import { invalidRequest } from '../../../platform/errors.js';
import { isUniqueViolation } from '../../../platform/database/database.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import {
  assertEmailsFree,
  cleanName,
  companyForEmails,
  contactViewById,
  emailsOf,
  loadCompany,
  loadContact,
  normaliseEmails,
  refreshContactSearch,
  resolveOwner,
  type ContactView,
} from '../queries.js';
import { crmPolicies } from '../policies.js';
import { contactTimeZone } from './createContact.js';
import { authorize } from '../../../platform/authorize.js';

export interface UpdateContactInput {
  firstName?: string;
  lastName?: string;
  /** A full name, split into first and last name (ignored when firstName or lastName is given). */
  name?: string;
  /**
   * The complete new list of emails (replaces the old list). Emails kept keep their bounce information.
   * The primary email stays primary if kept; otherwise the first of the list becomes primary.
   */
  emails?: string[];
  /** Makes one of the contact's emails (or of the new `emails`) the primary one. */
  primaryEmail?: string;
  /** A user of the account, or null for no owner. */
  ownerId?: string | null;
  /** A company of the account, or null for none. */
  companyId?: string | null;
  /** The contact's IANA time zone, or null to clear it. */
  timeZone?: string | null;
}

/**
 * Changes a contact. Any user with a paid or free seat may edit any contact of the account. A contact
 * without a company is linked by domain when its emails change. One transaction, one audit event.
 */
export async function updateContact(env: CommandEnv, actor: Actor, contactId: string, input: UpdateContactInput): Promise<ContactView> {
  authorize(actor, crmPolicies.write);
  let firstName = cleanName(input.firstName, 'firstName');
  let lastName = cleanName(input.lastName, 'lastName');
  if (firstName === undefined && lastName === undefined && input.name !== undefined) {
    ({ firstName, lastName } = splitName(input.name));
  }
  const newEmails = input.emails === undefined ? undefined : normaliseEmails(input.emails);
  const primaryKey = input.primaryEmail === undefined ? undefined : normaliseEmails([input.primaryEmail])[0]!.key;
  const timeZone = input.timeZone === undefined ? undefined : contactTimeZone(input.timeZone);
  const now = env.now();
  try {
    await env.db.transaction().execute(async (trx) => {
      const contact = await loadContact(trx, actor.accountId, contactId);
      const patch: Record<string, unknown> = {};
      const changed: string[] = [];
      if (firstName !== undefined && firstName !== contact.first_name) (patch.first_name = firstName), changed.push('firstName');
      if (lastName !== undefined && lastName !== contact.last_name) (patch.last_name = lastName), changed.push('lastName');

      const current = (await emailsOf(trx, actor.accountId, [contact.id])).get(contact.id) ?? [];
      let emailsChanged = false;
      let finalEmailCount = current.length;
      if (newEmails !== undefined || primaryKey !== undefined) {
        const wanted = newEmails ?? current.map((e) => ({ email: e.email, key: e.email_key }));
        if (primaryKey !== undefined && !wanted.some((e) => e.key === primaryKey)) {
          throw invalidRequest(`${input.primaryEmail} is not one of this contact's emails. Add it to emails first.`, { field: 'primaryEmail' });
        }
        await assertEmailsFree(trx, actor.accountId, wanted.map((e) => e.key), contact.id);
        const oldPrimary = current.find((e) => e.is_primary === 1)?.email_key;
        const primary = primaryKey ?? (oldPrimary && wanted.some((e) => e.key === oldPrimary) ? oldPrimary : wanted[0]?.key);
        const removed = current.filter((e) => !wanted.some((w) => w.key === e.email_key)).map((e) => e.email_key);
        if (removed.length) await trx.deleteFrom('contact_emails').where('account_id', '=', actor.accountId).where('contact_id', '=', contact.id).where('email_key', 'in', removed).execute();
        for (const w of wanted) {
          const old = current.find((e) => e.email_key === w.key);
          const isPrimary = w.key === primary ? 1 : 0;
          if (!old) {
            await trx.insertInto('contact_emails').values({ account_id: actor.accountId, email_key: w.key, email: w.email, contact_id: contact.id, is_primary: isPrimary, bounced_at: null, bounce_reason: null }).execute();
          } else if (old.is_primary !== isPrimary || old.email !== w.email) {
            await trx.updateTable('contact_emails').set({ is_primary: isPrimary, email: w.email }).where('account_id', '=', actor.accountId).where('email_key', '=', w.key).execute();
          } else continue;
          emailsChanged = true;
        }
        if (removed.length) emailsChanged = true;
        if (emailsChanged) changed.push(newEmails !== undefined ? 'emails' : 'primaryEmail');
        finalEmailCount = wanted.length;
        if (input.companyId === undefined && contact.company_id === null && emailsChanged) {
          const byDomain = await companyForEmails(trx, actor.accountId, [primary, ...wanted.map((e) => e.key).filter((k) => k !== primary)].filter((k): k is string => !!k));
          if (byDomain) (patch.company_id = byDomain), changed.push('companyId');
        }
      }
      const finalFirst = (patch.first_name as string | undefined) ?? contact.first_name;
      const finalLast = (patch.last_name as string | undefined) ?? contact.last_name;
      if (!finalFirst && !finalLast && !finalEmailCount) {
        throw invalidRequest('A contact needs a name or an email address; this change would leave it with neither.', { field: 'name' });
      }
      if (input.ownerId !== undefined && input.ownerId !== contact.owner_id) {
        patch.owner_id = input.ownerId === null ? null : await resolveOwner(trx, actor.accountId, input.ownerId);
        changed.push('ownerId');
      }
      if (input.companyId !== undefined && input.companyId !== contact.company_id) {
        patch.company_id = input.companyId === null ? null : (await loadCompany(trx, actor.accountId, input.companyId)).id;
        changed.push('companyId');
      }
      if (timeZone !== undefined && timeZone !== (contact.time_zone ?? null)) (patch.time_zone = timeZone), changed.push('timeZone');
      if (!changed.length) return;
      await trx
        .updateTable('contacts')
        .set({ ...patch, updated_at: now })
        .where('id', '=', contact.id)
        .execute();
      await refreshContactSearch(trx, actor.accountId, [contact.id]);
      await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'contact.updated', targetType: 'contact', targetId: contact.id, data: { changed }, at: now });
      await recordEvent(trx, { accountId: actor.accountId, type: 'contact.updated', subject: { type: 'contact', id: contact.id }, data: { contactId: contact.id, changed }, at: now });
    });
  } catch (err) {
    if (isUniqueViolation(err) && newEmails) await assertEmailsFree(env.db, actor.accountId, newEmails.map((e) => e.key), contactId);
    throw err;
  }
  return contactViewById(env.db, actor.accountId, contactId);
}
