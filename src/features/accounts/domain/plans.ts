/**
 * The account plans and the ONE table of their limits.
 *
 * Every quota in Mailroom is read from `PLAN_LIMITS` (through `limitsFor`); no limit is written
 * anywhere else. A feature that needs a new quota adds a field here, with a value for every plan and a
 * comment saying why that value.
 *
 * Conventions:
 * - Counts are maxima: "at most N". A count of 0 means the feature is not in the plan.
 * - `null` means unlimited (only where the type says `number | null`).
 * - Send caps are per connection (one mailbox), because the provider's own limits are per mailbox.
 *
 * Why the send caps are what they are: Mailroom sends through the customer's own mailbox, so the
 * mailbox provider's limits are the ceiling, and they count every message the mailbox sends, including
 * mail the user writes in Gmail or Outlook directly. Our caps therefore sit well below them:
 * - consumer Outlook.com: about 300 recipients a day; consumer Gmail: 500 a day;
 * - Google Workspace: 2,000 messages a day per user (and trial accounts much less);
 * - Microsoft 365: 10,000 recipients a day, but 30 messages a minute;
 * - Gmail and most hosts start rate-limiting or flagging bursts well before a daily cap is reached.
 * Free and Starter accounts are often on consumer mailboxes, so their caps stay under the consumer
 * limits; Professional and Enterprise assume a business mailbox and keep room for the user's own mail.
 */

export const PLAN_IDS = ['free', 'starter', 'professional', 'enterprise'] as const;
export type PlanId = (typeof PLAN_IDS)[number];

export interface PlanLimits {
  /** Display name of the plan, for messages ("the Starter plan"). */
  name: string;
  /** Conversations inboxes in the account. */
  conversationsInboxes: number;
  /** Personal email connections one user may hold (one of them is their default "from"). */
  personalConnectionsPerUser: number;
  /** Team email addresses connected to one conversations inbox. */
  teamConnectionsPerInbox: number;
  /** Email sequences (saved sequence definitions) in the account; 0 = sequences not in the plan. */
  sequences: number;
  /** Messages Mailroom sends from one connection in any rolling 24 hours. */
  sendsPerDay: number;
  /** Messages Mailroom sends from one connection in any rolling minute. */
  sendsPerMinute: number;
  /** Users holding a paid seat (active and deactivated users count; removed users free their seat). */
  paidSeats: number;
  /** Users holding a free seat; null = unlimited (still bounded by `usersTotal`). */
  freeSeats: number | null;
  /** Users of the account in any seat, view-only included (active and deactivated; removed do not count). */
  usersTotal: number;
  /** Rows in one contact import file. */
  contactImportRows: number;
  /** Total size of the attachments of one outgoing message, in bytes. */
  maxAttachmentBytes: number;
  /** Open and click tracking on sent email. */
  trackingEnabled: boolean;
  /** Routing rules per conversations inbox; 0 = routing rules not in the plan. */
  routingRulesPerInbox: number;
}

const MB = 1024 * 1024;

/**
 * 20 MB of attachments: providers cap whole messages at 25 MB (Gmail, Outlook.com) or 35 MB
 * (Microsoft 365 default), and base64 encoding grows attachments by a third, so 20 MB of files is
 * about 27 MB on the wire: Gmail counts attachments (not the encoded message) against its 25 MB, and
 * this keeps a margin for the body. One value for every plan: it is a delivery limit, not an upsell.
 */
const MAX_ATTACHMENT_BYTES = 20 * MB;

export const PLAN_LIMITS: Readonly<Record<PlanId, Readonly<PlanLimits>>> = deepFreeze({
  free: {
    name: 'Free',
    conversationsInboxes: 1,
    personalConnectionsPerUser: 1,
    teamConnectionsPerInbox: 1,
    sequences: 0,
    // Below consumer Outlook.com (~300/day) and Gmail (500/day): free accounts often use them.
    sendsPerDay: 200,
    sendsPerMinute: 10,
    paidSeats: 2,
    freeSeats: 5,
    usersTotal: 10,
    contactImportRows: 1_000,
    maxAttachmentBytes: MAX_ATTACHMENT_BYTES,
    trackingEnabled: false,
    routingRulesPerInbox: 0,
  },
  starter: {
    name: 'Starter',
    conversationsInboxes: 2,
    personalConnectionsPerUser: 2,
    teamConnectionsPerInbox: 3,
    sequences: 5,
    // Below consumer Gmail's 500/day with room for the user's own mail.
    sendsPerDay: 400,
    sendsPerMinute: 15,
    paidSeats: 10,
    freeSeats: null,
    usersTotal: 100,
    contactImportRows: 10_000,
    maxAttachmentBytes: MAX_ATTACHMENT_BYTES,
    trackingEnabled: true,
    routingRulesPerInbox: 5,
  },
  professional: {
    name: 'Professional',
    conversationsInboxes: 10,
    personalConnectionsPerUser: 5,
    teamConnectionsPerInbox: 10,
    sequences: 500,
    // Half of Google Workspace's 2,000/day; far below Microsoft 365's 10,000 recipients/day.
    sendsPerDay: 1_000,
    sendsPerMinute: 20,
    paidSeats: 100,
    freeSeats: null,
    usersTotal: 1_000,
    contactImportRows: 100_000,
    maxAttachmentBytes: MAX_ATTACHMENT_BYTES,
    trackingEnabled: true,
    routingRulesPerInbox: 50,
  },
  enterprise: {
    name: 'Enterprise',
    conversationsInboxes: 100,
    personalConnectionsPerUser: 10,
    teamConnectionsPerInbox: 25,
    sequences: 5_000,
    // 75% of Google Workspace's 2,000/day: the user's own mail counts against the same cap.
    sendsPerDay: 1_500,
    // Below Microsoft 365's 30 messages/minute.
    sendsPerMinute: 25,
    paidSeats: 1_000,
    freeSeats: null,
    usersTotal: 10_000,
    contactImportRows: 1_000_000,
    maxAttachmentBytes: MAX_ATTACHMENT_BYTES,
    trackingEnabled: true,
    routingRulesPerInbox: 200,
  },
});

export function isPlanId(x: unknown): x is PlanId {
  return typeof x === 'string' && (PLAN_IDS as readonly string[]).includes(x);
}

/** The limits of a plan. Throws on an unknown plan id: a stored plan is always validated on write. */
export function limitsFor(plan: PlanId): Readonly<PlanLimits> {
  if (!isPlanId(plan)) throw new Error(`Unknown plan "${String(plan)}". Plans are: ${PLAN_IDS.join(', ')}.`);
  return PLAN_LIMITS[plan];
}

/** The numeric limits (the ones a count is compared against). */
export type CountLimit = {
  [K in keyof PlanLimits]: PlanLimits[K] extends number | null ? (PlanLimits[K] extends boolean ? never : K) : never;
}[keyof PlanLimits];

/** True when one more fits: `current` is the count before adding; `null` limits are unlimited. */
export function hasRoom(limit: number | null, current: number): boolean {
  return limit === null || current < limit;
}

/**
 * The cheapest plan above `plan` whose `limit` allows at least `needed`, or null when none does.
 * Used to say "upgrade to the Starter plan (up to 2)" in refusals.
 */
export function planAllowing(plan: PlanId, limit: CountLimit, needed: number): PlanId | null {
  for (const p of PLAN_IDS.slice(PLAN_IDS.indexOf(plan) + 1)) {
    const v = PLAN_LIMITS[p][limit];
    if (v === null || v >= needed) return p;
  }
  return null;
}

function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (v && typeof v === 'object') deepFreeze(v as object);
  return Object.freeze(o);
}
