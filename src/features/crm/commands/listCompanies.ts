import { sql } from 'kysely';
import { decodeCursor, encodeCursor, likeContains, searchTokens } from '../domain/contacts.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { companyViews, type CompanyView } from '../queries.js';
import { invalidCursor, pageSize } from '../../../platform/pagination.js';

/** One page of the account's companies by name, searched by name and domain, with keyset pagination. */
export async function listCompanies(env: CommandEnv, actor: Actor, query: { q?: string; limit?: number; cursor?: string } = {}): Promise<{ companies: CompanyView[]; nextCursor: string | null }> {
  const limit = pageSize(query.limit);
  let q = env.db.selectFrom('companies').selectAll().where('account_id', '=', actor.accountId);
  for (const token of searchTokens(query.q ?? '')) q = q.where(sql<boolean>`${sql.ref('search_text')} like ${likeContains(token)} escape '\\'`);
  if (query.cursor) {
    const c = decodeCursor(query.cursor, ['string', 'string', 'string'] as const);
    if (!c || c[0] !== 'companies') throw invalidCursor();
    const [, key, id] = c;
    q = q.where((eb) => eb.or([eb('name_key', '>', key), eb.and([eb('name_key', '=', key), eb('id', '>', id)])]));
  }
  const rows = await q.orderBy('name_key').orderBy('id').limit(limit + 1).execute();
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    companies: await companyViews(env.db, actor.accountId, page),
    nextCursor: rows.length > limit && last ? encodeCursor(['companies', last.name_key, last.id]) : null,
  };
}
