import type { Actor, CommandEnv } from '../../../platform/context.js';
import { loadOwnPersonalEmail } from '../queries.js';
import { json, readJson } from '../../../platform/database/json.js';

/**
 * The opens and clicks of one of the actor's emails, newest first. Hits flagged as bots or prefetches
 * (with the reasons) are left out unless `includeFlagged`.
 */
export async function listTrackingHits(env: CommandEnv, actor: Actor, personalEmailId: string, q: { includeFlagged?: boolean } = {}) {
  const email = await loadOwnPersonalEmail(env.db, actor, personalEmailId);
  let query = env.db
    .selectFrom('tracking_hits')
    .leftJoin('tracking_links', 'tracking_links.id', 'tracking_hits.link_id')
    .selectAll('tracking_hits')
    .select(['tracking_links.url as url'])
    .where('tracking_hits.personal_email_id', '=', email.id);
  if (!q.includeFlagged) query = query.where('tracking_hits.flagged', '=', 0);
  const rows = await query.orderBy('tracking_hits.occurred_at', 'desc').limit(500).execute();
  return {
    hits: rows.map((h) => ({
      id: h.id,
      kind: h.kind,
      at: new Date(h.occurred_at).toISOString(),
      url: h.url ?? null,
      method: h.method,
      userAgent: h.user_agent,
      flagged: h.flagged === 1,
      flagReasons: readJson('tracking_hits.flag_reasons', h.flag_reasons, json.stringArray, []),
      impliedBy: h.implied_by,
    })),
  };
}
