/**
 * Delivery rules, pure: what an HTTP answer means, and when to try again.
 *
 * Only 2xx is success. Retried: timeouts, connection errors, 5xx, 408 and 429 (and a refused host, which
 * the operator may allow meanwhile). Not retried: other 4xx, and 3xx (redirects are not followed). 410
 * Gone also disables the endpoint. The schedule is the Standard Webhooks example one (immediately, 5 s,
 * 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h), with up to 10% jitter, and a Retry-After longer than
 * the next step is honoured (capped at a day).
 */

export const DELIVERY_STATES = ['pending', 'succeeded', 'failed'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

const S = 1000;
const M = 60 * S;
const H = 60 * M;

/** Delay before attempt n+1, after attempt n failed (index n-1); attempts beyond the list give up. */
export const RETRY_SCHEDULE_MS: readonly number[] = [0, 5 * S, 5 * M, 30 * M, 2 * H, 5 * H, 10 * H, 14 * H, 20 * H, 24 * H];

/** Attempts in all: the first, then one per step of the schedule. */
export const MAX_ATTEMPTS = RETRY_SCHEDULE_MS.length + 1;

export type Outcome = 'success' | 'retry' | 'fail' | 'gone';

/** What an HTTP status means for the delivery. */
export function outcomeOfStatus(status: number): Outcome {
  if (status >= 200 && status < 300) return 'success';
  if (status === 410) return 'gone';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'fail';
}

/**
 * The delay before the next attempt after failed attempt `attempt` (1-based), or null when there is
 * none left. `random` in [0, 1) draws the jitter; `retryAfterMs` is the receiver's Retry-After.
 */
export function nextAttemptDelay(attempt: number, random: number, retryAfterMs?: number | null): number | null {
  if (attempt >= MAX_ATTEMPTS) return null;
  const base = RETRY_SCHEDULE_MS[attempt - 1]!;
  const jittered = Math.round(base * (1 + 0.1 * random));
  const wanted = retryAfterMs && retryAfterMs > 0 ? Math.min(retryAfterMs, 24 * H) : 0;
  return Math.max(jittered, wanted);
}

/** Retry-After as milliseconds (seconds or an HTTP date), or null. */
export function parseRetryAfter(value: string | undefined, now: number): number | null {
  if (!value) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - now) : null;
}

/** Ordering key: deliveries of one subject to one endpoint go out in the order of their events. */
export function orderingKey(subjectType: string, subjectId: string): string {
  return `${subjectType}:${subjectId}`;
}

export const MAX_URL_LENGTH = 2000;

/** Checks an endpoint URL as typed: http(s), no credentials, no fragment. The host is checked at send time. */
export function checkEndpointUrl(text: string): { ok: true; url: string } | { ok: false; message: string } {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return { ok: false, message: 'The URL is not valid. Give a full URL such as https://example.com/hooks/mailroom.' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, message: `Webhooks are sent over https (or http to hosts the operator allows), not ${url.protocol}.` };
  if (url.username || url.password) return { ok: false, message: 'The URL may not carry a user name or password. Authenticate deliveries with the signing secret.' };
  if (url.href.length > MAX_URL_LENGTH) return { ok: false, message: `The URL is longer than ${MAX_URL_LENGTH} characters.` };
  url.hash = '';
  return { ok: true, url: url.href };
}
