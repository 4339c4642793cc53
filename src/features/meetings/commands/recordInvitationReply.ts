import type { CommandEnv, Executor } from '../../../platform/context.js';
import type { StoredMessage } from '../../ingest/index.js';
import { appendTimelineEvent } from '../../crm/index.js';
import { readReply } from '../ical.js';

const CALENDAR_TYPES = new Set(['text/calendar', 'application/ics']);

/**
 * A message stored in a host's personal mailbox that carries an iTIP REPLY to one of their bookings'
 * invitations (the visitor accepted, declined or answered "maybe" in their calendar app): the booking
 * records the answer and the contact's timeline shows it. Only the invited visitor's own answer counts, to
 * a meeting this mailbox's user hosts; a reply to an older SEQUENCE than the booking's is ignored (it
 * answered a time that changed since). Runs in the ingest transaction (src/app/features.ts).
 */
export async function recordInvitationReply(trx: Executor, stored: StoredMessage, _env: CommandEnv): Promise<void> {
  if (stored.connection.type !== 'personal') return;
  const parts = stored.parsed.attachments.filter((a) => CALENDAR_TYPES.has(a.contentType) && a.size < 256 * 1024);
  for (const part of parts) {
    const reply = readReply(part.content.toString('utf8'));
    if (!reply) continue;
    const m = await trx
      .selectFrom('meetings')
      .selectAll()
      .where('uid', '=', reply.uid)
      .where('account_id', '=', stored.connection.account_id)
      .where('host_user_id', '=', stored.connection.user_id)
      .executeTakeFirst();
    if (!m || m.status !== 'booked' || reply.sequence < m.sequence) continue;
    const answer = reply.answers.find((a) => a.email === m.visitor_email.toLowerCase());
    if (!answer) continue;
    await trx.updateTable('meetings').set({ visitor_response: answer.partstat, updated_at: Number(stored.message.created_at) }).where('id', '=', m.id).execute();
    if (m.contact_id) {
      await appendTimelineEvent(trx, {
        accountId: m.account_id,
        contactId: m.contact_id,
        kind: 'meeting',
        occurredAt: Number(stored.message.received_at),
        actorUserId: null,
        refType: 'meeting',
        refId: `${m.id}:reply:${stored.message.id}`,
        data: { event: 'replied', meetingId: m.id, response: answer.partstat.toLowerCase(), start: new Date(Number(m.start_at)).toISOString() },
      });
    }
  }
}
