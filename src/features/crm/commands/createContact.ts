import { recordEvent } from '../../../platform/events.js';
import { checkTimeZone, splitName } from '../domain/contacts.js';
import { AppError, invalidRequest } from '../../../platform/errors.js';
import { isUniqueViolation } from '../../../platform/database/database.js';
import { newId } from '../../../platform/database/ids.js';
import { appendTimelineEvent } from './appendTimelineEvent.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import {
  assertEmailsFree,
  cleanName,
  companyForEmails,
  contactDerived,
  contactViewById,
  loadCompany,
  normaliseEmails,
  resolveOwner,
  type ContactView,
} from '../queries.js';
import { crmPolicies } from '../policies.js';
import { authorize } from '../../../platform/authorize.js';

export interface CreateContactInput {
  firstName?: string;
  lastName?: string;
  /** A full name, split into first and last name when neither is given ("Lee, Ann" works too). */
  name?: string;
  /** The contact's emails; the first is the primary one unless `primaryEmail` says otherwise. */
  emails?: string[];
  primaryEmail?: string;
  /** A user of the account. Omitted: the actor. null: no owner. */
  ownerId?: string | null;
  /** A company of the account. Omitted: the company whose domain matches an email, if any. null: none. */
  companyId?: string | null;
  /** Where the contact came from: 'manual' (default), or the feature that created it ('email', ...). */
  source?: string;
  /** The contact's IANA time zone (sequences schedule in it), or null/omitted when unknown. */
  timeZone?: string | null;
}

/** A contact's time zone from the API: null clears it; a name that is not an IANA zone is 400 invalid_time_zone. */
export function contactTimeZone(input: string | null): string | null {
  if (input === null || input.trim() === '') return null;
  const r = checkTimeZone(input);
  if (!r.ok) throw new AppError('invalid_time_zone', 400, r.message, { field: 'timeZone', value: input });
  return r.zone;
}

/**
 * Creates a contact. An email belongs to one contact per account (409 contact_email_taken, naming the
 * contact that has it). Appends `contact_created` to its timeline and an audit event, in one transaction.
 */
export async function createContact(env: CommandEnv, actor: Actor, input: CreateContactInput): Promise<ContactView> {
  authorize(actor, crmPolicies.write);
  let firstName = cleanName(input.firstName, 'firstName') ?? '';
  let lastName = cleanName(input.lastName, 'lastName') ?? '';
  if (!firstName && !lastName && input.name) ({ firstName, lastName } = splitName(input.name));
  firstName = cleanName(firstName, 'firstName')!;
  lastName = cleanName(lastName, 'lastName')!;
  let emails = normaliseEmails(input.emails ?? []);
  if (input.primaryEmail !== undefined) {
    const [primary] = normaliseEmails([input.primaryEmail]);
    if (!emails.some((e) => e.key === primary!.key)) emails = [primary!, ...emails];
    else emails = [emails.find((e) => e.key === primary!.key)!, ...emails.filter((e) => e.key !== primary!.key)];
  }
  if (!firstName && !lastName && !emails.length) throw invalidRequest('A contact needs a name or an email address.', { field: 'name' });
  const source = input.source ?? 'manual';
  const timeZone = input.timeZone === undefined ? null : contactTimeZone(input.timeZone);
  const now = env.now();
  const id = newId('con');
  const keys = emails.map((e) => e.key);
  try {
    await env.db.transaction().execute(async (trx) => {
      await assertEmailsFree(trx, actor.accountId, keys);
      const ownerId = input.ownerId === undefined ? actor.user.id : input.ownerId === null ? null : await resolveOwner(trx, actor.accountId, input.ownerId);
      const company = input.companyId ? await loadCompany(trx, actor.accountId, input.companyId) : null;
      const companyId = input.companyId === undefined ? await companyForEmails(trx, actor.accountId, keys) : (company?.id ?? null);
      const companyName = company?.name ?? (companyId ? (await trx.selectFrom('companies').select('name').where('id', '=', companyId).where('account_id', '=', actor.accountId).executeTakeFirst())?.name ?? null : null);
      await trx
        .insertInto('contacts')
        .values({
          id,
          account_id: actor.accountId,
          first_name: firstName,
          last_name: lastName,
          owner_id: ownerId,
          company_id: companyId,
          source,
          time_zone: timeZone,
          created_at: now,
          updated_at: now,
          ...contactDerived({ firstName, lastName, emails, companyName }),
        })
        .execute();
      if (emails.length) {
        await trx
          .insertInto('contact_emails')
          .values(emails.map((e, i) => ({ account_id: actor.accountId, email_key: e.key, email: e.email, contact_id: id, is_primary: i === 0 ? 1 : 0, bounced_at: null, bounce_reason: null })))
          .execute();
      }
      await appendTimelineEvent(trx, { accountId: actor.accountId, contactId: id, kind: 'contact_created', occurredAt: now, actorUserId: actor.user.id, refType: 'contact', refId: id, data: { source } });
      await recordAudit(trx, {
        accountId: actor.accountId,
        actorUserId: actor.user.id,
        action: 'contact.created',
        targetType: 'contact',
        targetId: id,
        data: { source, emails: emails.length, ownerId, companyId },
        at: now,
      });
      await recordEvent(trx, { accountId: actor.accountId, type: 'contact.created', subject: { type: 'contact', id }, data: { contactId: id, ownerId, companyId, source }, at: now });
    });
  } catch (err) {
    // Another request took one of the emails between our check and our insert: say who has it.
    if (isUniqueViolation(err)) await assertEmailsFree(env.db, actor.accountId, keys);
    throw err;
  }
  return contactViewById(env.db, actor.accountId, id);
}
