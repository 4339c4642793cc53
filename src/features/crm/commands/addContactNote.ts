import { MAX_NOTE_LENGTH } from '../domain/contacts.js';
import { invalidRequest } from '../../../platform/errors.js';
import { newId } from '../../../platform/database/ids.js';
import { appendTimelineEvent } from './appendTimelineEvent.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { loadContact } from '../queries.js';
import { timelineEventView, type TimelineEventView } from './getContactTimeline.js';
import { crmPolicies } from '../policies.js';
import { authorize } from '../../../platform/authorize.js';

/** Adds a note (a `note` timeline event written by the actor) to a contact. One transaction, one audit event. */
export async function addContactNote(env: CommandEnv, actor: Actor, contactId: string, input: { text: string }): Promise<TimelineEventView> {
  authorize(actor, crmPolicies.write);
  const text = (input.text ?? '').trim();
  if (!text) throw invalidRequest('A note needs some text.', { field: 'text' });
  if (text.length > MAX_NOTE_LENGTH) throw invalidRequest(`A note can be at most ${MAX_NOTE_LENGTH} characters long.`, { field: 'text' });
  const now = env.now();
  const noteId = newId('note');
  return env.db.transaction().execute(async (trx) => {
    const contact = await loadContact(trx, actor.accountId, contactId);
    const { id } = await appendTimelineEvent(trx, { accountId: actor.accountId, contactId: contact.id, kind: 'note', occurredAt: now, actorUserId: actor.user.id, refType: 'note', refId: noteId, data: { text } });
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'contact.note_added', targetType: 'contact', targetId: contact.id, data: { eventId: id }, at: now });
    const row = await trx.selectFrom('timeline_events').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    return timelineEventView(row);
  });
}
