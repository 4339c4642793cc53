/**
 * A sequence email as its recipient reads it, with personal email's rules (tokens, signature, default
 * font, text part), and whether a contact may be enrolled. Pure: the pieces come from personal email's
 * domain modules.
 */
import { renderPersonalEmail } from '../../personal/domain/compose.js';
import { checkFont, type DefaultFont } from '../../personal/domain/font.js';
import { tokenValues, describeTokenProblems, type TokenProblem, type TokenValues } from '../../personal/domain/tokens.js';
import { htmlToText } from '../../personal/domain/text.js';
import { isNeverLogged, type NeverLogEntry } from '../../personal/domain/logging.js';
import { isFreemailDomain } from '../../crm/domain/contacts.js';
import { followUpSubject, type EmailVariant } from './definition.js';

export { tokenValues, describeTokenProblems, htmlToText, isFreemailDomain };
export type { TokenValues, TokenProblem, DefaultFont };

export function fontFromJson(value: unknown): DefaultFont | null {
  if (!value || typeof value !== 'object') return null;
  const r = checkFont(value as Record<string, unknown>);
  return r.ok ? r.font : null;
}

export function neverLogEntries(value: unknown): NeverLogEntry[] {
  if (!Array.isArray(value)) return [];
  return value.filter((e): e is NeverLogEntry => !!e && typeof e === 'object' && (e.kind === 'address' || e.kind === 'domain') && typeof e.value === 'string');
}

export function onNeverLogList(address: string, entries: readonly NeverLogEntry[]): boolean {
  return isNeverLogged(address, entries);
}

/** The subject and body of one email step for one contact. A follow-up without its own subject (or any follow-up when threaded) is `Re: <first subject>`. */
export function renderStepEmail(p: {
  variant: EmailVariant;
  firstSubject: string | null;
  threaded: boolean;
  values: TokenValues;
  signature: string | null;
  font: DefaultFont | null;
}): { subject: string; html: string; text: string; problems: TokenProblem[] } {
  const followUp = p.firstSubject !== null;
  const subjectSource = followUp && (p.threaded || !p.variant.subject) ? followUpSubject(p.firstSubject!) : p.variant.subject;
  const r = renderPersonalEmail({ subject: subjectSource, html: p.variant.html, values: p.values, signature: p.signature, font: p.font });
  const subject = r.subject.replace(/[\r\n]+/g, ' ').trim().slice(0, 998);
  return { subject, html: r.html, text: htmlToText(r.html), problems: r.problems };
}
