/**
 * How the From line of a team reply will look for each sender-name setting: the server's own rules
 * (src/shared/sender-name.ts), so the preview is what will be sent.
 */
import type { SenderNameMode } from '../api/types.js';
import { renderSenderName } from '../../../src/shared/sender-name.js';

export const SENDER_NAME_MODES: ReadonlyArray<{ id: SenderNameMode; label: string }> = [
  { id: 'agent_at_inbox', label: 'Agent first name at inbox name' },
  { id: 'inbox', label: 'Inbox name only' },
  { id: 'company', label: 'Company name only' },
  { id: 'custom', label: 'Custom text' },
];

/** The display name part of the From line, as the server renders it. */
export function senderDisplayName(
  mode: SenderNameMode | string,
  ctx: { agentName: string; agentEmail: string; inboxName: string; companyName: string; custom?: string | null },
): string {
  return renderSenderName(mode, ctx.custom ?? null, ctx);
}

/** `"Ada at Support" <support@acme.com>` as a mail client shows it. */
export function fromLine(displayName: string, address: string): string {
  const needsQuotes = /[",.;:<>@()[\]\\]/.test(displayName);
  const shown = needsQuotes ? `"${displayName.replace(/(["\\])/g, '\\$1')}"` : displayName;
  return `${shown} <${address}>`;
}
