import { sql } from 'kysely';
import { decodeCursor, encodeCursor, fts5Phrases, likeContains, searchTokens } from '../domain/contacts.js';
import type { Actor, CommandEnv, Executor } from '../../../platform/context.js';
import { compiledOnce } from '../../../platform/database/compiled-once.js';
import { CONTACT_EMAILS_JSON, CONTACT_VIEW_COLUMNS, contactViews, emailsFromColumn, sqlitePageEmails, type ContactView, type ContactViewRow } from '../queries.js';
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

/** The values of a contact search, in the order `buildSearch` reads them (`arg(i)`); the LIKE patterns follow, one per word. */
type SearchValues = [accountId: string, ownerId: string, companyId: string, ftsPhrases: string, cursorKey: string | number, cursorId: string, ...likes: string[]];
interface SearchShape {
  /** SQLite or PostgreSQL (the LIKE is written for each). */
  dialect: 'sqlite' | 'postgres';
  /** Rows read (the page size and one): written in the text, see buildSearch. */
  limit: number;
  /** Words found through the trigram index first (SQLite). */
  indexed: boolean;
  words: number;
  owner: boolean;
  company: boolean;
  cursor: boolean;
  sort: 'name' | 'newest';
}
const searchQueries = new Map<string, (db: Executor, ...values: SearchValues) => Promise<ContactViewRow[]>>();

/** The search query of a shape, with each value taken from `arg` (see SearchValues). */
function buildSearch(db: Executor, s: SearchShape, arg: (i: number) => any) {
  // SQLite: words of three characters or more find their candidates through the trigram index of migration
  // 021 (the account then only filters them: `+account_id` keeps SQLite from walking the account's contacts
  // by name instead); the LIKE stays the exact condition. PostgreSQL's trigram index serves the LIKE itself.
  let q = db
    .selectFrom('contacts')
    .select(CONTACT_VIEW_COLUMNS)
    // PostgreSQL: the page's emails in the same statement (a second statement cost more in the client and the
    // server than the 50 lookups do; SQLite, without a round trip, reads them faster in a statement of their own).
    .$if(s.dialect === 'postgres', (qb) => qb.select(CONTACT_EMAILS_JSON.as('emails_json')))
    .where(s.indexed ? sql<boolean>`+${sql.ref('account_id')} = ${arg(0)}` : sql<boolean>`${sql.ref('account_id')} = ${arg(0)}`);
  if (s.owner) q = q.where('owner_id', '=', arg(1));
  if (s.company) q = q.where('company_id', '=', arg(2));
  if (s.indexed) q = q.where(sql<boolean>`${sql.ref('contacts.rowid')} in (select rowid from contacts_fts where contacts_fts match ${arg(3)})`);
  // Backslash is PostgreSQL's default LIKE escape (SQLite has none): there, naming it made every row of the
  // generic plan compute like_escape(pattern) again (search statement ~0.22 -> ~0.20 ms on the API bench).
  for (let i = 0; i < s.words; i++) q = q.where(s.dialect === 'postgres' ? sql<boolean>`${sql.ref('search_text')} like ${arg(6 + i)}` : sql<boolean>`${sql.ref('search_text')} like ${arg(6 + i)} escape '\\'`);
  if (s.cursor) {
    q =
      s.sort === 'name'
        ? q.where((eb) => eb.or([eb('sort_name', '>', arg(4)), eb.and([eb('sort_name', '=', arg(4)), eb('id', '>', arg(5))])]))
        : q.where((eb) => eb.or([eb('created_at', '<', arg(4)), eb.and([eb('created_at', '=', arg(4)), eb('id', '<', arg(5))])]));
  }
  q = s.sort === 'name' ? q.orderBy('sort_name').orderBy('id') : q.orderBy('created_at', 'desc').orderBy('id', 'desc');
  // The limit in the text, not bound: on SQLite a bound LIMIT made a statement several times as costly
  // (see the inbox list for PostgreSQL's side).
  return q.limit(sql.lit(s.limit));
}

/** One page of the account's contacts, searched and filtered, with keyset pagination. */
export async function listContacts(env: CommandEnv, actor: Actor, query: ListContactsQuery = {}): Promise<ContactPage> {
  const limit = pageSize(query.limit);
  const sort = query.sort ?? 'name';
  const tokens = searchTokens(query.q ?? '');
  const indexed = env.dialect === 'sqlite' ? tokens.filter((t) => [...t].length >= 3) : [];
  let cursor: [key: string | number, id: string] | null = null;
  if (query.cursor) {
    if (sort === 'name') {
      const c = decodeCursor(query.cursor, ['string', 'string', 'string'] as const);
      if (!c || c[0] !== 'name') throw invalidCursor();
      cursor = [c[1], c[2]];
    } else {
      const c = decodeCursor(query.cursor, ['string', 'number', 'string'] as const);
      if (!c || c[0] !== 'newest') throw invalidCursor();
      cursor = [c[1], c[2]];
    }
  }
  // Each shape (sort, filters, number of words, cursor) is built and compiled once, then run with its values.
  const shape: SearchShape = { dialect: env.dialect, limit: limit + 1, indexed: indexed.length > 0, words: tokens.length, owner: Boolean(query.ownerId), company: Boolean(query.companyId), cursor: cursor !== null, sort };
  const key = JSON.stringify(shape);
  let run = searchQueries.get(key);
  if (!run) {
    run = compiledOnce<SearchValues, ContactViewRow>(`contacts ${key}`, (db, arg) => buildSearch(db, shape, arg) as never);
    searchQueries.set(key, run);
  }
  const values: SearchValues = [
    actor.accountId,
    query.ownerId ?? '',
    query.companyId ?? '',
    indexed.length ? fts5Phrases(indexed) : '',
    cursor?.[0] ?? '',
    cursor?.[1] ?? '',
    ...tokens.map((t) => likeContains(t)),
  ];
  const rows = await run(env.db, ...values);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  const nextCursor = rows.length > limit && last ? encodeCursor(sort === 'name' ? ['name', last.sort_name, last.id] : ['newest', last.created_at, last.id]) : null;
  const emails =
    env.dialect === 'postgres'
      ? emailsFromColumn(actor.accountId, page as unknown as Array<ContactViewRow & { emails_json: string }>)
      : await sqlitePageEmails(
          env.db,
          actor.accountId,
          page.map((r) => r.id),
        );
  return { contacts: await contactViews(env.db, actor.accountId, page, emails), nextCursor };
}
