import type { Executor } from '../../../platform/context.js';
import { chunks } from '../queries.js';

export interface ContactEmailMatch {
  /** The email key that matched (as passed in). */
  emailKey: string;
  /** The address as stored on the contact, for display. */
  email: string;
  contactId: string;
  firstName: string;
  lastName: string;
  ownerId: string | null;
  companyId: string | null;
  isPrimary: boolean;
  bouncedAt: number | null;
}

/**
 * The contacts of an account that have any of the given email keys (`addressKey(x).key`), for mail
 * matching: who is this message from / to? Keys nobody has are simply absent from the result. Runs on
 * the executor it is given, so callers can use it inside their transaction.
 */
export async function findContactsByEmail(db: Executor, accountId: string, emailKeys: readonly string[]): Promise<ContactEmailMatch[]> {
  const keys = [...new Set(emailKeys)];
  const out: ContactEmailMatch[] = [];
  for (const part of chunks(keys)) {
    if (!part.length) continue;
    const rows = await db
      .selectFrom('contact_emails')
      .innerJoin('contacts', 'contacts.id', 'contact_emails.contact_id')
      .select([
        'contact_emails.email_key',
        'contact_emails.email',
        'contact_emails.is_primary',
        'contact_emails.bounced_at',
        'contacts.id',
        'contacts.first_name',
        'contacts.last_name',
        'contacts.owner_id',
        'contacts.company_id',
      ])
      .where('contact_emails.account_id', '=', accountId)
      .where('contacts.account_id', '=', accountId)
      .where('contact_emails.email_key', 'in', part)
      .execute();
    for (const r of rows) {
      out.push({
        emailKey: r.email_key,
        email: r.email,
        contactId: r.id,
        firstName: r.first_name,
        lastName: r.last_name,
        ownerId: r.owner_id,
        companyId: r.company_id,
        isPrimary: r.is_primary === 1,
        bouncedAt: r.bounced_at,
      });
    }
  }
  const order = new Map(keys.map((k, i) => [k, i]));
  return out.sort((a, b) => order.get(a.emailKey)! - order.get(b.emailKey)!);
}
