import type { CommandEnv } from '../../../platform/context.js';
import { AppError } from '../../../platform/errors.js';
import { recordAudit } from '../../../platform/audit.js';
import { recordEvent } from '../../../platform/events.js';
import { appendTimelineEvent } from '../../crm/index.js';
import { hostUsers, loadMeeting, loadPage } from '../queries.js';
import { queueInvite, stopReminders, syncCalendarEvent, type MailDeps } from '../invites.js';
import { meetingView } from '../views.js';
import { meetingOfLink } from './manageMeeting.js';

/**
 * Cancels a booking from its signed link: the time is released (its blocks deleted), SEQUENCE raised, an
 * iTIP CANCEL (STATUS:CANCELLED, same UID) sent from the host's mailbox, the contact's timeline told, and
 * the event removed from the host's calendar after commit. Cancelling twice changes nothing.
 */
export async function cancelMeeting(env: CommandEnv, deps: MailDeps, token: string, reason?: string) {
  const m0 = await meetingOfLink(env, token);
  if (m0.status === 'cancelled') return meetingView(m0);
  const page = await loadPage(env.db, m0.account_id, m0.meeting_type_id);
  const [host] = await hostUsers(env.db, m0.account_id, [m0.host_user_id]);
  const now = env.now();
  let address = '';
  await env.db.transaction().execute(async (trx) => {
    const m = await loadMeeting(trx, m0.id);
    if (m.status === 'cancelled') return;
    const connection = await trx.selectFrom('connections').selectAll().where('id', '=', m.connection_id).executeTakeFirst();
    if (!connection || connection.disconnected_at !== null) throw new AppError('connection_disconnected', 409, 'The host\'s mailbox is disconnected, so the cancellation cannot be sent. Write to the host directly.');
    address = connection.address;
    await trx.deleteFrom('meeting_blocks').where('meeting_id', '=', m.id).execute();
    await stopReminders(trx, m);
    const next = { ...m, status: 'cancelled' as const, sequence: m.sequence + 1, cancelled_at: now, updated_at: now };
    await trx.updateTable('meetings').set({ status: 'cancelled', sequence: next.sequence, cancelled_at: now, updated_at: now }).where('id', '=', m.id).execute();
    if (m.contact_id) {
      await appendTimelineEvent(trx, { accountId: m.account_id, contactId: m.contact_id, kind: 'meeting', occurredAt: now, actorUserId: null, refType: 'meeting', refId: `${m.id}:cancelled`, data: { event: 'cancelled', meetingId: m.id, title: page.row.name, start: new Date(Number(m.start_at)).toISOString(), reason: reason?.slice(0, 500) ?? null } });
    }
    await queueInvite(trx, env, deps, { meeting: next, method: 'CANCEL', pageName: page.row.name, hostName: host?.name ?? '', connection });
    await recordEvent(trx, { accountId: m.account_id, type: 'meeting.cancelled', subject: { type: 'meeting', id: m.id }, data: { meetingId: m.id, contactId: m.contact_id, by: 'visitor' }, at: now });
    await recordAudit(trx, { accountId: m.account_id, actorUserId: null, action: 'meeting.cancelled', targetType: 'meeting', targetId: m.id, data: { by: 'visitor' }, at: now });
  });
  env.onJobsQueued?.();
  const m = await loadMeeting(env.db, m0.id);
  await syncCalendarEvent(env, m, { pageName: page.row.name, hostName: host?.name ?? '', hostAddress: address });
  return meetingView(await loadMeeting(env.db, m0.id));
}
