/** Holidays from an iCalendar file (what an admin imports): the dates of its events, `yyyy-mm-dd`. Pure. */
import ICAL from 'ical.js';

export const MAX_HOLIDAYS = 2000;

export function holidaysFromIcs(text: string): { ok: true; dates: string[] } | { ok: false; message: string } {
  let comp: ICAL.Component;
  try {
    comp = new ICAL.Component(ICAL.parse(text));
  } catch (e) {
    return { ok: false, message: `This is not an iCalendar (.ics) file: ${(e as Error).message}` };
  }
  const dates = new Set<string>();
  for (const ev of comp.getAllSubcomponents('vevent')) {
    const event = new ICAL.Event(ev);
    if (!event.startDate) continue;
    const start = event.startDate;
    const days = event.endDate && start.isDate ? Math.max(1, Math.round((event.endDate.toUnixTime() - start.toUnixTime()) / 86400)) : 1;
    for (let i = 0; i < Math.min(days, 31); i++) {
      const d = start.clone();
      d.adjust(i, 0, 0, 0);
      dates.add(`${String(d.year).padStart(4, '0')}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`);
    }
  }
  if (dates.size > MAX_HOLIDAYS) return { ok: false, message: `At most ${MAX_HOLIDAYS} holidays can be imported.` };
  return { ok: true, dates: [...dates].sort() };
}
