/**
 * The states of an outbox entry. `scheduled` (send later) and `queued` (send now) have not left and can
 * still be cancelled; `sending` is claimed by the sender; `sent`, `failed`, `cancelled` and `uncertain`
 * (Mailroom stopped mid-send: it may or may not have gone out) are final.
 */
export const OUTBOX_STATES = ['scheduled', 'queued', 'sending', 'sent', 'failed', 'cancelled', 'uncertain'] as const;
export type OutboxState = (typeof OUTBOX_STATES)[number];
export const isOutboxState = (x: unknown): x is OutboxState => typeof x === 'string' && (OUTBOX_STATES as readonly string[]).includes(x);
/** Not left yet: a cancel or a contact deletion may still stop it. */
export const UNSENT_OUTBOX_STATES = ['scheduled', 'queued'] as const satisfies readonly OutboxState[];
