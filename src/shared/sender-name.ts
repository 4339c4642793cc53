/**
 * How replies from a team address are signed: the From display name and the team signature.
 *
 * Sender name modes (per team address):
 *   agent_at_inbox  "{agent first name} at {inbox name}"   e.g. "Ana at Support" (the default)
 *   inbox           the inbox name                          e.g. "Support"
 *   company         the account (company) name              e.g. "Acme"
 *   custom          custom text, which may use the placeholders below
 * When a part is missing (an agent without a name), the name falls back to the inbox name.
 *
 * Signature placeholders: {agent_first_name}, {agent_last_name}, {agent_name}, {agent_email},
 * {inbox_name}, {company_name}. Unknown placeholders are left as written, so a typo shows up in the
 * preview instead of vanishing.
 */

export const SENDER_NAME_MODES = ['agent_at_inbox', 'inbox', 'company', 'custom'] as const;
export type SenderNameMode = (typeof SENDER_NAME_MODES)[number];

export interface SenderContext {
  agentName: string;
  agentEmail: string;
  inboxName: string;
  companyName: string;
}

/** First word of a person's name ("Ana María López" -> "Ana"). */
export function firstNameOf(name: string): string {
  return name.trim().split(/\s+/)[0] ?? '';
}

/** Everything after the first word ("Ana María López" -> "María López"). */
export function lastNameOf(name: string): string {
  return name.trim().split(/\s+/).slice(1).join(' ');
}

export const PLACEHOLDERS = ['agent_first_name', 'agent_last_name', 'agent_name', 'agent_email', 'inbox_name', 'company_name'] as const;

function values(c: SenderContext): Record<(typeof PLACEHOLDERS)[number], string> {
  return {
    agent_first_name: firstNameOf(c.agentName),
    agent_last_name: lastNameOf(c.agentName),
    agent_name: c.agentName.trim(),
    agent_email: c.agentEmail.trim(),
    inbox_name: c.inboxName.trim(),
    company_name: c.companyName.trim(),
  };
}

/** Replaces the known placeholders ({name} or {{name}}, spaces allowed inside the braces). */
export function fillPlaceholders(template: string, c: SenderContext): string {
  const v = values(c);
  return template.replace(/\{\{?\s*([a-z_]+)\s*\}?\}/g, (whole, name: string) => (name in v ? v[name as keyof typeof v] : whole));
}

/** A display name safe to put in a From header: no line breaks or control characters, at most 200 characters. */
export function cleanDisplayName(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200);
}

/** The From display name of a reply. */
export function renderSenderName(mode: string | null | undefined, custom: string | null | undefined, c: SenderContext): string {
  const inbox = c.inboxName.trim();
  let name: string;
  switch ((mode ?? 'agent_at_inbox') as SenderNameMode) {
    case 'inbox':
      name = inbox;
      break;
    case 'company':
      name = c.companyName.trim() || inbox;
      break;
    case 'custom':
      name = custom?.trim() ? fillPlaceholders(custom, c) : inbox;
      break;
    case 'agent_at_inbox':
    default: {
      const first = firstNameOf(c.agentName);
      name = first ? `${first} at ${inbox}` : inbox;
    }
  }
  return cleanDisplayName(name);
}

/** The signature with its placeholders filled, or '' when there is none. */
export function renderSignature(signature: string | null | undefined, c: SenderContext): string {
  if (!signature?.trim()) return '';
  return fillPlaceholders(signature, c).replace(/\r\n?/g, '\n').trimEnd();
}
