/**
 * The batched follow-up of tracking hits for one sender (a background job, debounced per user): once a
 * hit has settled (no burst can still flag it), unflagged opens and clicks go on the timelines of the
 * contacts the email is logged to (`email_opened`, `email_clicked`), a click implies an open, and the
 * sender gets ONE in-app notification summing up what happened since the last one. Flagged hits are only
 * marked processed. Idempotent: hits are claimed by `processed_at`, timeline events by their ref.
 */
import { enqueue } from '../../../platform/jobs/queue.js';
import { newId } from '../../../platform/database/ids.js';
import { appendTimelineEvent } from '../../crm/index.js';
import type { CommandEnv, Executor } from '../../../platform/context.js';
import { notifyUsers } from '../../notifications/index.js';
import { json, readJson } from '../../../platform/database/json.js';
import { recordEvent } from '../../../platform/events.js';

export const TRACKING_DIGEST_JOB = 'personal_email.tracking_digest';

export async function scheduleTrackingDigest(trx: Executor, env: CommandEnv, userId: string): Promise<void> {
  await enqueue(trx, env.now(), { queue: 'default', kind: TRACKING_DIGEST_JOB, payload: { userId }, runAt: env.now() + env.settings.trackingDigestMs, dedupeKey: `tracking-digest:${userId}` });
}

interface Line {
  name: string;
  subject: string;
  opens: number;
  clicks: number;
}

/** Processes the user's settled hits; returns how many are still waiting to settle. */
export async function processTrackingHits(env: CommandEnv, userId: string, opts: { settleMs?: number } = {}): Promise<{ processed: number; pending: number; notified: boolean }> {
  const settle = opts.settleMs ?? env.settings.trackingSettleMs;
  return env.db.transaction().execute(async (trx) => {
    const now = env.now();
    const hits = await trx
      .selectFrom('tracking_hits')
      .innerJoin('personal_emails', 'personal_emails.id', 'tracking_hits.personal_email_id')
      .leftJoin('tracking_links', 'tracking_links.id', 'tracking_hits.link_id')
      .select([
        'tracking_hits.id',
        'tracking_hits.kind',
        'tracking_hits.flagged',
        'tracking_hits.occurred_at',
        'tracking_hits.implied_by',
        'tracking_hits.personal_email_id',
        'personal_emails.account_id',
        'personal_emails.subject',
        'personal_emails.contact_id',
        'personal_emails.conversation_id',
        'personal_emails.logged',
        'personal_emails.log_contact_ids',
        'tracking_links.url',
      ])
      .where('personal_emails.user_id', '=', userId)
      .where('tracking_hits.processed_at', 'is', null)
      .orderBy('tracking_hits.occurred_at')
      .limit(5000)
      .execute();
    const ready = hits.filter((h) => Number(h.occurred_at) <= now - settle);
    const pending = hits.length - ready.length;
    if (!ready.length) return { processed: 0, pending, notified: false };

    const lines = new Map<string, Line>();
    const contactNames = new Map<string, string>();
    const nameOf = async (contactId: string) => {
      if (!contactNames.has(contactId)) {
        const c = await trx.selectFrom('contacts').select(['first_name', 'last_name']).where('id', '=', contactId).executeTakeFirst();
        const e = await trx.selectFrom('contact_emails').select('email').where('contact_id', '=', contactId).orderBy('is_primary', 'desc').executeTakeFirst();
        contactNames.set(contactId, c ? [c.first_name, c.last_name].filter(Boolean).join(' ') || e?.email || 'A contact' : 'A contact');
      }
      return contactNames.get(contactId)!;
    };
    const openedEmails = new Set<string>();
    const webhookEvents = new TrackingEvents();
    const appendOpen = async (h: (typeof hits)[number], hitId: string, implied: string | null) => {
      if (h.logged !== 1) return;
      for (const contactId of readJson('personal_emails.log_contact_ids', h.log_contact_ids, json.stringArray, [])) {
        const alive = await trx.selectFrom('contacts').select('id').where('id', '=', contactId).executeTakeFirst();
        if (!alive) continue;
        await appendTimelineEvent(trx, {
          accountId: h.account_id,
          contactId,
          kind: 'email_opened',
          occurredAt: Number(h.occurred_at),
          actorUserId: userId,
          refType: 'tracking_hit',
          refId: hitId,
          data: { personalEmailId: h.personal_email_id, subject: h.subject, ...(implied ? { impliedBy: implied } : {}) },
        });
      }
    };
    for (const h of ready) {
      if (h.flagged) continue;
      const line = lines.get(h.personal_email_id) ?? { name: h.contact_id ? await nameOf(h.contact_id) : 'A deleted contact', subject: h.subject, opens: 0, clicks: 0 };
      lines.set(h.personal_email_id, line);
      if (h.kind === 'open') {
        line.opens += 1;
        openedEmails.add(h.personal_email_id);
        webhookEvents.add(h, 'open', h.implied_by);
        await appendOpen(h, h.id, h.implied_by);
        continue;
      }
      line.clicks += 1;
      webhookEvents.add(h, 'click', null);
      if (h.logged === 1) {
        for (const contactId of readJson('personal_emails.log_contact_ids', h.log_contact_ids, json.stringArray, [])) {
          const alive = await trx.selectFrom('contacts').select('id').where('id', '=', contactId).executeTakeFirst();
          if (!alive) continue;
          await appendTimelineEvent(trx, {
            accountId: h.account_id,
            contactId,
            kind: 'email_clicked',
            occurredAt: Number(h.occurred_at),
            actorUserId: userId,
            refType: 'tracking_hit',
            refId: h.id,
            data: { personalEmailId: h.personal_email_id, subject: h.subject, url: h.url },
          });
        }
      }
      // A click implies an open.
      if (!openedEmails.has(h.personal_email_id)) {
        const open = await trx.selectFrom('tracking_hits').select('id').where('personal_email_id', '=', h.personal_email_id).where('kind', '=', 'open').where('flagged', '=', 0).executeTakeFirst();
        openedEmails.add(h.personal_email_id);
        if (!open) {
          const id = newId('hit');
          await trx
            .insertInto('tracking_hits')
            .values({ id, account_id: h.account_id, personal_email_id: h.personal_email_id, link_id: null, kind: 'open', occurred_at: Number(h.occurred_at), method: 'implied', ip: null, user_agent: null, flagged: 0, flag_reasons: '[]', implied_by: 'click', processed_at: now })
            .execute();
          webhookEvents.add(h, 'open', 'click');
          await appendOpen(h, id, 'click');
          line.opens += 1;
        }
      }
    }
    const ids = ready.map((h) => h.id);
    for (let i = 0; i < ids.length; i += 500) await trx.updateTable('tracking_hits').set({ processed_at: now }).where('id', 'in', ids.slice(i, i + 500)).execute();

    let notified = false;
    if (lines.size) {
      const parts = [...lines.values()].map((l) => {
        const what = [l.opens ? `opened${l.opens > 1 ? ` ${l.opens} times` : ''}` : '', l.clicks ? `clicked ${l.clicks === 1 ? 'a link' : `${l.clicks} links`}` : ''].filter(Boolean).join(' and ');
        return `${l.name} ${what} in “${l.subject}”`;
      });
      const message = parts.length <= 3 ? `${parts.join('; ')}.` : `${parts.slice(0, 3).join('; ')}; and ${parts.length - 3} more.`;
      const accountId = ready[0]!.account_id;
      await notifyUsers(trx, {
        accountId,
        userIds: [userId],
        kind: 'email_tracking',
        message,
        data: { emails: [...lines.entries()].map(([id, l]) => ({ personalEmailId: id, opens: l.opens, clicks: l.clicks })) },
        at: now,
      });
      notified = true;
    }
    await webhookEvents.record(trx, now);
    return { processed: ready.length, pending, notified };
  });
}

interface Tally {
  accountId: string;
  personalEmailId: string;
  conversationId: string | null;
  contactId: string | null;
  kind: 'open' | 'click';
  url: string | null;
  count: number;
  firstAt: number;
  lastAt: number;
  impliedBy: Set<string | null>;
}

/**
 * The webhook events of one digest (email.opened, email.clicked), coalesced: one per email for its opens
 * and one per email and link for its clicks, so a burst of hits is one event. Only settled, unflagged
 * hits get here (bots and prefetches are flagged); opens are marked indicative.
 */
class TrackingEvents {
  private readonly tallies = new Map<string, Tally>();

  add(h: { account_id: string; personal_email_id: string; conversation_id: string | null; contact_id: string | null; occurred_at: number | string; url: string | null }, kind: 'open' | 'click', impliedBy: string | null): void {
    const url = kind === 'click' ? h.url : null;
    const key = `${h.personal_email_id}\n${kind}\n${url ?? ''}`;
    const at = Number(h.occurred_at);
    const t = this.tallies.get(key) ?? { accountId: h.account_id, personalEmailId: h.personal_email_id, conversationId: h.conversation_id, contactId: h.contact_id, kind, url, count: 0, firstAt: at, lastAt: at, impliedBy: new Set() };
    t.count += 1;
    t.firstAt = Math.min(t.firstAt, at);
    t.lastAt = Math.max(t.lastAt, at);
    t.impliedBy.add(impliedBy);
    this.tallies.set(key, t);
  }

  async record(trx: Executor, now: number): Promise<void> {
    // Opens first: a click implies an open of the same email.
    for (const t of [...this.tallies.values()].sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'open' ? -1 : 1))) {
      const base = { personalEmailId: t.personalEmailId, conversationId: t.conversationId, contactId: t.contactId, firstAt: new Date(t.firstAt).toISOString(), lastAt: new Date(t.lastAt).toISOString() };
      const subject = { type: 'personal_email', id: t.personalEmailId };
      if (t.kind === 'open') {
        // Implied only when every open of the batch was inferred (a click, a reply), not seen.
        const implied = t.impliedBy.has(null) || t.impliedBy.size !== 1 ? null : [...t.impliedBy][0]!;
        await recordEvent(trx, { accountId: t.accountId, type: 'email.opened', subject, data: { ...base, opens: t.count, indicative: true, impliedBy: implied }, at: now });
      } else {
        await recordEvent(trx, { accountId: t.accountId, type: 'email.clicked', subject, data: { ...base, url: t.url, clicks: t.count }, at: now });
      }
    }
  }
}
