/**
 * When did a message happen, for threading? The Date header when it has one. A message without a usable
 * Date (absent or unparseable) is dated, in order, by its newest Received header (the last hop's time,
 * after the final ";"), then by the file's time when it was imported from a file, then by its arrival;
 * and it is flagged with where its time came from. Such a time is a guess: an undated message never
 * anchors a subject join (a conversation it starts takes part in subject threading only once a dated
 * message joins it) and never moves an existing conversation's last message time. Pure: the caller
 * passes the mail date parser (`parseMailDate` of src/mail/parse).
 */
import type { HeaderField } from '../../../mail/message/message.js';

export type DatingSource = 'date' | 'received' | 'file_time' | 'arrival';

export interface MessageTime {
  at: number;
  source: DatingSource;
}

/** The time of the newest (topmost) Received header whose date part parses, or null. */
export type DateParser = (value: string) => Date | null;

export function receivedTime(fields: readonly HeaderField[], parseDate: DateParser): number | null {
  for (const f of fields) {
    if (f.key !== 'received') continue;
    const semi = f.value.lastIndexOf(';');
    if (semi < 0) continue;
    const d = parseDate(f.value.slice(semi + 1).trim());
    if (d && Number.isFinite(d.getTime())) return d.getTime();
  }
  return null;
}

export function messageTime(m: { date: Date | null; headerFields: readonly HeaderField[] }, item: { fileTime?: number | undefined; receivedAt: number }, parseDate: DateParser): MessageTime {
  if (m.date && Number.isFinite(m.date.getTime())) return { at: m.date.getTime(), source: 'date' };
  const received = receivedTime(m.headerFields, parseDate);
  if (received !== null) return { at: received, source: 'received' };
  if (item.fileTime !== undefined && Number.isFinite(item.fileTime)) return { at: item.fileTime, source: 'file_time' };
  return { at: item.receivedAt, source: 'arrival' };
}
