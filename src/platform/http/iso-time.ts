/**
 * Epoch milliseconds as an ISO 8601 UTC string, exactly as `new Date(ms).toISOString()` writes it, about six
 * times faster: API shapes write two or three per row, and a list or thread has dozens of rows (about 80 µs
 * of a 50-conversation list with toISOString). The date part is kept per day; times outside years
 * 1970-9999 or not whole milliseconds go to toISOString.
 */
const days = new Map<number, string>();
const DAY = 86_400_000;
const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);
const pad3 = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);

export function isoTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms >= 253_402_300_800_000) return new Date(ms).toISOString();
  const day = Math.floor(ms / DAY);
  let date = days.get(day);
  if (date === undefined) {
    date = new Date(day * DAY).toISOString().slice(0, 11);
    if (days.size >= 4096) days.clear();
    days.set(day, date);
  }
  let rest = ms - day * DAY;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = Math.floor(rest / 1000);
  return `${date}${pad2(h)}:${pad2(m)}:${pad2(s)}.${pad3(rest - s * 1000)}Z`;
}
