/** How the From line of a team reply will look for each sender-name setting (issue 5). */
import type { SenderNameMode } from '../api/types.js';

export const SENDER_NAME_MODES: ReadonlyArray<{ id: SenderNameMode; label: string }> = [
  { id: 'agent_at_inbox', label: 'Agent first name at inbox name' },
  { id: 'inbox', label: 'Inbox name only' },
  { id: 'company', label: 'Company name only' },
  { id: 'custom', label: 'Custom text' },
];

export function firstName(name: string): string {
  return name.trim().split(/\s+/)[0] ?? name;
}

/** The display name part of the From line. */
export function senderDisplayName(mode: SenderNameMode | string, ctx: { agentName: string; inboxName: string; companyName: string; custom?: string | null }): string {
  switch (mode) {
    case 'inbox':
      return ctx.inboxName;
    case 'company':
      return ctx.companyName;
    case 'custom':
      return (ctx.custom ?? '').trim() || ctx.inboxName;
    case 'agent_at_inbox':
    default:
      return `${firstName(ctx.agentName)} at ${ctx.inboxName}`;
  }
}

/** `"Ada at Support" <support@acme.com>` as a mail client shows it. */
export function fromLine(displayName: string, address: string): string {
  const needsQuotes = /[",.;:<>@()[\]\\]/.test(displayName);
  const shown = needsQuotes ? `"${displayName.replace(/(["\\])/g, '\\$1')}"` : displayName;
  return `${shown} <${address}>`;
}
