/**
 * Tracking: hits go through the real routes and the batched writer; bots and prefetches (HEAD, scanner
 * agents, Apple's privacy proxy, every link clicked within seconds) are recorded but flagged and left out
 * of counts, timelines and notifications; a click implies an open; the sender gets one batched in-app
 * notification; tracking of an email that is not logged never reaches a timeline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contact, PUBLIC_URL, startWorld, timeline, uniq, type World } from './support.js';
import { flushTrackingHits } from '../../src/features/personal/routes/tracking.js';
import { processTrackingHits, TRACKING_DIGEST_JOB } from '../../src/features/personal/commands/processTrackingHits.js';
import { signTrackingId } from '../../src/platform/security/tracking-signature.js';

let w: World;
beforeAll(async () => {
  w = await startWorld();
}, 60_000);
afterAll(async () => {
  await w?.stop();
});

const chrome = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';

/** Sends from a contact's record and marks it sent a while ago (tracking does not depend on SMTP). */
async function sentEmail(contactId: string, html: string, extra: Record<string, unknown> = {}, sentMsAgo = 120_000) {
  const r = await w.t.api(w.seller.token, 'POST', `/api/v1/contacts/${contactId}/emails`, { subject: `Tracked ${uniq()}`, html, ...extra });
  expect(r.statusCode, r.body).toBe(201);
  const pe = await w.t.database.db.selectFrom('personal_emails').selectAll().where('id', '=', r.json().id).executeTakeFirstOrThrow();
  await w.t.database.db.updateTable('outbox').set({ state: 'sent', sent_at: Date.now() - sentMsAgo }).where('id', '=', pe.outbox_id).execute();
  const links = await w.t.database.db.selectFrom('tracking_links').selectAll().where('personal_email_id', '=', pe.id).orderBy('position').execute();
  const secret = w.t.env.secrets.derive('tracking');
  return {
    id: pe.id,
    pixel: `/t/o/${signTrackingId('open', pe.id, secret)}`,
    links: links.map((l) => ({ url: l.url, path: `/t/c/${signTrackingId('click', l.id, secret)}` })),
  };
}

const hit = (url: string, ua: string | null = chrome, method: 'GET' | 'HEAD' = 'GET', ip = '203.0.113.9') =>
  w.t.app.inject({ method, url, headers: { 'user-agent': ua ?? '' }, remoteAddress: ip });
const hitsOf = async (id: string) => {
  await flushTrackingHits(w.t.env);
  return (await w.t.api(w.seller.token, 'GET', `/api/v1/personal-emails/${id}/tracking?includeFlagged=true`)).json().hits as Array<{ kind: string; flagged: boolean; flagReasons: string[]; impliedBy: string | null; url: string | null }>;
};

describe('tracking', () => {
  let ann: { id: string };
  beforeAll(async () => {
    ann = await contact(w, { firstName: 'Ann', lastName: 'Lee', emails: [`ann-${uniq()}@client.test`] });
  });

  it('the email carries signed URLs under PUBLIC_URL, and the destinations are stored per link', async () => {
    const e = await sentEmail(ann.id, '<p><a href="https://a.example/1">one</a> <a href="https://a.example/2">two</a></p>');
    expect(e.links.map((l) => l.url)).toEqual(['https://a.example/1', 'https://a.example/2']);
    const raw = await w.t.database.db
      .selectFrom('outbox')
      .innerJoin('personal_emails', 'personal_emails.outbox_id', 'outbox.id')
      .select('outbox.raw_sha256')
      .where('personal_emails.id', '=', e.id)
      .executeTakeFirstOrThrow();
    const mime = (await w.ingestor.blobs.get(raw.raw_sha256)).toString('utf8').replace(/=\r?\n/g, '').replace(/=3D/g, '=');
    expect(mime).toContain(`${PUBLIC_URL}${e.pixel}`);
    for (const l of e.links) expect(mime).toContain(`${PUBLIC_URL}${l.path}`);
  });

  it('flags HEAD requests, scanner agents, missing agents and Apple Mail Privacy Protection, and counts only people', async () => {
    const e = await sentEmail(ann.id, '<p><a href="https://b.example/">link</a></p>');
    expect((await hit(e.pixel, 'Mozilla/5.0', 'GET', '17.58.100.4')).statusCode).toBe(200);
    expect((await hit(e.pixel, null)).statusCode).toBe(200);
    expect((await hit(e.links[0]!.path, chrome, 'HEAD')).statusCode).toBe(302);
    expect((await hit(e.links[0]!.path, 'Mozilla/5.0 (compatible; Barracuda Sentinel)')).statusCode).toBe(302);
    expect((await hit(e.links[0]!.path, chrome, 'GET', '40.107.1.2')).statusCode).toBe(302);
    expect((await hit(e.pixel)).statusCode).toBe(200);
    expect((await hit(e.links[0]!.path)).headers.location).toBe('https://b.example/');
    const hits = await hitsOf(e.id);
    const reasons = hits.filter((h) => h.flagged).map((h) => h.flagReasons.join(','));
    expect(reasons.sort()).toEqual(['apple_mail_privacy_proxy', 'head_request', 'no_user_agent', 'scanner_network', 'scanner_user_agent'].sort());
    const people = (await w.t.api(w.seller.token, 'GET', `/api/v1/personal-emails/${e.id}/tracking`)).json().hits;
    expect(people.map((h: { kind: string }) => h.kind).sort()).toEqual(['click', 'open']);
    expect((await w.t.api(w.seller.token, 'GET', `/api/v1/personal-emails/${e.id}`)).json().tracking).toMatchObject({ opens: 1, clicks: 1, flaggedOpens: 2, flaggedClicks: 3 });
  });

  it('flags a prefetch right after sending, and every link clicked within seconds (the whole burst)', async () => {
    const fresh = await sentEmail(ann.id, '<p><a href="https://c.example/">c</a></p>', {}, 500);
    await hit(fresh.pixel);
    expect((await hitsOf(fresh.id)).map((h) => h.flagReasons)).toEqual([['too_soon_after_send']]);

    const e = await sentEmail(ann.id, '<p><a href="https://d.example/1">1</a><a href="https://d.example/2">2</a><a href="https://d.example/3">3</a></p>');
    await hit(e.links[0]!.path);
    await flushTrackingHits(w.t.env); // the first click is written before the scanner reaches the others
    await hit(e.links[1]!.path);
    await hit(e.links[2]!.path);
    const hits = await hitsOf(e.id);
    expect(hits).toHaveLength(3);
    expect(hits.every((h) => h.flagged && h.flagReasons.includes('all_links_clicked'))).toBe(true);
  });

  it('a click implies an open; opens and clicks go on the timeline and into ONE batched notification', async () => {
    const bea = await contact(w, { firstName: 'Bea', emails: [`bea-${uniq()}@client.test`] });
    const e1 = await sentEmail(ann.id, '<p><a href="https://e.example/">e</a> <a href="https://e.example/2">e2</a></p>');
    const e2 = await sentEmail(bea.id, '<p>Hello</p>');
    await processTrackingHits(w.t.env, w.seller.userId, { settleMs: 0 }); // earlier tests' hits
    const before = await w.t.database.db.selectFrom('notifications').select('id').where('user_id', '=', w.seller.userId).execute();

    await hit(e1.links[0]!.path);
    await hit(e2.pixel);
    await hit(e2.pixel, 'Mozilla/5.0', 'GET', '17.1.1.1'); // flagged: no timeline, no notification
    await flushTrackingHits(w.t.env);
    const job = await w.t.database.db.selectFrom('jobs').selectAll().where('kind', '=', TRACKING_DIGEST_JOB).where('dedupe_key', '=', `tracking-digest:${w.seller.userId}`).executeTakeFirst();
    expect(job, 'a digest is scheduled for the sender').toBeTruthy();

    const r = await processTrackingHits(w.t.env, w.seller.userId, { settleMs: 0 });
    expect(r).toMatchObject({ processed: 3, notified: true });
    const annEvents = await timeline(w, ann.id);
    expect(annEvents.find((ev) => ev.kind === 'email_clicked' && ev.data.personalEmailId === e1.id)?.data).toMatchObject({ url: 'https://e.example/' });
    expect(annEvents.find((ev) => ev.kind === 'email_opened' && ev.data.personalEmailId === e1.id)?.data).toMatchObject({ impliedBy: 'click' });
    const beaOpens = (await timeline(w, bea.id)).filter((ev) => ev.kind === 'email_opened');
    expect(beaOpens).toHaveLength(1);

    const after = await w.t.database.db.selectFrom('notifications').selectAll().where('user_id', '=', w.seller.userId).orderBy('created_at').execute();
    expect(after.length - before.length).toBe(1);
    const n = after[after.length - 1]!;
    expect(n.kind).toBe('email_tracking');
    expect(n.message).toMatch(/Ann Lee opened and clicked a link in “Tracked/);
    expect(n.message).toMatch(/Bea opened in “Tracked/);
    // Nothing left, nothing twice.
    expect(await processTrackingHits(w.t.env, w.seller.userId, { settleMs: 0 })).toMatchObject({ processed: 0, notified: false });
    expect((await timeline(w, bea.id)).filter((ev) => ev.kind === 'email_opened')).toHaveLength(1);
    // The notification is the seller's own.
    const admins = await w.t.api(w.adminToken, 'GET', '/api/v1/notifications');
    expect(admins.json().notifications.some((x: { kind: string }) => x.kind === 'email_tracking')).toBe(false);
  });

  it('tracks an email that is not logged without putting anything on a timeline', async () => {
    const cam = await contact(w, { firstName: 'Cam', emails: [`cam-${uniq()}@client.test`] });
    const e = await sentEmail(cam.id, '<p>Private</p>', { log: false });
    await hit(e.pixel);
    await flushTrackingHits(w.t.env);
    await processTrackingHits(w.t.env, w.seller.userId, { settleMs: 0 });
    expect((await w.t.api(w.seller.token, 'GET', `/api/v1/personal-emails/${e.id}`)).json()).toMatchObject({ logged: false, tracking: { opens: 1 } });
    expect((await timeline(w, cam.id)).map((ev) => ev.kind)).toEqual(['contact_created']);
  });

  it('turning tracking off for one email sends it without pixel or rewritten links', async () => {
    const e = await sentEmail(ann.id, '<p><a href="https://f.example/">f</a></p>', { trackOpens: false, trackClicks: false });
    expect(e.links).toEqual([]);
    const view = (await w.t.api(w.seller.token, 'GET', `/api/v1/personal-emails/${e.id}`)).json();
    expect(view.tracking).toMatchObject({ opensTracked: false, clicksTracked: false, links: 0 });
    // A correctly signed pixel of an untracked email is still only a recorded hit, never an error page.
    expect((await hit(e.pixel)).statusCode).toBe(200);
  });
});
