import { FONT_FAMILIES } from '../domain/font.js';
import { limitsFor } from '../../accounts/index.js';
import type { Actor, CommandEnv, Executor } from '../../../platform/context.js';
import { loadAccountEmailSettings, loadEmailPreferences, ownPersonalConnections } from '../queries.js';

/** The actor's personal email preferences, with what the composer needs: from-addresses (default first), plan. */
export async function emailPreferencesView(db: Executor, actor: Actor) {
  const [prefs, account, connections, logging] = await Promise.all([
    loadEmailPreferences(db, actor.user.id),
    loadAccountEmailSettings(db, actor.accountId),
    ownPersonalConnections(db, actor.accountId, actor.user.id),
    db.selectFrom('logging_addresses').select('address').where('user_id', '=', actor.user.id).executeTakeFirst(),
  ]);
  const plan = limitsFor(actor.plan);
  return {
    log: prefs.log,
    trackOpens: prefs.trackOpens,
    trackClicks: prefs.trackClicks,
    font: prefs.font ? { ...prefs.font, css: FONT_FAMILIES[prefs.font.family] } : null,
    signature: prefs.signature,
    neverLog: prefs.neverLog.map((e) => e.value),
    fromAddresses: connections.map((c) => ({ connectionId: c.id, address: c.address, isDefault: c.is_default_from === 1 })),
    loggingAddress: logging?.address ?? null,
    accountRule: { logRule: account.logRule, createContacts: account.createContacts },
    trackingAvailable: plan.trackingEnabled,
    maxAttachmentBytes: plan.maxAttachmentBytes,
    fontFamilies: Object.keys(FONT_FAMILIES),
  };
}
export type EmailPreferencesView = Awaited<ReturnType<typeof emailPreferencesView>>;

export async function getEmailPreferences(env: CommandEnv, actor: Actor): Promise<EmailPreferencesView> {
  return emailPreferencesView(env.db, actor);
}
