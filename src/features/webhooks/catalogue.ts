/**
 * The event catalogue: every event Mailroom records (src/platform/events.ts) and delivers to webhooks.
 * Names are dot-named `<object>.<what happened>`; each has a version (bumped when its `data` changes
 * incompatibly) and is thin: ids and the fields that changed, never whole objects (fetch them from the
 * API). `EventCatalogue` types each event's `data`; `EVENT_CATALOGUE` is the one runtime list (API,
 * OpenAPI description, README), checked by the type checker to name every type exactly once. Features
 * that declare their own events (sequences: src/features/sequences/events.ts) are collected here through
 * their index.ts, never listed twice.
 */

import type { EventDescription as PlatformEventDescription } from '../../platform/events.js';
import { SEQUENCE_EVENTS, type SequenceEvents } from '../sequences/index.js';

/** Each event's `data`: the ones listed here, and those the emitting features declare (collected through their index.ts). */
export interface EventCatalogue extends SequenceEvents {
  'contact.created': { contactId: string; ownerId: string | null; companyId: string | null; source: string };
  'contact.updated': { contactId: string; changed: string[] };
  'contact.deleted': { contactId: string };
  'company.created': { companyId: string; domains: string[]; contactsLinked: number };
  'company.updated': { companyId: string; changed: string[]; domainsAdded: string[]; domainsRemoved: string[] };
  'company.deleted': { companyId: string; contactsUnlinked: number };
  'conversation.created': { conversationId: string; inboxId: string | null; connectionId: string; contactId: string | null };
  'conversation.assigned': { conversationId: string; inboxId: string | null; assigneeId: string | null; previousAssigneeId: string | null };
  'conversation.status_changed': { conversationId: string; inboxId: string | null; from: string; to: string; snoozedUntil: number | null };
  'conversation.snoozed': { conversationId: string; inboxId: string | null; from: string; snoozedUntil: number | null };
  'conversation.closed': { conversationId: string; inboxId: string | null; from: string };
  'conversation.sla_breached': { conversationId: string; inboxId: string; target: 'first_response' | 'resolution'; dueAt: number; assigneeId: string | null };
  'conversation.message.created': { conversationId: string; messageId: string; direction: string; source: string };
  'email.received': { messageId: string; conversationId: string | null; connectionId: string };
  'email.sent': { outboxId: string; messageId: string | null; conversationId: string | null; connectionId: string; userId: string };
  'email.bounced': {
    messageId: string;
    conversationId: string;
    connectionId: string;
    /** failure or complaint (delays are not events). */
    type: string;
    permanent: boolean;
    recipients: Array<{ address: string; status: string | null; action: string | null }>;
    /** Message-ID of the email that bounced, when the report names it; outboxId when it is one Mailroom sent. */
    originalMessageId: string | null;
    outboxId: string | null;
  };
  'email.replied': { messageId: string; conversationId: string; connectionId: string; outboxId: string; from: string | null };
  'email.opened': {
    personalEmailId: string;
    conversationId: string | null;
    contactId: string | null;
    /** Opens in this batch (coalesced: one event per email per tracking digest). */
    opens: number;
    firstAt: string;
    lastAt: string;
    /** Always true: an open pixel is a hint (image proxies, privacy protection), never proof of reading. */
    indicative: true;
    /** 'click' or 'reply' when the open was inferred, not seen. */
    impliedBy: string | null;
  };
  'email.clicked': { personalEmailId: string; conversationId: string | null; contactId: string | null; url: string | null; clicks: number; firstAt: string; lastAt: string };
  'connection.connected': { connectionId: string; from: string | null; to: string };
  'connection.needs_reauth': { connectionId: string; from: string; to: string };
  'connection.sync_error': { connectionId: string; from: string; to: string };
  'connection.disconnected': { connectionId: string; from: string; to: string };
  'user.deactivated': { userId: string };
  'user.removed': { userId: string };
  'meeting.booked': { meetingId: string; meetingTypeId: string; contactId: string | null; hostUserIds: string[]; start: string; end: string };
  'meeting.rescheduled': { meetingId: string; contactId: string | null; from: string; start: string; end: string };
  'meeting.cancelled': { meetingId: string; contactId: string | null; by: string };
  /** Sent only by "send test event" to one endpoint. */
  'webhook.test': { endpointId: string };
}

export type WebhookEventType = keyof EventCatalogue;

export interface EventDescription extends PlatformEventDescription {
  version: number;
  /** What the event is about; events of one subject reach an endpoint in order. */
  subject: 'contact' | 'company' | 'conversation' | 'personal_email' | 'connection' | 'user' | 'meeting' | 'webhook_endpoint';
  description: string;
}

export const EVENT_CATALOGUE: { readonly [K in WebhookEventType]: EventDescription } = {
  'contact.created': { version: 1, subject: 'contact', description: 'A contact was created (API, import not yet: see README).' },
  'contact.updated': { version: 1, subject: 'contact', description: 'A contact changed; `changed` names the fields.' },
  'contact.deleted': { version: 1, subject: 'contact', description: 'A contact was deleted (erased).' },
  'company.created': { version: 1, subject: 'company', description: 'A company was created; `contactsLinked` contacts joined it by email domain.' },
  'company.updated': { version: 1, subject: 'company', description: 'A company was renamed or its domains changed; `changed` names the fields.' },
  'company.deleted': { version: 1, subject: 'company', description: 'A company was deleted; its contacts stay, without a company.' },
  'conversation.created': { version: 1, subject: 'conversation', description: 'A conversation began (an email that starts a thread).' },
  'conversation.assigned': { version: 1, subject: 'conversation', description: 'A conversation was assigned, reassigned or unassigned by a user.' },
  'conversation.status_changed': { version: 1, subject: 'conversation', description: 'A user changed the status (open, snoozed, closed, spam).' },
  'conversation.snoozed': { version: 1, subject: 'conversation', description: 'A user snoozed a conversation (sent right after its status_changed).' },
  'conversation.closed': { version: 1, subject: 'conversation', description: 'A user closed a conversation (sent right after its status_changed).' },
  'conversation.sla_breached': { version: 1, subject: 'conversation', description: "A first-response or resolution target of the conversation's inbox passed its due time unmet (once per target and cycle; `target` says which)." },
  'conversation.message.created': { version: 1, subject: 'conversation', description: 'A message was added to a conversation (inbound or outbound email).' },
  'email.received': { version: 1, subject: 'conversation', description: 'An inbound email was stored.' },
  'email.sent': { version: 1, subject: 'conversation', description: 'The mail server accepted an email Mailroom sent (a reply, or email from a contact record).' },
  'email.bounced': { version: 1, subject: 'conversation', description: 'A bounce or spam complaint was received (delays are not events).' },
  'email.replied': { version: 1, subject: 'conversation', description: 'A reply to an email Mailroom sent was received (automatic replies and bounces are not replies).' },
  'email.opened': { version: 1, subject: 'personal_email', description: 'A tracked email was opened: indicative only; bots and prefetches are left out, opens are coalesced per email.' },
  'email.clicked': { version: 1, subject: 'personal_email', description: 'A tracked link was clicked (bots and scanners left out), coalesced per email and link.' },
  'connection.connected': { version: 1, subject: 'connection', description: 'An email address was connected, or recovered from an error.' },
  'connection.needs_reauth': { version: 1, subject: 'connection', description: 'Sync stopped until the owner acts: the mail server refused the password (state auth_failed), or the OAuth provider refused the refresh token (state needs_reauth: sign in again). Sent once per change of state.' },
  'connection.sync_error': { version: 1, subject: 'connection', description: 'The mail server could not be reached several times in a row.' },
  'connection.disconnected': { version: 1, subject: 'connection', description: 'An email address was disconnected.' },
  'user.deactivated': { version: 1, subject: 'user', description: 'A user was deactivated.' },
  'user.removed': { version: 1, subject: 'user', description: 'A user was removed.' },
  ...SEQUENCE_EVENTS,
  'meeting.booked': { version: 1, subject: 'meeting', description: 'A visitor booked a meeting on a booking page (times in UTC).' },
  'meeting.rescheduled': { version: 1, subject: 'meeting', description: 'A booked meeting moved to a new time.' },
  'meeting.cancelled': { version: 1, subject: 'meeting', description: 'A booked meeting was cancelled.' },
  'webhook.test': { version: 1, subject: 'webhook_endpoint', description: 'A test event, sent on request to one endpoint.' },
};

export const EVENT_TYPES = Object.keys(EVENT_CATALOGUE) as WebhookEventType[];

export function isEventType(t: string): t is WebhookEventType {
  return Object.hasOwn(EVENT_CATALOGUE, t);
}

/** The types an endpoint can subscribe to ("webhook.test" is sent on request, whatever the filter). */
export const SUBSCRIBABLE_TYPES = EVENT_TYPES.filter((t) => t !== 'webhook.test');

/** Whether an endpoint subscribed to `filter` (["*"] is every type) wants events of `type`. */
export function wants(filter: readonly string[], type: string): boolean {
  return filter.includes('*') || filter.includes(type);
}
