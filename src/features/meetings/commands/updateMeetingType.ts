import { AppError } from '../../../platform/errors.js';
import { authorize } from '../../../platform/authorize.js';
import { recordAudit } from '../../../platform/audit.js';
import { isUniqueViolation } from '../../../platform/database/database.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { meetingsPolicies } from '../policies.js';
import { loadPage } from '../queries.js';
import { meetingTypeView, type MeetingTypeView } from '../views.js';
import { checkHosts, checkPageInput, type MeetingTypeInput } from './createMeetingType.js';

export type MeetingTypePatch = Partial<Omit<MeetingTypeInput, 'kind'>> & { active?: boolean };

/**
 * Changes a booking page (its owner, a host or an admin): the merged page is checked like a new one
 * (rules, slug, hosts each with a personal meetings connection). `active: false` unpublishes it (the
 * public page answers 404); existing bookings stay. A page's kind does not change.
 */
export async function updateMeetingType(env: CommandEnv, actor: Actor, id: string, patch: MeetingTypePatch): Promise<MeetingTypeView> {
  const now = env.now();
  try {
    await env.db.transaction().execute(async (trx) => {
      const page = await loadPage(trx, actor.accountId, id);
      authorize(actor, meetingsPolicies.manage, { ownerUserId: page.row.owner_user_id, hostUserIds: page.hostUserIds });
      authorize(actor, meetingsPolicies.publish);
      const r = page.row;
      const merged: MeetingTypeInput = {
        name: patch.name ?? r.name,
        slug: patch.slug ?? r.slug,
        description: patch.description ?? r.description,
        kind: page.kind,
        hostUserIds: patch.hostUserIds ?? page.hostUserIds,
        preferContactOwner: patch.preferContactOwner ?? r.prefer_contact_owner === 1,
        durationMin: patch.durationMin ?? r.duration_min,
        intervalMin: patch.intervalMin !== undefined ? patch.intervalMin : r.interval_min,
        minNoticeMin: patch.minNoticeMin ?? r.min_notice_min,
        bufferBeforeMin: patch.bufferBeforeMin ?? r.buffer_before_min,
        bufferAfterMin: patch.bufferAfterMin ?? r.buffer_after_min,
        window: patch.window ?? page.rules.window,
        maxPerDay: patch.maxPerDay !== undefined ? patch.maxPerDay : r.max_per_day,
        availability: patch.availability ?? page.availability,
        questions: patch.questions ?? page.questions,
        reminders: patch.reminders ?? page.reminders,
      };
      checkPageInput(merged);
      const hosts = page.kind === 'single' ? page.hostUserIds : [...new Set(merged.hostUserIds ?? [])];
      if (patch.hostUserIds !== undefined || patch.connectionId !== undefined || patch.active === true) {
        // Hosts and the owner's connection are checked as the page's owner would be.
        const ownerActor = r.owner_user_id === actor.user.id ? actor : { ...actor, user: { ...actor.user, id: r.owner_user_id } };
        await checkHosts(trx, ownerActor, hosts, patch.connectionId);
      }
      await trx
        .updateTable('meeting_types')
        .set({
          name: merged.name.trim().slice(0, 200),
          slug: merged.slug,
          description: (merged.description ?? '').slice(0, 5000),
          host_user_ids: JSON.stringify(hosts),
          prefer_contact_owner: merged.preferContactOwner ? 1 : 0,
          duration_min: merged.durationMin,
          interval_min: merged.intervalMin ?? null,
          min_notice_min: merged.minNoticeMin!,
          buffer_before_min: merged.bufferBeforeMin!,
          buffer_after_min: merged.bufferAfterMin!,
          booking_window: JSON.stringify(merged.window),
          max_per_day: merged.maxPerDay ?? null,
          availability: JSON.stringify(merged.availability),
          questions: JSON.stringify(merged.questions ?? []),
          reminders: JSON.stringify([...new Set(merged.reminders ?? [])]),
          ...(patch.active !== undefined ? { active: patch.active ? 1 : 0 } : {}),
          updated_at: now,
        })
        .where('id', '=', r.id)
        .execute();
      await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'meeting_type.updated', targetType: 'meeting_type', targetId: r.id, data: { changed: Object.keys(patch) }, at: now });
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('slug_taken', 409, `The page address "${patch.slug}" is taken. Choose another one.`, { field: 'slug' });
    throw err;
  }
  return meetingTypeView(await loadPage(env.db, actor.accountId, id), env.settings.publicUrl);
}
