import type { CommandEnv, Executor } from '../../../platform/context.js';
import type { StoredMessage } from '../../ingest/index.js';
import { addressKey } from '../../connections/index.js';
import { appendTimelineEvent } from '../../crm/index.js';
import type { MeetingsTable } from '../tables.js';
import type { InvitationReply } from '../ical.js';

const CALENDAR_TYPES = new Set(['text/calendar', 'application/ics']);
const MAX_ICS = 256 * 1024;

/**
 * Calendar email in a host's PERSONAL mailbox (team email is never the meetings tool), in the ingest
 * transaction (src/app/features.ts):
 *
 * - a visitor's iTIP REPLY to one of the host's booking invitations (accepted, declined, tentative): the
 *   booking records the answer and the contact's timeline shows it. Only the invited visitor's own answer
 *   counts; a reply to an older SEQUENCE than the booking's is ignored (it answered a time since changed);
 * - invitations the host sent (a REQUEST from their mailbox) or accepted (their REPLY, accepted or
 *   tentative): the event blocks their slots, recurrences included, so a host without CalDAV still has
 *   busy times; their decline or a CANCEL frees it again.
 */
export async function recordInvitationMail(trx: Executor, stored: readonly StoredMessage[], _env: CommandEnv): Promise<void> {
  for (const s of stored) if (s.connection.type === 'personal' && s.parsed.attachments.length) await recordOne(trx, s);
}

async function recordOne(trx: Executor, stored: StoredMessage): Promise<void> {
  const c = stored.connection;
  if (c.type !== 'personal') return;
  const parts = stored.parsed.attachments.filter((a) => CALENDAR_TYPES.has(a.contentType) && a.size <= MAX_ICS);
  if (!parts.length) return;
  // ical.js is loaded with the first calendar part: mail without one (all of a team's, most of a
  // person's) and a process that stores none (`mailroom import` of a team address) do not load it.
  const { itipSummary, readReply } = await import('../ical.js');
  const own = addressKey(c.address);
  const hostEmail = own.ok ? own.key : c.address.toLowerCase();
  const fromHost = stored.message.direction === 'outbound';
  for (const part of parts) {
    const text = part.content.toString('utf8');
    const summary = itipSummary(text);
    if (!summary) continue;
    const booking = await trx.selectFrom('meetings').selectAll().where('uid', '=', summary.uid).where('account_id', '=', c.account_id).executeTakeFirst();
    if (booking) {
      if (summary.method === 'REPLY' && !fromHost && booking.host_user_id === c.user_id) await recordVisitorReply(trx, stored, booking, readReply(text));
      continue; // Mailroom's own bookings are busy through their blocks already.
    }
    const key = { user_id: c.user_id, uid: summary.uid };
    const forget = () => trx.deleteFrom('meeting_mail_busy').where('user_id', '=', key.user_id).where('uid', '=', key.uid).execute();
    if (summary.method === 'CANCEL') {
      await forget();
      continue;
    }
    let busy = false;
    if (summary.method === 'REQUEST' && fromHost) busy = true;
    if (summary.method === 'REPLY' && fromHost) {
      const mine = readReply(text)?.answers.find((a) => a.email === hostEmail);
      if (mine?.partstat === 'DECLINED') {
        await forget();
        continue;
      }
      busy = mine?.partstat === 'ACCEPTED' || mine?.partstat === 'TENTATIVE';
    }
    if (!busy) continue;
    const at = Number(stored.message.created_at);
    await trx
      .insertInto('meeting_mail_busy')
      .values({ ...key, account_id: c.account_id, ics: text, updated_at: at })
      .onConflict((oc) => oc.columns(['user_id', 'uid']).doUpdateSet({ ics: text, updated_at: at }))
      .execute();
  }
}

async function recordVisitorReply(trx: Executor, stored: StoredMessage, m: MeetingsTable, reply: InvitationReply | null): Promise<void> {
  if (!reply || m.status !== 'booked' || reply.sequence < m.sequence) return;
  const answer = reply.answers.find((a) => a.email === m.visitor_email.toLowerCase());
  if (!answer) return;
  await trx.updateTable('meetings').set({ visitor_response: answer.partstat, updated_at: Number(stored.message.created_at) }).where('id', '=', m.id).execute();
  if (!m.contact_id) return;
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
