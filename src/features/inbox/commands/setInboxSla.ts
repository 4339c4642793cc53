import { invalidRequest } from '../../../platform/errors.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { checkSlaSettings } from '../domain/sla.js';
import { loadInbox } from '../views.js';
import { inboxPolicies } from '../policies.js';
import { authorize } from '../../../platform/authorize.js';
import { refreshInboxSla } from '../sla.js';
import { slaSettingsView } from '../settings.js';

export interface InboxSlaInput {
  /** Business minutes to the first reply; null: no target. */
  firstResponseMinutes?: number | null;
  /** Business minutes to closing; null: no target. */
  resolutionMinutes?: number | null;
  /** "Breaching soon" threshold in business minutes (default 60). */
  soonMinutes?: number | null;
  /** {"timezone": "...", "days": {"mon": [["09:00", "17:00"]]}}; null: around the clock. */
  workingHours?: unknown;
}

/**
 * Sets (or, with both targets null, removes) an inbox's service-level targets and business hours. The due
 * times of its open and snoozed conversations are recomputed in the same transaction. Needs the
 * account-access permission, like the inbox's other settings.
 */
export async function setInboxSla(env: CommandEnv, actor: Actor, inboxId: string, input: InboxSlaInput) {
  authorize(actor, inboxPolicies.change);
  const checked = checkSlaSettings(input);
  if (!checked.ok) throw invalidRequest(checked.message, { field: checked.field });
  const now = env.now();
  return env.db.transaction().execute(async (trx) => {
    const inbox = await loadInbox(trx, actor.accountId, inboxId);
    let settings: Record<string, unknown> = {};
    try {
      settings = JSON.parse(inbox.settings || '{}') as Record<string, unknown>;
    } catch {
      settings = {};
    }
    if (checked.settings) settings.sla = checked.settings;
    else delete settings.sla;
    const stored = JSON.stringify(settings);
    await trx.updateTable('inboxes').set({ settings: stored }).where('id', '=', inbox.id).execute();
    await refreshInboxSla(trx, inbox.id, now, checked.settings !== null);
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'inbox.sla_changed', targetType: 'inbox', targetId: inbox.id, data: { sla: checked.settings }, at: now });
    return slaSettingsView({ ...inbox, settings: stored });
  });
}
