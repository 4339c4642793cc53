/**
 * The per-user BCC / forwarding logging address, and reading the mail that reaches it. Pure.
 *
 * The address is `bcc-<20 hex digits>@<inbound domain>`: unguessable (80 random bits), so it acts as a
 * capability; on top of that only mail whose From is one of the user's own connected addresses is accepted.
 */
export const LOGGING_ADDRESS_PREFIX = 'bcc-';

/** The address for `randomHex` (at least 20 hex digits) at the inbound domain. */
export function makeLoggingAddress(randomHex: string, inboundDomain: string): string {
  if (!/^[0-9a-f]{20,}$/.test(randomHex)) throw new TypeError('makeLoggingAddress needs at least 20 lower-case hex digits');
  const domain = inboundDomain.trim().toLowerCase().replace(/\.$/, '');
  if (!domain || /[\s@<>]/.test(domain)) throw new TypeError(`Not a domain: ${JSON.stringify(inboundDomain)}`);
  return `${LOGGING_ADDRESS_PREFIX}${randomHex.slice(0, 20)}@${domain}`;
}

export function looksLikeLoggingAddress(address: string): boolean {
  return /^bcc-[0-9a-f]{20}@[^@\s]+$/.test(address.trim().toLowerCase());
}

/**
 * The first address in a From header value (`"Ann" <ann@acme.com>`, `ann@acme.com (Ann)`, an encoded
 * display name...), lower-cased, or null.
 */
export function addressInHeader(value: string | null | undefined): string | null {
  if (!value) return null;
  const angle = /<\s*([^<>\s@]+@[^<>\s@]+)\s*>/.exec(value);
  if (angle) return angle[1]!.toLowerCase();
  const bare = /([^\s<>"(),;:@]+@[^\s<>"(),;:@]+)/.exec(value.replace(/\([^)]*\)/g, ' '));
  return bare ? bare[1]!.replace(/\.$/, '').toLowerCase() : null;
}

/**
 * The original sender of a message the user forwarded (a `From:` line inside the forwarded block of the
 * text body, as Gmail, Outlook and Apple Mail write it), or null.
 */
export function forwardedSender(text: string | null | undefined): string | null {
  if (!text) return null;
  const marker = /(-{2,}\s*(forwarded message|original message|weitergeleitete nachricht|message transféré|mensaje reenviado)\s*-{2,}|^begin forwarded message:|^_{10,})/im.exec(text);
  if (!marker) return null;
  const after = text.slice(marker.index, marker.index + 4000);
  const from = /^\s*[>*\s]*(from|von|de|da|van)\s*:\s*\**\s*(.+)$/im.exec(after);
  return from ? addressInHeader(from[2]) : null;
}

/** Subjects of forwards: `Fwd:`, `Fw:`, `WG:`, `TR:`, `RV:`... */
export function isForwardSubject(subject: string): boolean {
  return /^\s*(fwd?|wg|tr|rv|enc|i|doorst)\s*:/i.test(subject);
}
