import { isTimelineKind, type TimelineKind } from '../domain/contacts.js';
import { notFound } from '../../../platform/errors.js';
import { newId } from '../../../platform/database/ids.js';
import type { Executor } from '../../../platform/context.js';
import { chunks } from '../queries.js';

export type { TimelineKind } from '../domain/contacts.js';
export { TIMELINE_KINDS } from '../domain/contacts.js';

export interface TimelineEventInput {
  accountId: string;
  contactId: string;
  kind: TimelineKind;
  /** When it happened (epoch ms): the message date, the open, the meeting start. */
  occurredAt: number;
  actorUserId?: string | null;
  /**
   * What the event is about (`refType` 'message' and the message id, 'tracking_hit' and its id...). With a
   * ref the event is recorded once per (contact, kind, ref): appending it again does nothing, so features
   * can re-run (retried jobs, re-synced mailboxes) without duplicates. Without a ref every call appends.
   */
  refType?: string | null;
  refId?: string | null;
  /** Details shown on the timeline (subject, snippet, url...). Stored as JSON; keep it small. */
  data?: Record<string, unknown>;
}

export interface AppendedEvent {
  id: string;
  /** False when the same (contact, kind, ref) was already on the timeline. */
  created: boolean;
}

function checkInput(e: TimelineEventInput): void {
  if (!isTimelineKind(e.kind)) throw new Error(`Unknown timeline event kind "${String(e.kind)}".`);
  if ((e.refType == null) !== (e.refId == null)) throw new Error('A timeline event needs both refType and refId, or neither.');
  if (!Number.isFinite(e.occurredAt)) throw new Error('A timeline event needs occurredAt (epoch milliseconds).');
}

/**
 * Appends an event to a contact's timeline. Internal use case: other features call it inside their own
 * transaction (pass the transaction), so the event commits or rolls back with what it records. Idempotent
 * per (contact, kind, refType, refId) through the unique index, without breaking the caller's transaction
 * (INSERT ... ON CONFLICT DO NOTHING, on SQLite and PostgreSQL). The contact must belong to `accountId`
 * (404 otherwise). Writes no audit event: the caller's own mutation is what is audited.
 */
export async function appendTimelineEvent(trx: Executor, e: TimelineEventInput): Promise<AppendedEvent> {
  checkInput(e);
  const contact = await trx.selectFrom('contacts').select('id').where('id', '=', e.contactId).where('account_id', '=', e.accountId).executeTakeFirst();
  if (!contact) throw notFound('Contact');
  const id = newId('evt');
  const inserted = await trx
    .insertInto('timeline_events')
    .values(row(id, e))
    .onConflict((oc) => oc.columns(['contact_id', 'kind', 'ref_type', 'ref_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted) return { id: inserted.id, created: true };
  const existing = await trx
    .selectFrom('timeline_events')
    .select('id')
    .where('contact_id', '=', e.contactId)
    .where('kind', '=', e.kind)
    .where('ref_type', '=', e.refType!)
    .where('ref_id', '=', e.refId!)
    .executeTakeFirstOrThrow();
  return { id: existing.id, created: false };
}

/**
 * Appends many events in a few statements (imports, bulk syncs), with the same idempotency as
 * `appendTimelineEvent`. Every contact must belong to the given account. Returns how many were new.
 */
export async function appendTimelineEvents(trx: Executor, accountId: string, events: readonly Omit<TimelineEventInput, 'accountId'>[]): Promise<number> {
  if (!events.length) return 0;
  for (const e of events) checkInput({ ...e, accountId });
  const contactIds = [...new Set(events.map((e) => e.contactId))];
  let found = 0;
  for (const part of chunks(contactIds)) {
    const rows = await trx.selectFrom('contacts').select('id').where('account_id', '=', accountId).where('id', 'in', part).execute();
    found += rows.length;
  }
  if (found !== contactIds.length) throw notFound('Contact');
  let created = 0;
  for (const part of chunks(events, 200)) {
    const r = await trx
      .insertInto('timeline_events')
      .values(part.map((e) => row(newId('evt'), { ...e, accountId })))
      .onConflict((oc) => oc.columns(['contact_id', 'kind', 'ref_type', 'ref_id']).doNothing())
      .returning('id')
      .execute();
    created += r.length;
  }
  return created;
}

function row(id: string, e: TimelineEventInput) {
  return {
    id,
    account_id: e.accountId,
    contact_id: e.contactId,
    kind: e.kind,
    occurred_at: e.occurredAt,
    actor_user_id: e.actorUserId ?? null,
    ref_type: e.refType ?? null,
    ref_id: e.refId ?? null,
    data: JSON.stringify(e.data ?? {}),
  };
}
