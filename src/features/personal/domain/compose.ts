/**
 * Rules of composing a one-to-one email from the CRM that need no I/O: attachment budget, schedule
 * window, signature placement, and the order of the from-addresses offered. Pure.
 */
import { escapeHtml } from './html.js';
import { applyDefaultFont, type DefaultFont } from './font.js';
import { renderTokens, type TokenProblem, type TokenValues } from './tokens.js';

export const MAX_RECIPIENTS = 100;
export const MAX_SCHEDULE_AHEAD_MS = 365 * 24 * 3600_000;
/** A time this close to now (or in the past) means "send now". */
export const SCHEDULE_SLACK_MS = 5_000;

export function attachmentProblem(files: ReadonlyArray<{ filename: string; size: number }>, maxBytes: number): string | null {
  const total = files.reduce((s, f) => s + f.size, 0);
  if (total <= maxBytes) return null;
  const mb = (n: number) => `${(n / (1024 * 1024)).toFixed(1)} MB`;
  return `The attachments add up to ${mb(total)}; at most ${mb(maxBytes)} can be sent in one email. Remove some, or share large files as a link.`;
}

export type ScheduleCheck = { ok: true; sendAt: number | null } | { ok: false; message: string };

/** null = send now. Refuses times more than a year ahead. */
export function checkSendAt(sendAt: number | null | undefined, now: number): ScheduleCheck {
  if (sendAt === null || sendAt === undefined) return { ok: true, sendAt: null };
  if (!Number.isFinite(sendAt)) return { ok: false, message: 'The scheduled time is not a valid date.' };
  if (sendAt <= now + SCHEDULE_SLACK_MS) return { ok: true, sendAt: null };
  if (sendAt > now + MAX_SCHEDULE_AHEAD_MS) return { ok: false, message: 'An email can be scheduled at most a year ahead.' };
  return { ok: true, sendAt };
}

/** The body with the signature below it (HTML signatures as they are; plain ones escaped, lines kept). */
export function withSignature(html: string, signature: string | null | undefined): string {
  const sig = (signature ?? '').trim();
  if (!sig) return html;
  const sigHtml = /<[a-z][\s\S]*>/i.test(sig) ? sig : escapeHtml(sig).replace(/\r?\n/g, '<br>');
  const block = `<div class="mailroom-signature"><br>${sigHtml}</div>`;
  const at = html.search(/<\/body\s*>(?![\s\S]*<\/body\s*>)/i);
  return at >= 0 ? `${html.slice(0, at)}${block}${html.slice(at)}` : `${html}${block}`;
}

/**
 * An email as its recipient reads it: tokens filled in the subject and the body, the signature below the
 * body, the sender's default font applied. When a token cannot be filled, `problems` lists each one and
 * the subject and body keep their tokens (what a preview shows; sending refuses it).
 */
export function renderPersonalEmail(p: { subject: string; html: string; values: TokenValues; signature: string | null; font: DefaultFont | null }): { subject: string; html: string; problems: TokenProblem[] } {
  const signed = withSignature(p.html, p.signature);
  const subject = renderTokens(p.subject, p.values, { html: false });
  const body = renderTokens(signed, p.values, { html: true });
  const problems = [...(subject.ok ? [] : subject.problems), ...(body.ok ? [] : body.problems)];
  const html = body.ok ? body.text : signed;
  return { subject: subject.ok ? subject.text : p.subject, html: p.font ? applyDefaultFont(html, p.font) : html, problems };
}

/** Default "from" first, then the others by address. */
export function orderFromAddresses<T extends { isDefault: boolean; address: string }>(list: readonly T[]): T[] {
  return [...list].sort((a, b) => Number(b.isDefault) - Number(a.isDefault) || a.address.localeCompare(b.address));
}
