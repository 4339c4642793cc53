/**
 * The conversation list: views, filters and the search words, resolved into one plain filter value that
 * the store turns into SQL. Pure.
 *
 * Views: open (default), mine (open and assigned to me), unassigned (open, nobody assigned), snoozed,
 * closed, spam, all (every status but spam); breaching_soon and breached (open conversations whose
 * service-level target is due within the inbox's "soon" threshold, or past due: see ./sla.ts). An explicit `status` or `assigneeId` overrides what the view
 * says. `assigneeId` may be a user id (deactivated and removed users too), "me" or "unassigned".
 */
import type { ConversationStatus } from './status.js';
import { isConversationStatus } from './status.js';

export const CONVERSATION_VIEWS = ['open', 'mine', 'unassigned', 'snoozed', 'closed', 'spam', 'all', 'breaching_soon', 'breached'] as const;
export type ConversationView = (typeof CONVERSATION_VIEWS)[number];

export interface ListFilterInput {
  view?: string;
  status?: string;
  assigneeId?: string;
  connectionId?: string;
  contactId?: string;
  /** Last message at or after (epoch ms). */
  since?: number;
  /** Last message before (epoch ms). */
  until?: number;
  q?: string;
}

export type AssigneeFilter = { kind: 'any' } | { kind: 'none' } | { kind: 'user'; userId: string };

export interface ConversationFilter {
  view: ConversationView;
  /** null = every status except spam. */
  status: ConversationStatus | null;
  assignee: AssigneeFilter;
  connectionId: string | null;
  contactId: string | null;
  since: number | null;
  until: number | null;
  /** Folded search words; all must match (as word prefixes) the subject, bodies or participants. */
  terms: string[];
  /** Only conversations whose earliest unmet target is past due, or due soon. */
  sla: 'breaching_soon' | 'breached' | null;
}

export type FilterCheck = { ok: true; filter: ConversationFilter } | { ok: false; message: string; field: string };

const VIEW_DEFAULTS: Record<ConversationView, { status: ConversationStatus | null; assignee: 'any' | 'none' | 'me' }> = {
  open: { status: 'open', assignee: 'any' },
  mine: { status: 'open', assignee: 'me' },
  unassigned: { status: 'open', assignee: 'none' },
  snoozed: { status: 'snoozed', assignee: 'any' },
  closed: { status: 'closed', assignee: 'any' },
  spam: { status: 'spam', assignee: 'any' },
  all: { status: null, assignee: 'any' },
  breaching_soon: { status: 'open', assignee: 'any' },
  breached: { status: 'open', assignee: 'any' },
};

export function resolveFilter(input: ListFilterInput, actorUserId: string): FilterCheck {
  const view = (input.view ?? 'open') as ConversationView;
  if (!CONVERSATION_VIEWS.includes(view)) return { ok: false, message: `Unknown view "${input.view}". Use one of ${CONVERSATION_VIEWS.join(', ')}.`, field: 'view' };
  const d = VIEW_DEFAULTS[view];
  let status = d.status;
  if (input.status !== undefined) {
    if (input.status === 'any') status = null;
    else if (!isConversationStatus(input.status)) return { ok: false, message: 'The status is open, snoozed, closed, spam or any.', field: 'status' };
    else status = input.status;
  }
  let assignee: AssigneeFilter = d.assignee === 'any' ? { kind: 'any' } : d.assignee === 'none' ? { kind: 'none' } : { kind: 'user', userId: actorUserId };
  if (input.assigneeId !== undefined && input.assigneeId !== '') {
    assignee = input.assigneeId === 'unassigned' ? { kind: 'none' } : input.assigneeId === 'me' ? { kind: 'user', userId: actorUserId } : { kind: 'user', userId: input.assigneeId };
  }
  if (input.since !== undefined && input.until !== undefined && input.since >= input.until) return { ok: false, message: '"since" must be before "until".', field: 'since' };
  return {
    ok: true,
    filter: {
      view,
      status,
      assignee,
      connectionId: input.connectionId || null,
      contactId: input.contactId || null,
      since: input.since ?? null,
      until: input.until ?? null,
      terms: searchTerms(input.q ?? ''),
      sla: view === 'breaching_soon' || view === 'breached' ? view : null,
    },
  };
}

const ASCII = /^[\x00-\x7f]*$/;
/**
 * Every run of characters other than a-z and 0-9 that is not already a single space (most runs in text
 * are): replacing only these by a space gives what replacing every run would, with a tenth of the
 * replacements (about half of the inbox hook's search-document CPU on 20 KB mail).
 */
const NOT_ONE_SPACE = /[^a-z0-9 ][^a-z0-9]*| [^a-z0-9]+/g;
const NON_ASCII_RUN = /[^\0-\x7f]+/g;
const MARK = /\p{M}/gu;
const NOT_LETTER_OR_DIGIT = /[^\p{L}\p{N}]+/gu;
/** After lowercasing, the ASCII letters and digits are a-z and 0-9. */
const ASCII_NOT_LETTER_OR_DIGIT = /[\0-/:-`{-\x7f]+/g;

/** Case, accents and punctuation folded away; what both the stored search text and the query words go through. */
export function foldForSearch(s: string): string {
  // Plain ASCII (most mail bodies): NFKD and the mark removal change nothing, and after lowercasing the
  // only letters and digits are a-z and 0-9, so one cheap non-Unicode pass gives the same result.
  if (ASCII.test(s)) return s.toLowerCase().replace(NOT_ONE_SPACE, ' ').trim();
  // Mostly ASCII text with some accents or typographic quotes: marks and the characters that are neither
  // letters nor digits are looked for by Unicode class only in its non-ASCII runs (a Unicode class test on
  // every character was most of this), the ASCII rest with a plain class. Same result as NFKD, marks
  // removed, lowercased, every run of non-letters-or-digits a single space, trimmed (2.5x faster on the
  // shared corpus's non-ASCII messages).
  return s
    .normalize('NFKD')
    .replace(NON_ASCII_RUN, (run) => run.replace(MARK, ''))
    .toLowerCase()
    .replace(NON_ASCII_RUN, (run) => run.replace(NOT_LETTER_OR_DIGIT, ' '))
    .replace(ASCII_NOT_LETTER_OR_DIGIT, ' ')
    .trim();
}

export const MAX_SEARCH_TERMS = 8;
const MAX_TERM = 64;

/** The words of a search box, folded, at most 8. */
export function searchTerms(q: string): string[] {
  const out: string[] = [];
  if (!q) return out; // a list without search words (most of them) skips the Unicode folding
  for (const w of foldForSearch(q).split(' ')) {
    if (!w || out.includes(w)) continue;
    out.push(w.slice(0, MAX_TERM));
    if (out.length === MAX_SEARCH_TERMS) break;
  }
  return out;
}

/** Cap on the folded text indexed per message. */
export const MAX_SEARCH_DOC = 64 * 1024;

/** The text indexed for one message: subject, participants (names and addresses) and body, folded. */
export function searchDocument(m: { subject: string; from?: { name?: string; address: string } | null; to?: ReadonlyArray<{ name?: string; address: string }>; cc?: ReadonlyArray<{ name?: string; address: string }>; text?: string | null }): string {
  const people = [m.from, ...(m.to ?? []), ...(m.cc ?? [])].filter(Boolean).map((a) => `${a!.name ?? ''} ${a!.address}`);
  // Fold only what can end up in the document: folding a multi-megabyte body holds the event loop.
  const all = [m.subject, ...people, m.text ?? ''].join(' ');
  return foldForSearch(all.length > 2 * MAX_SEARCH_DOC ? all.slice(0, 2 * MAX_SEARCH_DOC) : all).slice(0, MAX_SEARCH_DOC);
}

/**
 * The words of folded text (single spaces between them), each once, in order of first appearance. A search
 * matches every one of its words as a prefix and never a phrase, so a document of each word once finds the
 * same messages. PostgreSQL stores documents this way (../search.ts): its `to_tsvector` and GIN insert of
 * a 20 KB message's document cost 1.9 ms, 0.4 ms with each word once (mail repeats a lot: a reply quotes its
 * thread). SQLite's FTS5 tokenises a full document faster than this function dedupes it, so it gets it whole.
 */
export function distinctWords(folded: string): string {
  if (!folded) return '';
  // A scan with indexOf and the output built as it goes: 20% less CPU than split, an array and join
  // (~150 against ~187 us for a 20 KB message, measured).
  const seen = new Set<string>();
  let out = '';
  const n = folded.length;
  for (let start = 0; start <= n; ) {
    let end = folded.indexOf(' ', start);
    if (end < 0) end = n;
    const w = folded.slice(start, end);
    if (!seen.has(w)) {
      seen.add(w);
      out = seen.size === 1 ? w : `${out} ${w}`;
    }
    start = end + 1;
  }
  return out;
}

/** FTS5 MATCH expression: every term as a quoted prefix ("refund"* AND "order"*). Terms are folded words, so quoting is safe. */
export function fts5Query(terms: readonly string[]): string {
  return terms.map((t) => `"${t.replace(/"/g, '')}"*`).join(' AND ');
}

/** PostgreSQL tsquery text for to_tsquery('simple', ...): every term as a prefix (refund:* & order:*). */
export function tsQuery(terms: readonly string[]): string {
  return terms.map((t) => `${t.replace(/[^\p{L}\p{N}]/gu, '')}:*`).join(' & ');
}
