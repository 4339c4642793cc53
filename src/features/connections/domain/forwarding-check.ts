/**
 * The forwarding check of a team address connected by forwarding: Mailroom sends a test email to the
 * address itself (through the address's own SMTP server); the customer's mail server forwards it to the
 * generated forwarding address; when it comes back in, forwarding works. Pure.
 */
import { firstField, type RawHeaderField } from '../../../mail/message/header-block.js';

export const FORWARDING_TEST_HEADER = 'X-Mailroom-Forwarding-Test';
/** How long a test may take to come back before the page says it did not. */
export const FORWARDING_TEST_WAIT_MS = 10 * 60_000;

export type ForwardingCheckState = 'never' | 'sending' | 'waiting' | 'verified' | 'not_received' | 'send_failed';

export interface ForwardingCheck {
  state: ForwardingCheckState;
  sentAt: number | null;
  verifiedAt: number | null;
  message: string;
}

export function forwardingCheck(c: { address: string; forwardingAddress: string | null; requestedAt: number | null; sentAt: number | null; verifiedAt: number | null; error: string | null }, now: number): ForwardingCheck {
  const base = { sentAt: c.sentAt, verifiedAt: c.verifiedAt };
  const target = c.forwardingAddress ?? 'the forwarding address';
  if (c.error) return { ...base, state: 'send_failed', message: `The test email could not be sent through ${c.address}'s mail server: ${c.error} Check the SMTP settings, then try again.` };
  if (c.requestedAt !== null && c.sentAt === null) return { ...base, state: 'sending', message: 'Sending the test email…' };
  if (c.sentAt !== null && (c.verifiedAt === null || c.verifiedAt < c.sentAt)) {
    if (now - c.sentAt < FORWARDING_TEST_WAIT_MS) return { ...base, state: 'waiting', message: `Test email sent to ${c.address}; waiting for it to be forwarded to ${target}…` };
    return {
      ...base,
      state: 'not_received',
      message: `The test email sent to ${c.address} has not come back after ${Math.round(FORWARDING_TEST_WAIT_MS / 60_000)} minutes. Check that your mail provider forwards all mail for ${c.address} to ${target} (and keeps a copy if you want one), then send another test.`,
    };
  }
  if (c.verifiedAt !== null) return { ...base, state: 'verified', message: `Forwarding works: mail to ${c.address} reaches this inbox.` };
  return { ...base, state: 'never', message: `Not checked yet. Set up forwarding of ${c.address} to ${target}, then send a test email.` };
}

/**
 * The forwarding-test token a message's header fields carry (shaped as sendForwardingTest makes them), or
 * null: whether it is a connection's pending test is the database's to say (recordForwardingTest).
 */
export function forwardingTestToken(fields: readonly RawHeaderField[]): string | null {
  const v = firstField(fields, FORWARDING_TEST_HEADER.toLowerCase());
  return v !== null && /^ft_[A-Za-z0-9]{1,64}$/.test(v) ? v : null;
}
