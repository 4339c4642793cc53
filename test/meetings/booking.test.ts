/**
 * Meetings end to end over the API, on SQLite or PostgreSQL (DATABASE_URL): a booking page on the
 * seller's personal meetings connection (team email refused), availability merged from bookings and a
 * real Radicale calendar (a recurring event blocks every occurrence; a calendar that cannot be read makes
 * the host unavailable), concurrent bookings of one slot (exactly one wins), the invitation (iTIP REQUEST
 * with an ICS) sent through the seller's SMTP, the contact created with the meeting on its timeline, the
 * `meetingBooked` reaction, the event on the calendar, reschedule and cancel through the signed link.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ICAL from 'ical.js';
import { appendTo, startWorld, syncSeller, uniq, type World } from '../personal/support.js';
import { addUser } from '../crm/helpers.js';
import { insertConnection } from '../support/connections.js';
import { hasRadicale, startRadicale, type TestRadicale } from '../harness/radicale.js';
import { sendOutboxMessage } from '../../src/features/outbox/sender.js';
import { hasTestProgram, DOVECOT } from '../harness/requirements.js';
import type { MeetingBookedHook } from '../../src/features/meetings/index.js';

const HOUR = 3_600_000;
const ALL_WEEK = Object.fromEntries(['1', '2', '3', '4', '5', '6', '7'].map((d) => [d, [{ start: '00:00', end: '24:00' }]]));

describe.skipIf(!hasRadicale() || !hasTestProgram(DOVECOT))('meetings: pages, availability, booking, invitations', () => {
  let w: World;
  let radicale: TestRadicale;
  let slug: string;
  const booked: Array<{ accountId: string; contactId: string; meetingId: string }> = [];

  const pub = (method: string, url: string, body?: unknown) =>
    w.t.app.inject({ method: method as 'GET', url, ...(body !== undefined ? { payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) }).then((r) => Object.assign(r, { json: () => JSON.parse(r.body) }));
  const page = async (days = 3) => (await pub('GET', `/api/v1/booking-pages/${slug}?timeZone=Asia/Kathmandu&days=${days}`)).json();
  const allSlots = (p: { slotDays: Array<{ slots: Array<{ start: string }> }> }) => p.slotDays.flatMap((d) => d.slots.map((s) => s.start));
  const reminders = async (meetingId: string) =>
    (await w.t.database.db.selectFrom('outbox').select(['state', 'send_at', 'meta']).orderBy('send_at').execute())
      .filter((r) => JSON.parse(r.meta).meetingId === meetingId && JSON.parse(r.meta).reminder !== undefined)
      .map((r) => ({ state: r.state, send_at: Number(r.send_at) }));
  const sendAll = async () => {
    const rows = await w.t.database.db.selectFrom('outbox').select('id').where('state', '=', 'queued').execute();
    for (const r of rows) await sendOutboxMessage(w.ingestor, r.id);
  };

  beforeAll(async () => {
    w = await startWorld();
    radicale = await startRadicale();
    await radicale.addUser('sam', 'pw-cal');
    await radicale.makeCalendar('sam', 'work');
    const hook: MeetingBookedHook = async (trx, p) => {
      // Runs inside the booking transaction: the meeting is there.
      const m = await trx.selectFrom('meetings').select('id').where('id', '=', p.meetingId).executeTakeFirst();
      if (m) booked.push(p);
    };
    Object.assign(w.t.env.reactions, { meetingBooked: [hook] });
  }, 60_000);
  afterAll(async () => {
    await w?.stop();
    await radicale?.stop();
  });

  it('refuses team email for meetings, naming why, and a user without a meetings address', async () => {
    const team = await insertConnection(w.t, { accountId: w.accountId, userId: w.seller.userId, type: 'team', address: `sales-${uniq()}@sales.test`, transport: 'forwarding' });
    const body = { name: 'Intro', slug: `intro-${uniq()}`, durationMin: 30, availability: { timeZone: 'UTC', weekly: ALL_WEEK } };
    const r1 = await w.t.api(w.seller.token, 'POST', '/api/v1/meeting-types', { ...body, connectionId: team.id });
    expect(r1.statusCode).toBe(422);
    expect(r1.json().error.code).toBe('team_address_not_allowed_for_meetings');
    expect(r1.json().error.message).toContain('no one owner or calendar');
    const r2 = await w.t.api(w.seller.token, 'POST', '/api/v1/meeting-types', body);
    expect(r2.statusCode).toBe(422);
    expect(r2.json().error.code).toBe('meetings_connection_required');
    // The meetings flag itself is refused on team email (connections' rule 4).
    const r3 = await w.t.api(w.seller.token, 'PATCH', `/api/v1/connections/${team.id}`, { useForMeetings: true });
    expect(r3.json().error.code).toBe('team_address_not_allowed_for_meetings');
  });

  it('publishes a page on the personal meetings connection; visitors see slots in their zone', async () => {
    const flag = await w.t.api(w.seller.token, 'PATCH', `/api/v1/connections/${w.seller.connectionId}`, { useForMeetings: true });
    expect(flag.statusCode).toBe(200);
    slug = `sam-${uniq()}`;
    const r = await w.t.api(w.seller.token, 'POST', '/api/v1/meeting-types', {
      name: 'Intro call',
      slug,
      durationMin: 30,
      minNoticeMin: 60,
      bufferAfterMin: 0,
      window: { kind: 'rolling', days: 4 },
      availability: { timeZone: 'Europe/Paris', weekly: ALL_WEEK },
      questions: [{ id: 'company', label: 'Company', required: true }],
      reminders: [30, 20160],
      connectionId: w.seller.connectionId,
    });
    expect(r.statusCode, r.body).toBe(201);
    expect(r.json().url).toBe(`https://crm.mailroom.test/meet/${slug}`);
    const dup = await w.t.api(w.seller.token, 'POST', '/api/v1/meeting-types', { name: 'Again', slug, durationMin: 30, availability: { timeZone: 'UTC', weekly: ALL_WEEK } });
    expect(dup.json().error.code).toBe('slug_taken');
    const p = await page();
    expect(p.page).toMatchObject({ name: 'Intro call', hostNames: ['Sam Seller'], durationMin: 30, hostTimeZone: 'Europe/Paris' });
    expect(p.timeZone).toBe('Asia/Kathmandu');
    const first = Date.parse(allSlots(p)[0]!);
    expect(first).toBeGreaterThanOrEqual(Date.now() + 60 * 60_000 - 1000);
    // Labels are the visitor's wall clock (Kathmandu, +05:45): minutes :15 or :45.
    expect(p.slotDays[0].slots[0].label).toMatch(/:(15|45)$/);
    expect(p.unavailable).toBe(false);
  });

  it('the calendar (Radicale) blocks every occurrence of a recurring event; unreadable means unavailable, never free', async () => {
    const bad = await w.t.api(w.seller.token, 'PUT', '/api/v1/meetings/calendar', { serverUrl: radicale.url, username: 'sam', password: 'wrong' });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error.code).toBe('calendar_unreachable');
    const ok = await w.t.api(w.seller.token, 'PUT', '/api/v1/meetings/calendar', { serverUrl: radicale.url, username: 'sam', password: 'pw-cal' });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().calendarUrl).toMatch(/\/sam\/work\/$/);
    // Daily 10:00-11:00 UTC since yesterday, forever.
    const y = new Date(Date.now() - 24 * HOUR).toISOString().slice(0, 10).replace(/-/g, '');
    await radicale.putEvent('sam', 'work', 'daily.ics', `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:daily\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:${y}T100000Z\r\nDTEND:${y}T110000Z\r\nRRULE:FREQ=DAILY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`);
    const slots = allSlots(await page(4));
    expect(slots.length).toBeGreaterThan(50);
    expect(slots.filter((s) => /T10:(00|30)/.test(s))).toEqual([]);
    expect(slots.some((s) => /T11:00/.test(s))).toBe(true);
    // Break the calendar (the stored password no longer works): no slots, the host is told.
    await w.t.database.db.updateTable('meeting_calendars').set({ credentials: w.t.env.secrets.seal('changed') }).execute();
    const p = await page();
    expect(p.unavailable).toBe(true);
    expect(allSlots(p)).toEqual([]);
    const cal = await w.t.api(w.seller.token, 'GET', '/api/v1/meetings/calendar');
    expect(cal.json().lastError).toMatch(/could not be read|401|Unauthorized/i);
    await page(); // a second look does not tell the host again
    const told = await w.t.database.db.selectFrom('notifications').select(['message']).where('user_id', '=', w.seller.userId).where('kind', '=', 'meeting_calendar_unreadable').execute();
    expect(told).toHaveLength(1);
    expect(told[0]!.message).toContain(radicale.url);
    await w.t.api(w.seller.token, 'PUT', '/api/v1/meetings/calendar', { serverUrl: radicale.url, username: 'sam', password: 'pw-cal' });
    const before = allSlots(await page());
    expect(before.length).toBeGreaterThan(0);
    // Page views read the calendar once a minute; booking reads it fresh. An event put on the calendar
    // after a view: the next view (within the minute) may still offer the slot, booking it is refused.
    const taken = before[before.length - 1]!; // the last one: the next tests book the first ones
    const stamp = (iso: string) => iso.replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    await radicale.putEvent('sam', 'work', 'late.ics', `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:late\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:${stamp(taken)}\r\nDTEND:${stamp(new Date(Date.parse(taken) + HOUR).toISOString())}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`);
    expect(allSlots(await page())).toContain(taken);
    const refused = await pub('POST', `/api/v1/booking-pages/${slug}/bookings`, { start: taken, name: 'Late Visitor', email: `late-${uniq()}@visitor.test`, answers: { company: 'Late Inc' } });
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json().error.code).toBe('slot_taken');
    expect(refused.json().error.details.nextSlots).not.toContain(taken);
  });

  let token = '';
  let slot = '';
  let inviteIcs = '';
  it('one slot booked from five tabs at once: exactly one booking, the others told it was just taken', async () => {
    slot = allSlots(await page())[2]!;
    const visitor = `vic-${uniq()}@visitor.test`;
    const tries = await Promise.all(
      [1, 2, 3, 4, 5].map((i) => pub('POST', `/api/v1/booking-pages/${slug}/bookings`, { start: slot, name: `Vic Visitor ${i}`, email: i === 1 ? visitor : `other${i}-${uniq()}@visitor.test`, timeZone: 'America/New_York', answers: { company: 'Visitors Inc' } })),
    );
    const won = tries.filter((r) => r.statusCode === 201);
    const lost = tries.filter((r) => r.statusCode === 409);
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(4);
    for (const l of lost) {
      expect(l.json().error.code).toBe('slot_taken');
      expect(l.json().error.details.nextSlots.length).toBeGreaterThan(0);
      expect(l.json().error.details.nextSlots).not.toContain(slot);
    }
    token = won[0]!.json().manageToken;
    expect(allSlots(await page())).not.toContain(slot);
    const meetings = await w.t.database.db.selectFrom('meetings').selectAll().execute();
    expect(meetings).toHaveLength(1);
    expect(booked).toEqual([{ accountId: w.accountId, contactId: meetings[0]!.contact_id, meetingId: meetings[0]!.id }]);
    // One reminder 30 minutes before (the 14-day one would be in the past): a scheduled email to the visitor.
    expect(await reminders(meetings[0]!.id)).toEqual([{ state: 'scheduled', send_at: Date.parse(slot) - 30 * 60_000 }]);
  });

  it('a required question must be answered', async () => {
    const r = await pub('POST', `/api/v1/booking-pages/${slug}/bookings`, { start: allSlots(await page())[5], name: 'No Answer', email: 'noanswer@visitor.test' });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.details.field).toBe('answers.company');
  });

  it('the contact exists with the meeting on its timeline; the invite went out from the seller\'s mailbox with an ICS REQUEST; the event is on the calendar', async () => {
    const m = await w.t.database.db.selectFrom('meetings').selectAll().executeTakeFirstOrThrow();
    const timeline = await w.t.api(w.seller.token, 'GET', `/api/v1/contacts/${m.contact_id}/timeline`);
    expect(timeline.statusCode, timeline.body).toBe(200);
    expect(JSON.stringify(timeline.json())).toContain('"meeting"');
    await sendAll();
    const msg = await w.smtp.waitForMessage((x) => x.envelope.rcptTo.includes(m.visitor_email));
    expect(msg.authUser).toBe(w.seller.address);
    expect(msg.envelope.rcptTo).toEqual([m.visitor_email]);
    const raw = msg.raw.toString();
    expect(raw).toMatch(/Content-Type: text\/calendar; charset=utf-8; method=REQUEST/i);
    const ics = Buffer.from(/method=REQUEST[\s\S]*?\r\n\r\n([A-Za-z0-9+/=\r\n]+)/i.exec(raw)![1]!.replace(/\s/g, ''), 'base64').toString('utf8');
    inviteIcs = ics;
    const vcal = new ICAL.Component(ICAL.parse(ics));
    expect(vcal.getFirstPropertyValue('method')).toBe('REQUEST');
    const ev = new ICAL.Event(vcal.getFirstSubcomponent('vevent')!);
    expect(ev.uid).toBe(m.uid);
    expect(ev.startDate.toJSDate().toISOString()).toBe(slot);
    expect(raw).toContain(`/meet/manage/`);
    const stored = await radicale.getEvent('sam', 'work', `${m.id}.ics`);
    expect(stored).toContain(`UID:${m.uid}`);
    expect(m.caldav_error).toBeNull();
  });

  it('the visitor accepts in their calendar app: the iTIP REPLY in the seller\'s mailbox updates the booking and the timeline', async () => {
    const m = await w.t.database.db.selectFrom('meetings').selectAll().executeTakeFirstOrThrow();
    // The reply a calendar app sends: the invitation's event, METHOD:REPLY, the attendee's PARTSTAT (built with ical.js).
    const vcal = new ICAL.Component(ICAL.parse(inviteIcs));
    vcal.updatePropertyWithValue('method', 'REPLY');
    const ev = vcal.getFirstSubcomponent('vevent')!;
    ev.getFirstProperty('attendee')!.setParameter('partstat', 'ACCEPTED');
    ev.updatePropertyWithValue('dtstamp', ICAL.Time.now());
    const replyIcs = vcal.toString();
    const raw = [
      `From: Vic Visitor <${m.visitor_email}>`,
      `To: ${w.seller.address}`,
      `Subject: Accepted: Intro call with Sam Seller`,
      `Message-ID: <reply-${uniq()}@visitor.test>`,
      `Date: ${new Date().toUTCString()}`,
      'MIME-Version: 1.0',
      'Content-Type: multipart/alternative; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Vic Visitor has accepted.',
      '--b1',
      'Content-Type: text/calendar; charset=utf-8; method=REPLY',
      '',
      replyIcs.replace(/\r?\n/g, '\r\n'),
      '--b1--',
      '',
    ].join('\r\n');
    await w.dovecot.deliver(w.seller.address, raw);
    await syncSeller(w);
    const after = await w.t.database.db.selectFrom('meetings').selectAll().where('id', '=', m.id).executeTakeFirstOrThrow();
    expect(after.visitor_response).toBe('ACCEPTED');
    const timeline = await w.t.api(w.seller.token, 'GET', `/api/v1/contacts/${m.contact_id}/timeline`);
    expect(JSON.stringify(timeline.json())).toContain('"response":"accepted"');
    const list = await w.t.api(w.seller.token, 'GET', '/api/v1/meetings');
    expect(list.json().meetings[0].visitorResponse).toBe('ACCEPTED');
  });

  it('reschedule and cancel through the signed link (forged links refused)', async () => {
    const forged = await pub('GET', `/api/v1/booking-links/${token.slice(0, -3)}abc`);
    expect(forged.statusCode).toBe(404);
    expect(forged.json().error.code).toBe('invalid_link');
    const seen = await pub('GET', `/api/v1/booking-links/${token}`);
    expect(seen.json()).toMatchObject({ status: 'booked', start: slot, pageName: 'Intro call', hostName: 'Sam Seller' });
    const to = allSlots(await page()).find((s) => s > slot)!;
    const moved = await pub('POST', `/api/v1/booking-links/${token}/reschedule`, { start: to });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json().start).toBe(to);
    const slots = allSlots(await page());
    expect(slots).toContain(slot);
    expect(slots).not.toContain(to);
    const m = await w.t.database.db.selectFrom('meetings').selectAll().executeTakeFirstOrThrow();
    expect(m.sequence).toBe(1);
    expect(await reminders(m.id)).toEqual([
      { state: 'cancelled', send_at: Date.parse(slot) - 30 * 60_000 },
      { state: 'scheduled', send_at: Date.parse(to) - 30 * 60_000 },
    ]);
    expect(await radicale.getEvent('sam', 'work', `${m.id}.ics`)).toContain('SEQUENCE:1');
    const cancelled = await pub('POST', `/api/v1/booking-links/${token}/cancel`, {});
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json().status).toBe('cancelled');
    expect(allSlots(await page())).toContain(to);
    expect(await radicale.getEvent('sam', 'work', `${m.id}.ics`)).toBeNull();
    expect((await reminders(m.id)).map((r) => r.state)).toEqual(['cancelled', 'cancelled']);
    await sendAll();
    const cancel = await w.smtp.waitForMessage((x) => /method=CANCEL/i.test(x.raw.toString()));
    expect(cancel.envelope.rcptTo).toEqual([m.visitor_email]);
    const timeline = await w.t.api(w.seller.token, 'GET', `/api/v1/contacts/${m.contact_id}/timeline`);
    const text = JSON.stringify(timeline.json());
    expect(text).toContain('rescheduled');
    expect(text).toContain('cancelled');
    // Domain events (webhooks), in the order of the changes, with the meeting as subject.
    const events = await w.t.database.db.selectFrom('events').select(['type', 'data']).where('subject_type', '=', 'meeting').where('subject_id', '=', m.id).orderBy('seq').execute();
    expect(events.map((e) => [e.type, JSON.parse(e.data).start ?? null])).toEqual([
      ['meeting.booked', slot],
      ['meeting.rescheduled', to],
      ['meeting.cancelled', null],
    ]);
    expect(JSON.parse(events[0]!.data)).toMatchObject({ meetingId: m.id, contactId: m.contact_id });
  });

  it('an invitation the seller sent by email (seen in Sent) blocks every occurrence; their CANCEL frees it', async () => {
    const at15 = (slots: string[]) => slots.filter((s) => /T15:(00|30)/.test(s));
    expect(at15(allSlots(await page(4))).length).toBeGreaterThan(0);
    const today = new Date().toISOString().slice(0, 10).replace(/-/g, '');
    const uid = `weekly-review-${uniq()}@sales.test`;
    const invite = (method: string) =>
      [
        `From: Sam Seller <${w.seller.address}>`,
        'To: team@elsewhere.test',
        `Subject: ${method === 'CANCEL' ? 'Cancelled' : 'Invitation'}: review`,
        `Message-ID: <${method}-${uniq()}@sales.test>`,
        `Date: ${new Date().toUTCString()}`,
        'MIME-Version: 1.0',
        `Content-Type: text/calendar; charset=utf-8; method=${method}`,
        '',
        `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//mail client//EN\r\nMETHOD:${method}\r\nBEGIN:VEVENT\r\nUID:${uid}\r\nSEQUENCE:${method === 'CANCEL' ? 1 : 0}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:${today}T150000Z\r\nDTEND:${today}T160000Z\r\nRRULE:FREQ=DAILY;COUNT=10\r\nORGANIZER:mailto:${w.seller.address}\r\nATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:team@elsewhere.test\r\n${method === 'CANCEL' ? 'STATUS:CANCELLED\r\n' : ''}END:VEVENT\r\nEND:VCALENDAR`,
        '',
      ].join('\r\n');
    await appendTo(w, w.seller.address, 'Sent', invite('REQUEST'));
    await syncSeller(w);
    expect(at15(allSlots(await page(4)))).toEqual([]);
    await appendTo(w, w.seller.address, 'Sent', invite('CANCEL'));
    await syncSeller(w);
    expect(at15(allSlots(await page(4))).length).toBeGreaterThan(0);
  });

  it('buffers hold under concurrency: two adjacent slots booked at once, only one (the other is inside its buffer)', async () => {
    const s2 = `buf-${uniq()}`;
    const r = await w.t.api(w.seller.token, 'POST', '/api/v1/meeting-types', { name: 'Buffered', slug: s2, durationMin: 30, intervalMin: 30, minNoticeMin: 0, bufferAfterMin: 30, window: { kind: 'rolling', days: 3 }, availability: { timeZone: 'UTC', weekly: ALL_WEEK } });
    expect(r.statusCode, r.body).toBe(201);
    const p = (await pub('GET', `/api/v1/booking-pages/${s2}?days=3`)).json();
    const starts = allSlots(p);
    const i = starts.findIndex((s, k) => Date.parse(starts[k + 1] ?? '') - Date.parse(s) === 30 * 60_000);
    const [a, b] = [starts[i]!, starts[i + 1]!];
    const tries = await Promise.all([a, b].map((start, k) => pub('POST', `/api/v1/booking-pages/${s2}/bookings`, { start, name: `Buffer ${k}`, email: `buffer${k}-${uniq()}@visitor.test` })));
    expect(tries.map((t) => t.statusCode).sort()).toEqual([201, 409]);
  });

  it('other users cannot see the page; a member\'s list holds only their pages', async () => {
    const other = await addUser(w.t, w.adminToken, { role: 'member' });
    const list = await w.t.api(other.token, 'GET', '/api/v1/meeting-types');
    expect(list.json().meetingTypes).toEqual([]);
    const mine = await w.t.api(w.seller.token, 'GET', '/api/v1/meeting-types');
    const id = mine.json().meetingTypes[0].id;
    expect((await w.t.api(other.token, 'GET', `/api/v1/meeting-types/${id}`)).statusCode).toBe(404);
    expect((await w.t.api(other.token, 'PATCH', `/api/v1/meeting-types/${id}`, { active: false })).statusCode).toBe(404);
  });

  it('round robin gives the slot to the contact owner when free; a group page needs every host free', async () => {
    const rita = await addUser(w.t, w.adminToken, { role: 'member', name: 'Rita Robin' });
    await insertConnection(w.t, { accountId: w.accountId, userId: rita.userId, type: 'personal', address: `rita-${uniq()}@sales.test`, transport: 'forwarding', overrides: { use_for_meetings: 1 } });
    const known = `known-${uniq()}@visitor.test`;
    const c = await w.t.api(rita.token, 'POST', '/api/v1/contacts', { firstName: 'Kim', lastName: 'Known', emails: [known] });
    expect(c.statusCode, c.body).toBe(201);
    const rr = `rr-${uniq()}`;
    const hours = { timeZone: 'UTC', weekly: ALL_WEEK };
    const created = await w.t.api(w.seller.token, 'POST', '/api/v1/meeting-types', { name: 'Team intro', slug: rr, kind: 'round_robin', hostUserIds: [w.seller.userId, rita.userId], preferContactOwner: true, durationMin: 30, minNoticeMin: 0, window: { kind: 'rolling', days: 3 }, availability: hours });
    expect(created.statusCode, created.body).toBe(201);
    const p = (await pub('GET', `/api/v1/booking-pages/${rr}?days=3`)).json();
    expect(p.page.hostNames).toEqual(['Sam Seller', 'Rita Robin']);
    const start = allSlots(p).find((s) => !/T1[05]:/.test(s))!; // an hour the seller's calendar leaves free
    const r = await pub('POST', `/api/v1/booking-pages/${rr}/bookings`, { start, name: 'Kim Known', email: known });
    expect(r.statusCode, r.body).toBe(201);
    expect(r.json().meeting.hostName).toBe('Rita Robin');
    const m = await w.t.database.db.selectFrom('meetings').selectAll().where('visitor_email', '=', known).executeTakeFirstOrThrow();
    expect(m.contact_id).toBe(c.json().id);
    // A group page of both: Rita is now busy at `start`, so the group cannot meet then.
    const grp = `grp-${uniq()}`;
    await w.t.api(w.seller.token, 'POST', '/api/v1/meeting-types', { name: 'Both of us', slug: grp, kind: 'group', hostUserIds: [w.seller.userId, rita.userId], durationMin: 30, minNoticeMin: 0, window: { kind: 'rolling', days: 3 }, availability: hours });
    const g = allSlots((await pub('GET', `/api/v1/booking-pages/${grp}?days=3`)).json());
    expect(g.length).toBeGreaterThan(0);
    expect(g).not.toContain(start);
    expect(g.filter((s) => /T10:/.test(s))).toEqual([]); // the seller's daily calendar event
  });

  it('a page is edited (rules checked again) and unpublished', async () => {
    const mine = await w.t.api(w.seller.token, 'GET', '/api/v1/meeting-types');
    const p0 = mine.json().meetingTypes.find((p: { slug: string }) => p.slug === slug);
    const bad = await w.t.api(w.seller.token, 'PATCH', `/api/v1/meeting-types/${p0.id}`, { durationMin: 32 });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.field).toBe('durationMin');
    const ok = await w.t.api(w.seller.token, 'PATCH', `/api/v1/meeting-types/${p0.id}`, { name: 'Discovery call', durationMin: 45, reminders: [60] });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ name: 'Discovery call', durationMin: 45, reminders: [60], slug });
    expect((await page()).page).toMatchObject({ name: 'Discovery call', durationMin: 45 });
    expect((await w.t.api(w.seller.token, 'PATCH', `/api/v1/meeting-types/${p0.id}`, { active: false })).json().active).toBe(false);
    expect((await pub('GET', `/api/v1/booking-pages/${slug}`)).statusCode).toBe(404);
    expect((await w.t.api(w.seller.token, 'PATCH', `/api/v1/meeting-types/${p0.id}`, { active: true })).json().active).toBe(true);
    expect((await pub('GET', `/api/v1/booking-pages/${slug}`)).statusCode).toBe(200);
  });
});

describe('the database forbids overlapping bookings of one host', () => {
  it('two transactions claiming overlapping blocks at once: one fails with a unique violation', async () => {
    const { createTestDatabase } = await import('../support/db.js');
    const { isUniqueViolation } = await import('../../src/platform/database/database.js');
    const { bookingBlocks } = await import('../../src/features/meetings/domain/slots.js');
    const db = await createTestDatabase();
    try {
      const t0 = Date.parse('2026-06-01T10:00:00Z');
      const claim = (id: string, start: number, end: number) =>
        db.db.transaction().execute(async (trx) => {
          await trx.insertInto('meeting_blocks').values(bookingBlocks(start, end).map((b) => ({ host_user_id: 'usr_1', block_start: b, meeting_id: id }))).execute();
        });
      const results = await Promise.allSettled([claim('m1', t0, t0 + 30 * 60_000), claim('m2', t0 + 15 * 60_000, t0 + 45 * 60_000), claim('m3', t0 + 30 * 60_000, t0 + 60 * 60_000)]);
      const failed = results.filter((r) => r.status === 'rejected');
      // m1 and m3 touch (10:30) without overlapping; m2 overlaps both.
      expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(1);
      for (const f of failed) expect(isUniqueViolation((f as PromiseRejectedResult).reason)).toBe(true);
      const rows = await db.db.selectFrom('meeting_blocks').select(['meeting_id', 'block_start']).execute();
      const owners = new Map<number, string>();
      for (const r of rows) {
        expect(owners.has(Number(r.block_start))).toBe(false);
        owners.set(Number(r.block_start), r.meeting_id);
      }
      // Another host at the same time is fine.
      await db.db.insertInto('meeting_blocks').values({ host_user_id: 'usr_2', block_start: t0, meeting_id: 'm9' }).execute();
    } finally {
      await db.drop();
    }
  });
});
