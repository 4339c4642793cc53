/** Test helpers for the threading tests (not used by production code). */
import type { MailAddress } from '../../../mail/message/message.js';
import type { ThreadingInput, ThreadingOptions } from './threading.js';

export const addr = (address: string, name = ''): MailAddress => ({ name, address });

type Loose = { [K in keyof ThreadingInput]?: ThreadingInput[K] extends Array<infer U> ? readonly U[] : ThreadingInput[K] };

export function inbound(loose: Loose = {}): ThreadingInput {
  const partial = Object.fromEntries(Object.entries(loose).map(([k, v]) => [k, Array.isArray(v) ? [...v] : v])) as Partial<ThreadingInput>;
  return {
    messageId: 'new-message@customer.example',
    inReplyTo: null,
    references: [],
    subject: 'Question about my order',
    from: addr('ann@customer.example', 'Ann'),
    sender: null,
    replyTo: [],
    to: [addr('support@shop.example')],
    cc: [],
    bcc: [],
    ...partial,
  };
}

export const SECRET = 'threading-test-secret-123';
export const NOW = new Date('2024-05-01T12:00:00Z');
export const opts = (extra: Partial<ThreadingOptions> = {}): ThreadingOptions => ({
  replyTokenSecret: SECRET,
  ownAddresses: ['support@shop.example'],
  receivedAt: NOW,
  ...extra,
});
export const daysAgo = (n: number) => new Date(NOW.getTime() - n * 86_400_000);
