/**
 * Out-of-office replies: is an auto-reply an absence notice, and what return date does it state?
 * Pure over the subject and text. Phrases in English, German, French, Spanish, Italian, Portuguese and
 * Dutch (real Outlook auto-replies can arrive without `Auto-Submitted`, so the words matter).
 */

const OOO_PHRASES: readonly RegExp[] = [
  // English
  /\bout of (the )?office\b/i,
  /\b(i am|i'm|i will be|i'll be) (currently )?(away|out|on (annual |parental |sick )?leave|on vacation|on holiday|travell?ing|off)\b/i,
  /\bautomatic reply\b|\bauto(matic)?[- ]?reply\b|\bautoreply\b/i,
  /\blimited access to (my )?e-?mail\b/i,
  // German
  /\babwesenheit|\bbin (derzeit |zurzeit |aktuell )?(nicht im büro|abwesend|im urlaub)|\bautomatische antwort\b|\bnicht im büro\b/i,
  // French
  /\babsent(e)? du bureau\b|\b(je suis|je serai) (actuellement )?(absent|en congés?|en vacances)|\bréponse automatique\b|\bmessage d'absence\b/i,
  // Spanish
  /\bfuera de la oficina\b|\b(estoy|estaré) (fuera|de vacaciones|ausente)|\brespuesta automática\b/i,
  // Italian
  /\bfuori ufficio\b|\b(sono|sarò) (assente|in ferie|fuori)|\brisposta automatica\b/i,
  // Portuguese
  /\bfora do escritório\b|\b(estou|estarei) (ausente|de férias|fora)|\bresposta automática\b/i,
  // Dutch
  /\bniet op kantoor\b|\bafwezig(heid)?\b|\bben (momenteel )?(met vakantie|afwezig|niet aanwezig)|\bautomatisch antwoord\b/i,
];

/** True when the subject or the first part of the text reads as an absence notice. */
export function looksOutOfOffice(subject: string, text: string): boolean {
  const head = `${subject}\n${text.slice(0, 2000)}`;
  return OOO_PHRASES.some((re) => re.test(head));
}

const MONTHS: Record<string, number> = {};
const monthNames: Array<[number, string[]]> = [
  [1, ['january', 'jan', 'januar', 'jänner', 'janvier', 'janv', 'enero', 'ene', 'gennaio', 'gen', 'janeiro', 'januari']],
  [2, ['february', 'feb', 'februar', 'février', 'fevrier', 'févr', 'febrero', 'febbraio', 'fevereiro', 'fev', 'februari']],
  [3, ['march', 'mar', 'märz', 'maerz', 'mars', 'marzo', 'março', 'marco', 'maart', 'mrt']],
  [4, ['april', 'apr', 'avril', 'avr', 'abril', 'abr', 'aprile']],
  [5, ['may', 'mai', 'mayo', 'maggio', 'mag', 'maio', 'mei']],
  [6, ['june', 'jun', 'juni', 'juin', 'junio', 'giugno', 'giu', 'junho']],
  [7, ['july', 'jul', 'juli', 'juillet', 'juil', 'julio', 'luglio', 'lug', 'julho']],
  [8, ['august', 'aug', 'août', 'aout', 'agosto', 'ago', 'augustus']],
  [9, ['september', 'sep', 'sept', 'septembre', 'septiembre', 'settembre', 'set', 'setembro']],
  [10, ['october', 'oct', 'oktober', 'okt', 'octobre', 'octubre', 'ottobre', 'ott', 'outubro', 'out']],
  [11, ['november', 'nov', 'novembre', 'noviembre', 'novembro']],
  [12, ['december', 'dec', 'dezember', 'dez', 'décembre', 'decembre', 'déc', 'diciembre', 'dic', 'dicembre', 'dezembro']],
];
for (const [n, names] of monthNames) for (const name of names) MONTHS[name] = n;
const MONTH_RE = Object.keys(MONTHS)
  .sort((a, b) => b.length - a.length)
  .map((m) => m.replace('.', '\\.'))
  .join('|');

/** Words that introduce the return (or the last day away), per language. `last` = the date is the last day away. */
const cue = (words: string, last: boolean, usDates = false) => ({ re: new RegExp(`(?:^|[^\\p{L}])(?:${words})(?=[\\s,:]|$)`, 'iu'), last, usDates });
const CUES: ReadonlyArray<{ re: RegExp; last: boolean; usDates: boolean }> = [
  cue("back|return|returning|returns|in the office|in office|back in the office|back in office", false, true),
  cue('until|till|through|thru', true, true),
  cue('zurück|wieder im büro|wieder erreichbar|wieder da|ab dem|ab', false),
  cue('bis zum|bis einschließlich|bis einschliesslich|bis', true),
  cue('retour|de retour|serai de retour|à partir du|a partir du', false),
  cue("jusqu'au|jusqu’au|jusqu'à|jusqu’à|au", true),
  cue('regreso|regresaré|de vuelta|vuelvo|a partir del', false),
  cue('hasta el|hasta', true),
  cue('rientro|rientrerò|di ritorno|rientrerò il', false),
  cue('fino al|fino a|fino', true),
  cue('regresso|retorno|volto|estarei de volta|a partir de', false),
  cue('até ao|até o|até a|até', true),
  cue('terug|weer aanwezig|weer op kantoor|vanaf', false),
  cue('tot en met|t/m|tot', true),
];

interface FoundDate {
  year: number | null;
  month: number;
  day: number;
}

function validDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1 || d > 31) return false;
  const dt = new Date(Date.UTC(y, m - 1, d));
  return dt.getUTCMonth() === m - 1 && dt.getUTCDate() === d;
}

/** The first date written at the start of `s` (within a few words). */
function readDate(s: string, usDates: boolean): FoundDate | null {
  const text = s.slice(0, 60).toLowerCase();
  let m = /(\d{4})-(\d{2})-(\d{2})/.exec(text);
  if (m) return { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
  m = /\b(\d{1,2})([./])(\d{1,2})(?:\2(\d{2,4}))?\b/.exec(text);
  const mm = new RegExp(`\\b(\\d{1,2})(?:st|nd|rd|th|er|º|°|\\.)?\\s*(?:de\\s+|of\\s+)?(${MONTH_RE})(?![\\p{L}])\\.?(?:\\s+(?:de\\s+)?(\\d{4}))?`, 'iu').exec(text);
  const md = new RegExp(`(?<![\\p{L}])(${MONTH_RE})\\.?\\s+(\\d{1,2})(?:st|nd|rd|th)?(?:,?\\s+(\\d{4}))?`, 'iu').exec(text);
  const candidates: Array<{ at: number; date: FoundDate }> = [];
  if (m) {
    const a = Number(m[1]);
    const b = Number(m[3]);
    const y = m[4] ? (m[4].length === 2 ? 2000 + Number(m[4]) : Number(m[4])) : null;
    // Dots are always day.month; slashes are month/day in English unless impossible.
    let day = a;
    let month = b;
    if (m[2] === '/' && usDates) [day, month] = [b, a];
    if (month > 12 && day <= 12) [day, month] = [month, day];
    candidates.push({ at: m.index, date: { year: y, month, day } });
  }
  if (mm && MONTHS[mm[2]!]) candidates.push({ at: mm.index, date: { year: mm[3] ? Number(mm[3]) : null, month: MONTHS[mm[2]!]!, day: Number(mm[1]) } });
  if (md && MONTHS[md[1]!]) candidates.push({ at: md.index, date: { year: md[3] ? Number(md[3]) : null, month: MONTHS[md[1]!]!, day: Number(md[2]) } });
  candidates.sort((x, y) => x.at - y.at);
  return candidates[0]?.date ?? null;
}

const pad = (n: number) => String(n).padStart(2, '0');

function addDays(iso: string, n: number): string {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/**
 * The date the sender is back (`yyyy-mm-dd`), read from the reply's text, or null when it states none.
 * "until 12 March" (the last day away) gives the day after it. A date without a year is the next one on
 * or after `receivedOn` (`yyyy-mm-dd`, the reply's local date). A date in the past or more than a year
 * ahead is ignored.
 */
export function parseReturnDate(subject: string, text: string, receivedOn: string): string | null {
  const body = `${subject}\n${text.slice(0, 4000)}`.replace(/\s+/g, ' ');
  const received = receivedOn;
  const [ry, rm, rd] = received.split('-').map(Number) as [number, number, number];
  let best: { at: number; iso: string } | null = null;
  for (const cue of CUES) {
    const re = new RegExp(cue.re.source, 'giu');
    for (let m = re.exec(body); m; m = re.exec(body)) {
      const after = body.slice(m.index + m[0].length);
      // Skip a weekday name before the date ("back on Monday, 10 March").
      const date = readDate(after.replace(/^[\s,:]*(on|le|am|el|il|a|op|em)?\s*/i, ''), cue.usDates);
      if (!date) continue;
      let year = date.year;
      if (year === null) {
        year = ry;
        if (date.month < rm || (date.month === rm && date.day < rd)) {
          // Shortly before today: a date in the past ("I was back on 2 March"), not next year's.
          if (`${ry}-${pad(date.month)}-${pad(date.day)}` >= addDays(received, -60)) continue;
          year += 1;
        }
      }
      if (!validDate(year, date.month, date.day)) continue;
      let iso = `${year}-${pad(date.month)}-${pad(date.day)}`;
      if (cue.last) iso = addDays(iso, 1);
      if (iso < received || iso > addDays(received, 366)) continue;
      if (!best || m.index < best.at) best = { at: m.index, iso };
      break;
    }
  }
  return best?.iso ?? null;
}
