/**
 * Allow and deny lists of an inbox: senders on the deny list go to spam; the allow list makes
 * exceptions to the deny list (deny a whole domain, allow one address of it).
 *
 * Entries:
 *   ana@example.com     that address exactly (compared lower-case)
 *   @example.com        the domain and its subdomains (also written example.com or *@example.com)
 *
 * The most specific matching entry wins: an address beats a domain, a longer domain beats a shorter
 * one; on a tie, allow wins.
 */

export type SenderList = 'allow' | 'deny';

export type SenderPattern = { kind: 'address'; address: string } | { kind: 'domain'; domain: string };

export type PatternCheck = { ok: true; pattern: string; parsed: SenderPattern } | { ok: false; message: string };

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/;

/** Normalises an entry as typed ("*@Example.COM " -> "@example.com"), or says what is wrong. */
export function parseSenderPattern(input: string): PatternCheck {
  let s = (input ?? '').trim().toLowerCase();
  if (s.startsWith('*@')) s = s.slice(1);
  if (!s) return { ok: false, message: 'Enter an address (ana@example.com) or a domain (@example.com).' };
  if (s.startsWith('@') || !s.includes('@')) {
    const domain = s.replace(/^@/, '').replace(/\.$/, '');
    if (!DOMAIN.test(domain)) return { ok: false, message: `"${input}" is not a domain. Write a domain as @example.com.` };
    return { ok: true, pattern: `@${domain}`, parsed: { kind: 'domain', domain } };
  }
  const at = s.lastIndexOf('@');
  const local = s.slice(0, at);
  const domain = s.slice(at + 1);
  if (!local || /\s/.test(local) || local.length > 64 || !DOMAIN.test(domain)) return { ok: false, message: `"${input}" is not an email address.` };
  return { ok: true, pattern: s, parsed: { kind: 'address', address: s } };
}

export interface ListEntry {
  list: SenderList;
  pattern: string;
}

/** How specific a pattern is for an address: -1 = no match, higher = more specific. */
export function matchStrength(pattern: string, address: string): number {
  const a = address.trim().toLowerCase();
  const p = parseSenderPattern(pattern);
  if (!p.ok || !a.includes('@')) return -1;
  if (p.parsed.kind === 'address') return p.parsed.address === a ? 10_000 : -1;
  const domain = a.slice(a.lastIndexOf('@') + 1);
  const d = p.parsed.domain;
  if (domain === d || domain.endsWith(`.${d}`)) return d.length;
  return -1;
}

export interface ListVerdict {
  verdict: 'allow' | 'deny' | 'none';
  /** The entry that decided. */
  entry: ListEntry | null;
}

/** What the lists say about a sender. */
export function checkSender(entries: readonly ListEntry[], address: string | null | undefined): ListVerdict {
  if (!address) return { verdict: 'none', entry: null };
  let best: { strength: number; entry: ListEntry } | null = null;
  for (const e of entries) {
    const s = matchStrength(e.pattern, address);
    if (s < 0) continue;
    if (!best || s > best.strength || (s === best.strength && e.list === 'allow' && best.entry.list === 'deny')) best = { strength: s, entry: e };
  }
  return best ? { verdict: best.entry.list, entry: best.entry } : { verdict: 'none', entry: null };
}
