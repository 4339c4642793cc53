/**
 * Meetings: booking pages on a host's PERSONAL meetings connection (team email never), availability from
 * Mailroom's bookings and the host's CalDAV calendar (recurrences expanded on our side), bookings that
 * cannot double-book, iTIP invitations from the host's own mailbox, the meeting on the contact's
 * timeline. This file is the only door other features use.
 */
export { meetingsPolicies } from './policies.js';
export type { MeetingBookedHook } from './commands/bookMeeting.js';
export { pageSlots, hostSlots, type HostInput, type SlotRules, type Slot } from './domain/slots.js';

import { recordInvitationReply } from './commands/recordInvitationReply.js';

export function meetingsFeature() {
  return {
    name: 'meetings',
    /** A visitor's iTIP REPLY (accepted, declined, tentative) in the host's personal mailbox: the booking and the timeline record it. */
    messageStored: recordInvitationReply,
  } as const;
}
