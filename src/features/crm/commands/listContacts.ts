import { sql } from 'kysely';
import { decodeCursor, encodeCursor, fts5Phrases, likeContains, searchTokens } from '../domain/contacts.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { CONTACT_VIEW_COLUMNS, contactViews, type ContactView } from '../queries.js';
import { invalidCursor, pageSize } from '../../../platform/pagination.js';

export interface ListContactsQuery {
  /** Words that must all appear in the contact's names, emails or company name (case and accents ignored). */
  q?: string;
  ownerId?: string;
  companyId?: string;
  /** `name` (last name, then first name; default) or `newest` (most recently created first). */
  sort?: 'name' | 'newest';
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
}

export interface ContactPage {
  contacts: ContactView[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** One page of the account's contacts, searched and filtered, with keyset pagination. */
export async function listContacts(env: CommandEnv, actor: Actor, query: ListContactsQuery = {}): Promise<ContactPage> {
  const limit = pageSize(query.limit);
  const sort = query.sort ?? 'name';
  const tokens = searchTokens(query.q ?? '');
  // SQLite: words of three characters or more find their candidates through the trigram index of migration
  // 021 (the account then only filters them: `+account_id` keeps SQLite from walking the account's contacts
  // by name instead); the LIKE stays the exact condition. PostgreSQL's trigram index serves the LIKE itself.
  const indexed = env.dialect === 'sqlite' ? tokens.filter((t) => [...t].length >= 3) : [];
  let q = env.db
    .selectFrom('contacts')
    .select(CONTACT_VIEW_COLUMNS)
    .where(indexed.length ? sql<boolean>`+${sql.ref('account_id')} = ${actor.accountId}` : sql<boolean>`${sql.ref('account_id')} = ${actor.accountId}`);
  if (query.ownerId) q = q.where('owner_id', '=', query.ownerId);
  if (query.companyId) q = q.where('company_id', '=', query.companyId);
  if (indexed.length) q = q.where(sql<boolean>`${sql.ref('contacts.rowid')} in (select rowid from contacts_fts where contacts_fts match ${fts5Phrases(indexed)})`);
  for (const token of tokens) q = q.where(sql<boolean>`${sql.ref('search_text')} like ${likeContains(token)} escape '\\'`);
  if (query.cursor) {
    if (sort === 'name') {
      const c = decodeCursor(query.cursor, ['string', 'string', 'string'] as const);
      if (!c || c[0] !== 'name') throw invalidCursor();
      const [, name, id] = c;
      q = q.where((eb) => eb.or([eb('sort_name', '>', name), eb.and([eb('sort_name', '=', name), eb('id', '>', id)])]));
    } else {
      const c = decodeCursor(query.cursor, ['string', 'number', 'string'] as const);
      if (!c || c[0] !== 'newest') throw invalidCursor();
      const [, at, id] = c;
      q = q.where((eb) => eb.or([eb('created_at', '<', at), eb.and([eb('created_at', '=', at), eb('id', '<', id)])]));
    }
  }
  q = sort === 'name' ? q.orderBy('sort_name').orderBy('id') : q.orderBy('created_at', 'desc').orderBy('id', 'desc');
  const rows = await q.limit(limit + 1).execute();
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  const nextCursor = rows.length > limit && last ? encodeCursor(sort === 'name' ? ['name', last.sort_name, last.id] : ['newest', last.created_at, last.id]) : null;
  return { contacts: await contactViews(env.db, actor.accountId, page), nextCursor };
}
