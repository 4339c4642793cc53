/**
 * Writes a batch of tracking hits (opens and clicks collected by the tracking routes) in one transaction:
 * each hit is classified (HEAD, too soon after sending, scanner agents and networks, Apple's privacy
 * proxy), clicks are checked for bursts over every link (the whole burst is flagged, earlier hits too),
 * and a batched digest is scheduled for each sender. Flagged hits are kept, marked, and left out of counts,
 * timelines and notifications. Hits for unknown emails are dropped.
 */
import { BOT_REASONS, classifyHit, clickBurst, DEFAULT_BOT_RULES, type BotRules } from '../domain/bot.js';
import { randomUUID } from 'node:crypto';
import type { CommandEnv } from '../../../platform/context.js';
import { scheduleTrackingDigest } from './processTrackingHits.js';
import { json, readJson } from '../../../platform/database/json.js';

export interface IncomingHit {
  kind: 'open' | 'click';
  personalEmailId: string;
  linkId?: string | null;
  at: number;
  method: string;
  ip: string | null;
  userAgent: string | null;
}

/**
 * Hit ids: time-ordered like `newId` (appends stay at the end of the primary-key index) but drawing on
 * randomUUID's buffered entropy: `newId`'s randomBytes call per id was a third of the cost of a batch.
 */
function hitId(): string {
  return `hit_${Date.now().toString(36).padStart(9, '0')}${randomUUID().replace(/-/g, '').slice(0, 16)}`;
}

export async function recordTrackingHits(env: CommandEnv, hits: readonly IncomingHit[], rules: BotRules = DEFAULT_BOT_RULES): Promise<{ recorded: number; flagged: number }> {
  if (!hits.length) return { recorded: 0, flagged: 0 };
  const ids = [...new Set(hits.map((h) => h.personalEmailId))];
  return env.db.transaction().execute(async (trx) => {
    const emails = new Map<string, { account_id: string; user_id: string; link_count: number; sent_at: number | null; track_opens: number; track_clicks: number }>();
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await trx
        .selectFrom('personal_emails')
        .innerJoin('outbox', 'outbox.id', 'personal_emails.outbox_id')
        .select(['personal_emails.id', 'personal_emails.account_id', 'personal_emails.user_id', 'personal_emails.link_count', 'personal_emails.track_opens', 'personal_emails.track_clicks', 'outbox.sent_at'])
        .where('personal_emails.id', 'in', ids.slice(i, i + 500))
        .execute();
      for (const r of rows) emails.set(r.id, r);
    }
    const rows = [];
    let flagged = 0;
    for (const h of hits) {
      const e = emails.get(h.personalEmailId);
      if (!e) continue;
      const v = classifyHit({ kind: h.kind, method: h.method, userAgent: h.userAgent, ip: h.ip, at: h.at, sentAt: e.sent_at }, rules);
      if (v.flagged) flagged += 1;
      rows.push({
        id: hitId(),
        account_id: e.account_id,
        personal_email_id: h.personalEmailId,
        link_id: h.linkId ?? null,
        kind: h.kind,
        occurred_at: h.at,
        method: h.method.toUpperCase().slice(0, 10),
        ip: h.ip?.slice(0, 64) ?? null,
        user_agent: h.userAgent?.slice(0, 500) ?? null,
        flagged: v.flagged ? 1 : 0,
        flag_reasons: JSON.stringify(v.reasons),
        implied_by: null,
        processed_at: null,
      });
    }
    for (let i = 0; i < rows.length; i += 200) await trx.insertInto('tracking_hits').values(rows.slice(i, i + 200)).execute();

    // Bursts: every link clicked within seconds. One grouped query finds the emails whose recent clicks
    // cover enough distinct links to be a burst at all; only those are looked at click by click.
    const since = Math.min(...rows.filter((r) => r.kind === 'click').map((r) => r.occurred_at)) - rules.burstWindowMs;
    const candidates = [...new Set(rows.filter((r) => r.kind === 'click' && emails.get(r.personal_email_id)!.link_count >= 2).map((r) => r.personal_email_id))];
    const clicked: string[] = [];
    for (let i = 0; i < candidates.length; i += 500) {
      const spread = await trx
        .selectFrom('tracking_hits')
        .select((eb) => ['personal_email_id', eb.fn.count<number>('link_id').distinct().as('links')])
        .where('personal_email_id', 'in', candidates.slice(i, i + 500))
        .where('kind', '=', 'click')
        .where('occurred_at', '>=', since)
        .groupBy('personal_email_id')
        .execute();
      for (const s of spread) if (Number(s.links) >= Math.min(rules.burstLinks, emails.get(s.personal_email_id)!.link_count)) clicked.push(s.personal_email_id);
    }
    for (const id of clicked) {
      const e = emails.get(id)!;
      const recent = await trx
        .selectFrom('tracking_hits')
        .select(['id', 'link_id', 'occurred_at', 'flagged', 'flag_reasons'])
        .where('personal_email_id', '=', id)
        .where('kind', '=', 'click')
        .where('occurred_at', '>=', since)
        .execute();
      const burst = new Set(clickBurst(recent.map((r) => ({ id: r.id, linkId: r.link_id ?? '', at: Number(r.occurred_at) })), e.link_count, rules));
      for (const r of recent) {
        if (!burst.has(r.id)) continue;
        const reasons = readJson('tracking_hits.flag_reasons', r.flag_reasons, json.arrayOf(json.oneOf(BOT_REASONS)), []);
        if (reasons.includes('all_links_clicked')) continue;
        if (!r.flagged) flagged += 1;
        await trx.updateTable('tracking_hits').set({ flagged: 1, flag_reasons: JSON.stringify([...reasons, 'all_links_clicked']) }).where('id', '=', r.id).execute();
      }
    }
    for (const userId of new Set(rows.map((r) => emails.get(r.personal_email_id)!.user_id))) await scheduleTrackingDigest(trx, env, userId);
    return { recorded: rows.length, flagged };
  });
}
