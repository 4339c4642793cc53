/**
 * Personalization tokens in templates, subjects and bodies: `{{ contact.firstName }}`, with an optional
 * fallback used when the value is empty: `{{ contact.firstName | "there" }}` (single or double quotes).
 *
 * The rule that matters: a raw token never reaches a recipient. A token whose value is missing and has
 * no fallback, an unknown token, or a `{{ ... }}` that is not a well-formed token is refused, and the
 * refusal lists every problem so the composer can point at each one. Values (and fallbacks) are escaped
 * for HTML when rendering an HTML body. Pure.
 */
import { decodeEntities, escapeHtml } from './html.js';

export const TOKENS = [
  'contact.firstName',
  'contact.lastName',
  'contact.fullName',
  'contact.email',
  'company.name',
  'company.domain',
  'sender.firstName',
  'sender.lastName',
  'sender.fullName',
  'sender.email',
] as const;
export type TokenName = (typeof TOKENS)[number];
export type TokenValues = Partial<Record<TokenName, string | null | undefined>>;

export interface TokenProblem {
  /** The token as written, braces included. */
  token: string;
  reason: 'missing_value' | 'unknown_token' | 'malformed_token';
  /** The token's name when it could be read. */
  name?: string;
}

export type RenderResult = { ok: true; text: string; used: TokenName[] } | { ok: false; problems: TokenProblem[] };

const TOKEN_RE = /\{\{([\s\S]{0,300}?)\}\}/g;
const EXPR_RE = /^\s*([A-Za-z]+\.[A-Za-z]+)\s*(?:\|\s*(?:"([^"]{0,200})"|'([^']{0,200})')\s*)?$/;

const isToken = (x: string): x is TokenName => (TOKENS as readonly string[]).includes(x);

/**
 * Renders `{{ }}` tokens in `template`. `html: true` escapes values and reads the expression through
 * character references (editors write the fallback quotes as `&quot;`), and ignores markup an editor may
 * have put inside the braces (`{{ <b>contact.firstName</b> }}`).
 */
export function renderTokens(template: string, values: TokenValues, opts: { html: boolean }): RenderResult {
  const problems: TokenProblem[] = [];
  const used = new Set<TokenName>();
  const text = template.replace(TOKEN_RE, (whole, inner: string) => {
    const expr = opts.html ? decodeEntities(inner.replace(/<[^>]*>/g, '')) : inner;
    const m = EXPR_RE.exec(expr);
    if (!m) {
      problems.push({ token: whole, reason: 'malformed_token' });
      return whole;
    }
    const name = m[1]!;
    if (!isToken(name)) {
      problems.push({ token: whole, reason: 'unknown_token', name });
      return whole;
    }
    used.add(name);
    const fallback = m[2] ?? m[3];
    const value = (values[name] ?? '').trim();
    const chosen = value !== '' ? value : fallback !== undefined ? fallback : null;
    if (chosen === null) {
      problems.push({ token: whole, reason: 'missing_value', name });
      return whole;
    }
    return opts.html ? escapeHtml(chosen) : chosen.replace(/[\r\n]+/g, ' ');
  });
  if (problems.length) return { ok: false, problems };
  return { ok: true, text, used: [...used] };
}

/** A readable sentence for a refusal ("contact.firstName has no value for this contact..."). */
export function describeTokenProblems(problems: readonly TokenProblem[]): string {
  const missing = [...new Set(problems.filter((p) => p.reason === 'missing_value').map((p) => p.name!))];
  const unknown = [...new Set(problems.filter((p) => p.reason === 'unknown_token').map((p) => p.name!))];
  const malformed = problems.filter((p) => p.reason === 'malformed_token').map((p) => p.token);
  const parts: string[] = [];
  if (missing.length) parts.push(`${missing.join(', ')} ${missing.length === 1 ? 'has' : 'have'} no value for this email: fill it in on the record, or give a fallback like {{ ${missing[0]} | "there" }}`);
  if (unknown.length) parts.push(`${unknown.join(', ')} ${unknown.length === 1 ? 'is not a' : 'are not'} personalization token${unknown.length === 1 ? '' : 's'} (use one of ${TOKENS.join(', ')})`);
  if (malformed.length) parts.push(`${malformed.slice(0, 3).join(', ')} ${malformed.length === 1 ? 'is' : 'are'} not written like a token ({{ name }} or {{ name | "fallback" }})`);
  return `Nothing was sent: ${parts.join('; ')}.`;
}

/** The token values of a contact, their company and the sender. */
export function tokenValues(p: {
  contact: { firstName: string; lastName: string; email: string | null };
  company: { name: string; domain: string | null } | null;
  sender: { name: string; email: string };
}): TokenValues {
  const full = (f: string, l: string) => [f, l].filter((x) => x.trim()).join(' ');
  const senderParts = p.sender.name.trim().split(/\s+/);
  const senderFirst = senderParts[0] ?? '';
  const senderLast = senderParts.slice(1).join(' ');
  return {
    'contact.firstName': p.contact.firstName,
    'contact.lastName': p.contact.lastName,
    'contact.fullName': full(p.contact.firstName, p.contact.lastName),
    'contact.email': p.contact.email,
    'company.name': p.company?.name ?? null,
    'company.domain': p.company?.domain ?? null,
    'sender.firstName': senderFirst,
    'sender.lastName': senderLast,
    'sender.fullName': p.sender.name.trim(),
    'sender.email': p.sender.email,
  };
}
