/**
 * Email templates and snippets: what a salesperson saves once and reuses from any contact's record.
 * A template is a subject and an HTML body; a snippet is a short HTML piece with a shortcut the composer
 * inserts (`/intro`). Both may hold personalization tokens; a token that could never render (unknown or
 * malformed) is refused when saving, so a saved template never fails later for a reason its author could
 * have fixed. Missing values are a per-contact matter: the preview and the send refuse those. Pure.
 */
import { renderTokens, TOKENS, describeTokenProblems, type TokenValues } from './tokens.js';

export type TemplateKind = 'template' | 'snippet';

export const MAX_TEMPLATE_NAME = 120;
export const MAX_TEMPLATE_SUBJECT = 2000;
export const MAX_TEMPLATE_HTML = 200_000;
export const MAX_SNIPPET_HTML = 20_000;
export const MAX_TEMPLATES_PER_USER = 500;

export interface TemplateInput {
  kind: TemplateKind;
  name: string;
  /** Templates only. */
  subject?: string;
  html: string;
  /** Snippets only: letters, digits, '-' and '_', 1 to 30 characters, without the leading '/'. */
  shortcut?: string | null;
  /** Visible to everyone in the account (only admins may share). */
  shared?: boolean;
}

export interface CleanTemplate {
  kind: TemplateKind;
  name: string;
  subject: string;
  html: string;
  shortcut: string | null;
  shared: boolean;
}

export type TemplateCheck = { ok: true; template: CleanTemplate } | { ok: false; field: string; message: string };

/** Every token filled, so only unknown or malformed tokens are reported. */
const ALL_FILLED: TokenValues = Object.fromEntries(TOKENS.map((t) => [t, 'x']));

export function checkTemplate(input: TemplateInput): TemplateCheck {
  const name = (input.name ?? '').replace(/\s+/g, ' ').trim();
  if (name === '') return { ok: false, field: 'name', message: 'Give the template a name, so you can find it in the composer.' };
  if (name.length > MAX_TEMPLATE_NAME) return { ok: false, field: 'name', message: `The name is longer than ${MAX_TEMPLATE_NAME} characters.` };
  const isSnippet = input.kind === 'snippet';
  const subject = isSnippet ? '' : (input.subject ?? '').replace(/[\r\n]+/g, ' ').trim();
  if (!isSnippet && subject.length > MAX_TEMPLATE_SUBJECT) return { ok: false, field: 'subject', message: `The subject is longer than ${MAX_TEMPLATE_SUBJECT} characters.` };
  const html = input.html ?? '';
  const maxHtml = isSnippet ? MAX_SNIPPET_HTML : MAX_TEMPLATE_HTML;
  if (html.trim() === '' && subject === '') return { ok: false, field: 'html', message: isSnippet ? 'A snippet needs some text.' : 'A template needs a subject or a body.' };
  if (html.length > maxHtml) return { ok: false, field: 'html', message: `The ${isSnippet ? 'snippet' : 'body'} is longer than ${maxHtml.toLocaleString('en')} characters.` };
  let shortcut: string | null = null;
  if (isSnippet && input.shortcut != null && input.shortcut.trim() !== '') {
    shortcut = input.shortcut.trim().replace(/^\//, '').toLowerCase();
    if (!/^[a-z0-9_-]{1,30}$/.test(shortcut)) return { ok: false, field: 'shortcut', message: 'A shortcut is 1 to 30 letters, digits, "-" or "_" (type it after "/" in the composer).' };
  }
  if (!isSnippet && input.shortcut) return { ok: false, field: 'shortcut', message: 'Only snippets have shortcuts.' };
  for (const [field, text, htmlMode] of [['subject', subject, false], ['html', html, true]] as const) {
    const r = renderTokens(text, ALL_FILLED, { html: htmlMode });
    if (!r.ok) return { ok: false, field, message: describeTokenProblems(r.problems).replace(/^Nothing was sent: /, 'Not saved: ') };
  }
  return { ok: true, template: { kind: isSnippet ? 'snippet' : 'template', name, subject, html, shortcut, shared: input.shared === true } };
}

/** Who may change or delete a template: its owner; for shared ones, also admins. */
export function mayEditTemplate(t: { ownerUserId: string; shared: boolean }, actor: { userId: string; isAdmin: boolean }): boolean {
  return t.ownerUserId === actor.userId || (t.shared && actor.isAdmin);
}

/** Who may see (and use) a template: its owner, and everyone in the account when it is shared. */
export function mayUseTemplate(t: { ownerUserId: string; shared: boolean }, actor: { userId: string }): boolean {
  return t.shared || t.ownerUserId === actor.userId;
}
