/**
 * Meetings: booking pages on a host's PERSONAL meetings connection (team email never), availability from
 * Mailroom's bookings and the host's CalDAV calendar (recurrences expanded on our side), bookings that
 * cannot double-book, iTIP invitations from the host's own mailbox, the meeting on the contact's
 * timeline. This file is the only door other features use.
 */
export { meetingsPolicies } from './policies.js';
export type { MeetingBookedHook } from './commands/bookMeeting.js';
export { pageSlots, hostSlots, type HostInput, type SlotRules, type Slot } from './domain/slots.js';

import { recordInvitationMail } from './commands/recordInvitationMail.js';

export function meetingsFeature() {
  return {
    name: 'meetings',
    /**
     * Calendar email in a host's personal mailbox: a visitor's iTIP REPLY updates the booking and the
     * timeline; invitations the host sent or accepted block their slots (busy times without CalDAV).
     */
    messageStored: recordInvitationMail,
  } as const;
}
