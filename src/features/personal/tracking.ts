/**
 * Open and click tracking for email other features send from a user's personal mailbox (sequence steps),
 * through the same machinery as one-to-one email: the email gets a `personal_emails` row (its tracking
 * id), its links are rewritten to signed `/t/c/` links whose destinations are stored, and a signed `/t/o/`
 * pixel is added. Hits then go through the same bot and prefetch classification and the sender's digest.
 * The row is not "logged": the sending feature puts the email on the contact's timeline itself (its own
 * event data), so personal email does not log it a second time, and its opens stay off the timeline.
 * Runs inside the caller's transaction, before the email is queued (the rewritten HTML is what is sent).
 */
import { limitsFor, type PlanId } from '../accounts/index.js';
import { newId } from '../../platform/database/ids.js';
import type { CommandEnv, Executor } from '../../platform/context.js';
import { signTrackingId } from '../../platform/security/tracking-signature.js';
import { insertOpenPixel, rewriteLinksForTracking } from './domain/links.js';
import { loadEmailPreferences, trackingBase, trackingSecret } from './queries.js';

/** What tracking an email from this user gets: `wanted` (true, false, or undefined for the user's default), within the plan. */
export async function trackingChoice(db: Executor, o: { userId: string; plan: PlanId; opens?: boolean | null; clicks?: boolean | null }): Promise<{ opens: boolean; clicks: boolean }> {
  if (!limitsFor(o.plan).trackingEnabled) return { opens: false, clicks: false };
  const prefs = await loadEmailPreferences(db, o.userId);
  return { opens: o.opens ?? prefs.trackOpens, clicks: o.clicks ?? prefs.trackClicks };
}

export interface TrackedEmailInput {
  accountId: string;
  userId: string;
  connectionId: string;
  /** The outbox row the email will be queued as (known before queueing). */
  outboxId: string;
  contactId: string;
  companyId: string | null;
  subject: string;
  html: string;
  opens: boolean;
  clicks: boolean;
}

/**
 * Adds tracking to an email's HTML and records what the tracking endpoints need. Neither opens nor
 * clicks: the HTML unchanged and no row. The text part should keep the real links.
 */
export async function trackOutgoingEmail(trx: Executor, env: CommandEnv, input: TrackedEmailInput): Promise<{ html: string; personalEmailId: string | null }> {
  if (!input.opens && !input.clicks) return { html: input.html, personalEmailId: null };
  const personalEmailId = newId('pem');
  const secret = trackingSecret(env);
  const base = trackingBase(env);
  let html = input.html;
  const links: Array<{ id: string; position: number; url: string }> = [];
  if (input.clicks) {
    html = rewriteLinksForTracking(
      html,
      (l) => {
        const id = newId('lnk');
        links.push({ id, position: l.position, url: l.url });
        return `${base}c/${signTrackingId('click', id, secret)}`;
      },
      { trackingBase: base },
    ).html;
  }
  if (input.opens) html = insertOpenPixel(html, `${base}o/${signTrackingId('open', personalEmailId, secret)}`);
  await trx
    .insertInto('personal_emails')
    .values({
      id: personalEmailId,
      account_id: input.accountId,
      user_id: input.userId,
      connection_id: input.connectionId,
      outbox_id: input.outboxId,
      conversation_id: null,
      contact_id: input.contactId,
      company_id: input.companyId,
      subject: input.subject,
      logged: 0,
      log_contact_ids: '[]',
      track_opens: input.opens ? 1 : 0,
      track_clicks: input.clicks ? 1 : 0,
      link_count: links.length,
      replaced_by: null,
      created_at: env.now(),
    })
    .execute();
  for (let i = 0; i < links.length; i += 200) {
    await trx
      .insertInto('tracking_links')
      .values(links.slice(i, i + 200).map((l) => ({ id: l.id, account_id: input.accountId, personal_email_id: personalEmailId, position: l.position, url: l.url })))
      .execute();
  }
  return { html, personalEmailId };
}

/**
 * Tracked emails and their unflagged opens and clicks (a click counts as an open: the reader opened it),
 * by outbox id, for the given outbox ids. Counts emails, not hits. Indicative: privacy proxies and
 * scanners that look like people inflate opens.
 */
export async function trackingByOutbox(db: Executor, outboxIds: readonly string[]): Promise<Map<string, { opens: boolean; clicks: boolean; opened: boolean; clicked: boolean }>> {
  const out = new Map<string, { opens: boolean; clicks: boolean; opened: boolean; clicked: boolean }>();
  for (let i = 0; i < outboxIds.length; i += 500) {
    const part = outboxIds.slice(i, i + 500);
    const emails = await db.selectFrom('personal_emails').select(['id', 'outbox_id', 'track_opens', 'track_clicks']).where('outbox_id', 'in', part).execute();
    if (!emails.length) continue;
    const byId = new Map(emails.map((e) => [e.id, e.outbox_id]));
    for (const e of emails) out.set(e.outbox_id, { opens: e.track_opens === 1, clicks: e.track_clicks === 1, opened: false, clicked: false });
    const hits = await db
      .selectFrom('tracking_hits')
      .select(['personal_email_id', 'kind'])
      .distinct()
      .where('personal_email_id', 'in', [...byId.keys()])
      .where('flagged', '=', 0)
      .execute();
    for (const h of hits) {
      const t = out.get(byId.get(h.personal_email_id)!)!;
      t.opened = true;
      if (h.kind === 'click') t.clicked = true;
    }
  }
  return out;
}
