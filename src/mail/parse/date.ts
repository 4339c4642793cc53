/**
 * Date header parsing that does not depend on the server's time zone and does not accept garbage.
 * RFC 5322 form first (with the obsolete forms: 2-digit years, named zones, missing seconds,
 * comments, dots as time separators), then the JavaScript parser for other real-world shapes
 * (ctime `Mon Jan  3 10:00:00 2022`, ISO 8601), always reading a missing zone as UTC.
 */

const MONTHS: Record<string, number> = { jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11 };
const ZONES: Record<string, number> = {
  ut: 0, utc: 0, gmt: 0, z: 0, wet: 0,
  est: -5 * 60, edt: -4 * 60, cst: -6 * 60, cdt: -5 * 60, mst: -7 * 60, mdt: -6 * 60, pst: -8 * 60, pdt: -7 * 60,
  cet: 60, cest: 120, met: 60, mest: 120, eet: 120, eest: 180, bst: 60, jst: 540, kst: 540, ist: 330,
};

const RFC5322 =
  /^(?:[a-z]+\.?,?\s*)?(\d{1,2})[\s-]+([a-z]{3})[a-z]*\.?[\s-]+(\d{2,4}),?\s+(\d{1,2})\s*[:.]\s*(\d{1,2})(?:\s*[:.]\s*(\d{1,2}))?(?:\.\d+)?\s*(?:([+-])(\d{1,2}):?(\d{2})|([a-z]{1,5})(?:([+-])(\d{1,2}):?(\d{2})?)?)?/i;

export function parseMailDate(value: string | null | undefined): Date | null {
  if (!value) return null;
  const v = value
    .replace(/\([^()]*\)/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (v === '' || v.length > 200) return null;
  const strict = parseRfc5322(v);
  // A date in RFC 5322 shape with impossible values (30 Feb, 25:00) is refused, not "corrected".
  const d = strict === undefined ? parseLoose(v) : strict;
  if (!d) return null;
  const y = d.getUTCFullYear();
  if (y < 1900 || y > 9999) return null;
  return d;
}

/** undefined: not in RFC 5322 shape; null: in shape but impossible. */
function parseRfc5322(v: string): Date | null | undefined {
  const m = RFC5322.exec(v);
  if (!m) return undefined;
  const day = Number(m[1]);
  const month = MONTHS[m[2]!.toLowerCase()];
  if (month === undefined) return undefined;
  let year = Number(m[3]);
  if (m[3]!.length === 2) year += year < 50 ? 2000 : 1900;
  else if (m[3]!.length === 3) year += 1900;
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] !== undefined ? Number(m[6]) : 0;
  if (day < 1 || day > 31 || hour > 24 || minute > 59 || second > 60) return null;
  let offset = 0;
  if (m[7]) {
    offset = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9]));
  } else if (m[10]) {
    const zone = ZONES[m[10].toLowerCase()];
    if (m[11]) {
      // GMT+2, UTC-05:00
      offset = (m[11] === '-' ? -1 : 1) * (Number(m[12]) * 60 + Number(m[13] ?? 0));
    } else if (zone !== undefined) {
      offset = zone;
    }
  }
  if (Math.abs(offset) > 14 * 60) return null;
  const ms = Date.UTC(year, month, day, hour, minute, Math.min(second, 59));
  const check = new Date(Date.UTC(year, month, day));
  if (check.getUTCDate() !== day) return null; // 31 Feb and the like
  return new Date(ms - offset * 60_000);
}

function parseLoose(v: string): Date | null {
  const hasMonth = /\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b/i.test(v);
  const iso = /^\d{4}-\d{2}-\d{2}/.test(v);
  if (!hasMonth && !iso) return null;
  const hasZone = /([+-]\d{2}:?\d{2}|\b(?:UTC?|GMT|Z|[ECMP][SD]T)\b|\dZ)\s*$/i.test(v);
  const candidate = hasZone ? v : iso ? `${v.replace(' ', 'T')}Z` : `${v} GMT`;
  const d = new Date(candidate);
  if (!Number.isNaN(d.getTime())) return d;
  const d2 = new Date(v);
  return Number.isNaN(d2.getTime()) || !hasZone ? null : d2;
}
