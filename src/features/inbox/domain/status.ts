/**
 * Conversation statuses and their transitions.
 *
 *   open      needs attention (a snoozed conversation whose time has come is open again)
 *   snoozed   hidden until `snoozedUntil`, then open
 *   closed    done
 *   spam      denied senders and our own notifications that came back; hidden from the usual views
 *
 * People may move a conversation between any two statuses (snoozing needs a time in the future).
 * Incoming mail: a new message from the customer (classified normal) reopens a closed or snoozed
 * conversation. Auto-replies, bounces, list mail and loops never reopen anything by themselves; neither
 * does our own outgoing mail, nor anything in a spam conversation (someone must take it out of spam).
 */
export const CONVERSATION_STATUSES = ['open', 'snoozed', 'closed', 'spam'] as const;
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];

export const isConversationStatus = (x: unknown): x is ConversationStatus => typeof x === 'string' && (CONVERSATION_STATUSES as readonly string[]).includes(x);

export interface StatusState {
  status: string;
  snoozedUntil: number | null;
}

export type StatusChange = { ok: true; status: ConversationStatus; snoozedUntil: number | null; changed: boolean } | { ok: false; message: string; field: string };

/** A status change asked for by a person. */
export function changeStatus(current: StatusState, to: string, snoozedUntil: number | null | undefined, now: number): StatusChange {
  if (!isConversationStatus(to)) return { ok: false, message: 'The status is open, snoozed, closed or spam.', field: 'status' };
  if (to === 'snoozed') {
    if (snoozedUntil === null || snoozedUntil === undefined || !Number.isFinite(snoozedUntil)) return { ok: false, message: 'Say until when to snooze (snoozedUntil).', field: 'snoozedUntil' };
    if (snoozedUntil <= now) return { ok: false, message: 'Snooze until a time in the future.', field: 'snoozedUntil' };
    return { ok: true, status: 'snoozed', snoozedUntil, changed: current.status !== 'snoozed' || current.snoozedUntil !== snoozedUntil };
  }
  if (snoozedUntil !== null && snoozedUntil !== undefined) return { ok: false, message: 'snoozedUntil is only for the snoozed status.', field: 'snoozedUntil' };
  return { ok: true, status: to, snoozedUntil: null, changed: current.status !== to };
}

/** The status a conversation shows at `now` (a snooze that has run out is open). */
export function effectiveStatus(s: StatusState, now: number): ConversationStatus {
  if (s.status === 'snoozed' && (s.snoozedUntil === null || s.snoozedUntil <= now)) return 'open';
  return isConversationStatus(s.status) ? s.status : 'open';
}

export type MessageKindForStatus = 'normal' | 'auto_reply' | 'bounce' | 'challenge' | 'list' | 'loop';

/**
 * What a stored message does to the status: `reopen` when a customer's message arrives in a closed or
 * snoozed conversation, else nothing.
 */
export function statusAfterMessage(s: StatusState, m: { direction: 'inbound' | 'outbound' | string; kind: MessageKindForStatus | string }, now: number): { status: ConversationStatus; snoozedUntil: number | null; reopened: boolean } {
  const current = effectiveStatus(s, now);
  const keep = { status: current, snoozedUntil: current === 'snoozed' ? s.snoozedUntil : null, reopened: false };
  if (m.direction !== 'inbound' || m.kind !== 'normal') return keep;
  if (current === 'closed' || current === 'snoozed') return { status: 'open', snoozedUntil: null, reopened: true };
  return keep;
}
