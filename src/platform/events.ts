/**
 * Domain events: "this changed", recorded in the `events` table (an outbox) in the SAME transaction as
 * the change, so an event exists if and only if its change committed. Any feature's command or reaction
 * records one with `recordEvent(trx, ...)`, without knowing who listens.
 *
 * Event types are dot-named (`contact.created`, `conversation.message.created`) and declared by
 * interface merging into `EventTypes`, name -> the payload's `data` (thin: ids and changed fields):
 *
 *     declare module '../../platform/events.js' {
 *       interface EventTypes { 'contact.created': { contactId: string } }
 *     }
 *
 * Each type is declared once. A feature may declare its own beside their catalogue entries
 * (`EventDescription`: version, subject, description), as sequences do in src/features/sequences/events.ts;
 * the webhooks feature's catalogue (src/features/webhooks/catalogue.ts) collects those through the
 * feature's index.ts and lists the rest. Webhooks fan each event out to the account's endpoints: recording
 * an event queues one `events.publish` job (handled by the feature wired for it in src/app/features.ts).
 *
 * `subject` is what the event is about (a contact, a conversation...): consumers deliver the events of
 * one subject in the order they were recorded (`seq`).
 */
import type { Executor } from './context.js';
import { newId } from './database/ids.js';
import { enqueue, enqueueMany } from './jobs/queue.js';
import { insertRows } from './database/insert-rows.js';
import type { Dialect } from './database/database.js';

/** Every event type, name -> its `data`. Filled by interface merging (see the header). */
// biome-ignore lint/suspicious/noEmptyInterface: filled by interface merging where the events are declared
export interface EventTypes {}

export type EventType = keyof EventTypes & string;

/** An event type's catalogue entry, declared beside its `data` by the feature that emits it. */
export interface EventDescription {
  /** Bumped when `data` changes incompatibly. */
  version: number;
  /** What the event is about; events of one subject reach a consumer in order. */
  subject: string;
  description: string;
}

/**
 * The job kind that publishes recorded events: payload `{ eventId }` for one recorded alone, `{ eventIds }`
 * for those recorded together by `recordEvents` (one job per transaction's events, in chunks).
 */
export const PUBLISH_EVENT_JOB = 'events.publish';

export interface EventSubject {
  /** contact, conversation, connection, user... */
  type: string;
  id: string;
}

export interface RecordEventInput<K extends EventType> {
  accountId: string;
  type: K;
  subject: EventSubject;
  data: EventTypes[K];
  at: number;
}

/**
 * Records an event inside the caller's transaction and queues its publication. Call it with the
 * transaction of the change it describes: rolled back together, committed together.
 */
export async function recordEvent<K extends EventType>(trx: Executor, e: RecordEventInput<K>): Promise<string> {
  const id = newId('evt');
  await trx
    .insertInto('events')
    .values({
      id,
      account_id: e.accountId,
      type: e.type,
      subject_type: e.subject.type,
      subject_id: e.subject.id,
      data: JSON.stringify(e.data ?? {}),
      created_at: e.at,
      published_at: null,
    })
    .execute();
  await enqueue(trx, e.at, { kind: PUBLISH_EVENT_JOB, payload: { eventId: id }, maxAttempts: 20 });
  return id;
}

/** One event of any type (for `recordEvents`). */
export type AnyEventInput = { [K in EventType]: RecordEventInput<K> }[EventType];

/** Events per publication job of `recordEvents`. */
const EVENTS_PER_PUBLISH_JOB = 200;

/**
 * Several events in one statement, in order (their `seq` follows the list), and one publication job for
 * every 200 of them: what `recordEvent` does for each, without a job row per event. An ingest batch
 * records two or three per message.
 */
export async function recordEvents(trx: Executor, dialect: Dialect, events: readonly AnyEventInput[]): Promise<string[]> {
  if (!events.length) return [];
  const rows = events.map((e) => ({
    id: newId('evt'),
    account_id: e.accountId,
    type: e.type,
    subject_type: e.subject.type,
    subject_id: e.subject.id,
    data: JSON.stringify(e.data ?? {}),
    created_at: e.at,
    published_at: null,
  }));
  // `seq` is generated: in the order of the rows.
  await insertRows(trx, dialect, 'events', rows as never);
  const jobs = [];
  for (let i = 0; i < rows.length; i += EVENTS_PER_PUBLISH_JOB) {
    const chunk = rows.slice(i, i + EVENTS_PER_PUBLISH_JOB);
    const runAt = Math.min(...events.slice(i, i + EVENTS_PER_PUBLISH_JOB).map((e) => e.at));
    jobs.push({ kind: PUBLISH_EVENT_JOB, payload: { eventIds: chunk.map((r) => r.id) }, maxAttempts: 20, runAt });
  }
  await enqueueMany(trx, dialect, events[0]!.at, jobs);
  return rows.map((r) => r.id);
}
