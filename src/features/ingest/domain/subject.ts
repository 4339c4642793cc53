/**
 * Base subject (RFC 5256 section 2.1) with the reply and forward prefixes that real clients write
 * in other languages. Pure.
 *
 * RFC 5256 removes, repeatedly: trailing "(fwd)" and whitespace; leading "re:", "fw:", "fwd:" with
 * optional "[blob]" before them and whitespace; a leading "[blob]" (a list tag) when something is
 * left after it; and a "[fwd: ...]" wrapper. Here the prefix list is widened to the localized
 * forms seen in practice (AW, WG, SV, VS, TR, Antw, Odp, RIF, ...), counters ("RE[2]:", "Re^3:",
 * "Re(2):") and full-width colons.
 */

/** Reply prefixes (the word before the colon), lower-case. */
const REPLY_PREFIXES = [
  're', // English, and most clients in every language
  'aw', // German "Antwort"
  'antw', // Dutch "Antwoord"
  'sv', // Swedish, Danish, Norwegian "Svar"
  'vs', // Finnish "Vastaus" (Danish/Norwegian use it for forwards; both mean "this continues a thread")
  'odp', // Polish "Odpowiedź"
  'ynt', // Turkish "Yanıt"
  'res', // Portuguese "Resposta"
  'rif', // Italian "Riferimento"
  'r', // Italian Outlook "R:"
  'vá', // Hungarian "Válasz"
  'odg', // Croatian "Odgovor"
  'απ', // Greek
  'σχετ', // Greek
  'отв', // Russian "Ответ"
  '回复', // Chinese (simplified)
  '答复', // Chinese (simplified, Outlook)
  '回覆', // Chinese (traditional)
  '회신', // Korean
  'השב', // Hebrew
];

/** Forward prefixes, lower-case. */
const FORWARD_PREFIXES = [
  'fw',
  'fwd',
  'wg', // German "Weitergeleitet"
  'tr', // French "Transféré"
  'vb', // Swedish "Vidarebefordrat"
  'vl', // Finnish "Välitetty"
  'vs', // see above
  'pd', // Polish "Przekaż dalej"
  'doorst', // Dutch "Doorsturen"
  'enc', // Portuguese "Encaminhado"
  'rv', // Spanish "Reenviado"
  'i', // Italian Outlook "I:" (Inoltrato)
  'ilt', // Turkish "İlet"
  'πρθ', // Greek
  'пересл', // Russian
  '转发', // Chinese (simplified)
  '轉寄', // Chinese (traditional)
  '轉發',
  '전달', // Korean
  'הועבר', // Hebrew
];

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const ALL = [...new Set([...REPLY_PREFIXES, ...FORWARD_PREFIXES])].sort((a, b) => b.length - a.length);
// A prefix word, an optional counter, then a colon (ASCII or full-width). The word must not be
// glued to a preceding letter ("Fire:" is not "re:"), which the ^ anchor guarantees.
const PREFIX = new RegExp(`^(${ALL.map(escape).join('|')})[ \\t]*(?:\\[\\d{1,4}\\]|\\(\\d{1,4}\\)|\\^\\d{1,4}|\\d{1,2})?[ \\t]*[:：][ \\t]*`, 'iu');
const BLOB = /^\[[^[\]]*\][ \t]*/u;
const TRAILER = /(?:\s*\((?:fwd|fw)\))+\s*$|\s+$/iu;
const FWD_WRAPPER = /^\[(?:fwd|fw):[ \t]*([^]*)\]$/iu;

const MAX_INPUT = 4096;

export interface SubjectAnalysis {
  /** The subject without reply/forward prefixes, list tags and trailers; case kept. */
  base: string;
  /** True when any reply prefix was removed. */
  reply: boolean;
  /** True when any forward prefix, "(fwd)" trailer or "[fwd: ...]" wrapper was removed. */
  forward: boolean;
  /** List tags removed from the front ("[dev]"), without brackets. */
  tags: string[];
}

export function analyseSubject(subject: string | null | undefined): SubjectAnalysis {
  let s = (subject ?? '').slice(0, MAX_INPUT).replace(/[\t\r\n]+/g, ' ').replace(/ {2,}/g, ' ').trim();
  let reply = false;
  let forward = false;
  const tags: string[] = [];
  for (let guard = 0; guard < 200; guard++) {
    const before = s;
    // (2) trailers
    const t = TRAILER.exec(s);
    if (t && t[0] !== '') {
      if (/fw/i.test(t[0])) forward = true;
      s = s.slice(0, t.index);
    }
    // (3)/(4) leaders: prefixes and blobs, repeatedly
    for (let inner = 0; inner < 200; inner++) {
      const innerBefore = s;
      s = s.replace(/^\s+/u, ''); // any Unicode space: "Re:\u3000Re:" (found by the fuzzer)
      const p = PREFIX.exec(s);
      if (p) {
        const word = p[1]!.toLowerCase();
        if (FORWARD_PREFIXES.includes(word) && !REPLY_PREFIXES.includes(word)) forward = true;
        else reply = true;
        s = s.slice(p[0].length);
        continue;
      }
      const b = BLOB.exec(s);
      if (b && s.length > b[0].length) {
        // a blob followed by a prefix is always a leader; a lone blob only if something remains
        const rest = s.slice(b[0].length);
        if (rest.trim() !== '') {
          tags.push(b[0].trim().slice(1, -1));
          s = rest;
          continue;
        }
      }
      if (s === innerBefore) break;
    }
    // (6) [fwd: ...] wrapper
    const w = FWD_WRAPPER.exec(s);
    if (w) {
      forward = true;
      s = w[1]!.trim();
    }
    if (s === before) break;
  }
  return { base: s.trim(), reply, forward, tags };
}

/** RFC 5256 base subject (with localized prefixes), case kept. */
export function baseSubject(subject: string | null | undefined): string {
  return analyseSubject(subject).base;
}

/**
 * The comparison key for subject-based threading: Unicode NFKC first (full-width forms to ASCII, so
 * "ＲＥ:" is a prefix too), then the base subject, case-folded, whitespace collapsed. '' means "no usable subject".
 */
export function subjectKey(subject: string | null | undefined): string {
  // One pass can leave something a second pass would still strip: the input cap can cut a trailer
  // ("(fwd)" repeated past 4,096 characters) and case folding can change lengths ("İ" -> "i̇"). The
  // key is the fixed point, so a stored key maps to itself (found by the fuzzer).
  let key = subjectKeyOnce(subject ?? '');
  for (let i = 0; i < 8; i++) {
    const again = subjectKeyOnce(key);
    if (again === key) break;
    key = again;
  }
  return key;
}

function subjectKeyOnce(subject: string): string {
  return capUtf8(baseSubject(subject.normalize('NFKC')).toLowerCase().replace(/\s+/g, ' ').trim(), MAX_KEY_BYTES);
}

/**
 * Longest subject key in UTF-8 bytes. The key is stored in an index (a PostgreSQL btree entry holds at
 * most 2,704 bytes): a 4,096-character subject of distinct words made ingest fail there.
 */
export const MAX_KEY_BYTES = 1000;

function capUtf8(s: string, max: number): string {
  if (s.length * 3 <= max) return s;
  let bytes = 0;
  let end = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    const n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + n > max) break;
    bytes += n;
    end += ch.length;
  }
  return end === s.length ? s : s.slice(0, end).trimEnd();
}

/** True when the subject carries a reply or forward marker ("Re:", "AW:", "Fwd:", "(fwd)" ...). */
export function isResponseSubject(subject: string | null | undefined): boolean {
  const a = analyseSubject(subject);
  return a.reply || a.forward;
}
