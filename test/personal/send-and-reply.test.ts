/**
 * End to end against a real Dovecot and a real submission server: a salesperson sends from a contact's
 * record; the contact's mailbox gets it with the default font, personalised, with rewritten links and a
 * pixel; replies (with and without References, from another address of the contact) delivered into the
 * salesperson's mailbox are logged on the timeline after a sync pass; an out-of-office is logged as such;
 * a DSN bounce marks the address; the signed link redirects, a tampered one is refused, a prefetch is
 * flagged; mail sent from another client is logged under "log all email with known contacts"; never-log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendTo, contact, deliverNow, dsn, mailboxOf, PUBLIC_URL, rawMail, startWorld, syncSeller, timeline, uniq, type World } from './support.js';
import { flushTrackingHits } from '../../src/features/personal/routes/tracking.js';
import { processTrackingHits } from '../../src/features/personal/commands/processTrackingHits.js';

let w: World;
beforeAll(async () => {
  w = await startWorld();
  const prefs = await w.t.api(w.seller.token, 'PATCH', '/api/v1/email-preferences', {
    font: { family: 'georgia', sizePx: 15, color: '#333366' },
    signature: 'Sam Seller\nSales, Acme',
  });
  expect(prefs.statusCode, prefs.body).toBe(200);
}, 60_000);
afterAll(async () => {
  await w?.stop();
});

const send = async (contactId: string, body: Record<string, unknown>, token = w.seller.token) => {
  const r = await w.t.api(token, 'POST', `/api/v1/contacts/${contactId}/emails`, body);
  expect(r.statusCode, r.body).toBe(201);
  return r.json() as { id: string; loggedContactIds: string[]; state: string; logged: boolean };
};
const htmlOf = (m: { parsed: { html: string | null } }) => m.parsed.html ?? '';

describe('one-to-one email from a contact record', () => {
  let ann: { id: string };
  let annAddress: string;
  let annOther: string;
  let sent: { id: string };
  let ourMessageId: string;

  it('sends through the user\'s own SMTP with the default font, tokens, signature, rewritten links and a pixel', async () => {
    const company = await w.t.api(w.seller.token, 'POST', '/api/v1/companies', { name: 'Client Co', domains: [`client-${uniq()}.test`] });
    expect(company.statusCode).toBe(201);
    const domain = company.json().domains[0] as string;
    annAddress = `ann@${domain}`;
    annOther = `ann.lee@other-${uniq()}.test`;
    ann = await contact(w, { firstName: 'Ann', lastName: 'Lee', emails: [annAddress, annOther], mailbox: true });
    sent = await send(ann.id, {
      subject: 'Quote for {{ company.name }}',
      html: '<p>Hi {{ contact.firstName | "there" }},</p><p>Our <a href="https://portal.example/pricing?plan=pro&amp;seats=5">pricing</a> and <a href="mailto:sam@sales.test">write to me</a>.</p>',
    });
    expect(sent).toMatchObject({ state: 'queued', logged: true, loggedContactIds: [ann.id] });
    const d = await deliverNow(w, sent.id);
    expect(d.outcome).toBe('sent');
    ourMessageId = d.messageId;

    const inbox = await mailboxOf(w, annAddress);
    const got = inbox.find((m) => m.parsed.messageId === ourMessageId.slice(1, -1));
    expect(got, 'the contact received the email').toBeTruthy();
    expect(got!.parsed.subject).toBe('Quote for Client Co');
    expect(got!.parsed.from?.address).toBe(w.seller.address);
    const html = htmlOf(got!);
    expect(html).not.toContain('{{');
    expect(html).toContain('Hi Ann,');
    expect(html).toMatch(/<div style="font-family:Georgia, serif;font-size:15px;color:#333366">/);
    expect(html).toMatch(/<p style="font-family:Georgia, serif;font-size:15px;color:#333366">Hi Ann,<\/p>/);
    expect(html).toContain('Sam Seller<br>Sales, Acme');
    expect(html).toMatch(new RegExp(`<a href="${PUBLIC_URL}/t/c/c\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{22}">pricing</a>`));
    expect(html).not.toContain('portal.example'); // the destination is stored, not in the mail
    expect(html).toContain('href="mailto:sam@sales.test"');
    expect(html).toMatch(new RegExp(`<img src="${PUBLIC_URL}/t/o/o\\.[^"]+" width="1" height="1"`));
    expect(got!.parsed.text).toContain('pricing (https://portal.example/pricing?plan=pro&seats=5)');

    const events = await timeline(w, ann.id);
    const sentEvent = events.find((e) => e.kind === 'email_sent');
    expect(sentEvent?.data).toMatchObject({ subject: 'Quote for Client Co', personalEmailId: sent.id, companyId: expect.any(String) });
    // The Sent folder holds the copy once (the job appends it).
    const view = await w.t.api(w.seller.token, 'GET', `/api/v1/personal-emails/${sent.id}`);
    expect(view.json()).toMatchObject({ state: 'sent', conversationId: expect.any(String) });
  });

  it('logs the contact\'s reply (with References) on the timeline after a sync pass', async () => {
    await w.dovecot.deliver(
      w.seller.address,
      rawMail({ from: `Ann Lee <${annAddress}>`, to: w.seller.address, subject: 'Re: Quote for Client Co', inReplyTo: ourMessageId, references: ourMessageId, body: 'Looks good, send the contract.' }),
    );
    await syncSeller(w);
    const received = (await timeline(w, ann.id)).filter((e) => e.kind === 'email_received');
    expect(received).toHaveLength(1);
    expect(received[0]!.data).toMatchObject({ reply: true, from: annAddress, subject: 'Re: Quote for Client Co', personalEmailId: sent.id });
  });

  it('logs a reply without References, from another address of the same contact', async () => {
    await w.dovecot.deliver(w.seller.address, rawMail({ from: annOther, to: w.seller.address, subject: 'Re: Quote for Client Co', inReplyTo: ourMessageId, body: 'From my other address.' }));
    await syncSeller(w);
    const received = (await timeline(w, ann.id)).filter((e) => e.kind === 'email_received');
    expect(received.map((e) => e.data.from).sort()).toEqual([annAddress, annOther].sort());
  });

  it('logs an out-of-office as an automatic reply, not as a reply', async () => {
    await w.dovecot.deliver(
      w.seller.address,
      rawMail({ from: annAddress, to: w.seller.address, subject: 'Automatic reply: Quote for Client Co', inReplyTo: ourMessageId, headers: ['Auto-Submitted: auto-replied', 'X-Autoreply: yes'], body: 'I am out of the office until Monday.' }),
    );
    await syncSeller(w);
    const events = await timeline(w, ann.id);
    expect(events.filter((e) => e.kind === 'auto_reply_received')).toHaveLength(1);
    expect(events.filter((e) => e.kind === 'email_received')).toHaveLength(2);
  });

  it('a reply implies an open of the tracked email', async () => {
    await processTrackingHits(w.t.env, w.seller.userId, { settleMs: 0 });
    const events = await timeline(w, ann.id);
    expect(events.find((e) => e.kind === 'email_opened')?.data).toMatchObject({ personalEmailId: sent.id, impliedBy: 'reply' });
  });

  it('a DSN bounce marks the address and goes on the timeline as a bounce', async () => {
    const bob = await contact(w, { firstName: 'Bob', emails: [`bob-${uniq()}@nowhere.test`] });
    const toBob = await send(bob.id, { subject: 'Hello Bob', html: '<p>Hi {{contact.firstName}}</p>' });
    const d = await deliverNow(w, toBob.id);
    expect(d.outcome).toBe('sent');
    const bobAddress = (await w.t.api(w.seller.token, 'GET', `/api/v1/contacts/${bob.id}`)).json().primaryEmail as string;
    await w.dovecot.deliver(w.seller.address, dsn({ to: w.seller.address, recipient: bobAddress, originalMessageId: d.messageId }), { from: '' });
    await syncSeller(w);
    const after = (await w.t.api(w.seller.token, 'GET', `/api/v1/contacts/${bob.id}`)).json();
    expect(after.emails[0]).toMatchObject({ bouncedAt: expect.any(String), bounceReason: expect.stringContaining('5.1.1') });
    const events = await timeline(w, bob.id);
    expect(events.find((e) => e.kind === 'email_bounced')?.data).toMatchObject({ address: bobAddress, status: '5.1.1', personalEmailId: toBob.id });
    expect(events.filter((e) => e.kind === 'email_received')).toHaveLength(0);
  });

  it('the signed link redirects to the stored destination; a tampered one is refused; a prefetch is flagged', async () => {
    const inbox = await mailboxOf(w, annAddress);
    const html = htmlOf(inbox.find((m) => m.parsed.messageId === ourMessageId.slice(1, -1))!);
    const link = /href="(https:\/\/crm\.mailroom\.test\/t\/c\/[^"]+)"/.exec(html)![1]!;
    const pixel = /src="(https:\/\/crm\.mailroom\.test\/t\/o\/[^"]+)"/.exec(html)![1]!;
    const path = (u: string) => u.slice(PUBLIC_URL.length);
    const chrome = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';

    // A link scanner right after delivery: redirected like anyone, but flagged.
    const scan = await w.t.app.inject({ method: 'GET', url: path(link), headers: { 'user-agent': chrome } });
    expect(scan.statusCode).toBe(302);
    expect(scan.headers.location).toBe('https://portal.example/pricing?plan=pro&seats=5');
    await flushTrackingHits(w.t.env);
    // A person, a minute later.
    const outboxId = (await w.t.database.db.selectFrom('personal_emails').select('outbox_id').where('id', '=', sent.id).executeTakeFirstOrThrow()).outbox_id;
    await w.t.database.db.updateTable('outbox').set({ sent_at: Date.now() - 120_000 }).where('id', '=', outboxId).execute();
    const click = await w.t.app.inject({ method: 'GET', url: path(link), headers: { 'user-agent': chrome } });
    expect(click.statusCode).toBe(302);
    expect(click.headers.location).toBe('https://portal.example/pricing?plan=pro&seats=5');
    const open = await w.t.app.inject({ method: 'GET', url: path(pixel), headers: { 'user-agent': chrome } });
    expect(open.statusCode).toBe(200);
    expect(open.headers['content-type']).toBe('image/gif');
    expect(open.headers['cache-control']).toContain('no-store');

    // Tampering: another id, a changed MAC, an open token used as a click, a URL in the request.
    const [, , id, mac] = /\/t\/c\/(c)\.([^.]+)\.(.+)$/.exec(link)!;
    const otherId = Buffer.from('lnk_does_not_exist').toString('base64url');
    // A changed MAC: the second-to-last character replaced by another (replacing the end by a fixed "AA"
    // left it unchanged when the MAC happened to end in AA, about 1 run in 256).
    const changedMac = `${mac!.slice(0, -2)}${mac!.at(-2) === 'B' ? 'C' : 'B'}${mac!.at(-1)}`;
    for (const bad of [`/t/c/c.${otherId}.${mac}`, `/t/c/c.${id}.${changedMac}`, `/t/c/${path(pixel).slice(5)}`, `/t/c/c.${id}.${mac}%3Furl=https:%2F%2Fevil.example`]) {
      const r = await w.t.app.inject({ method: 'GET', url: bad, headers: { 'user-agent': chrome } });
      expect(r.statusCode, bad).toBe(404);
      expect(r.headers.location).toBeUndefined();
    }
    const tamperedPixel = await w.t.app.inject({ method: 'GET', url: `${path(pixel).slice(0, -3)}xyz`, headers: { 'user-agent': chrome } });
    expect(tamperedPixel.statusCode).toBe(404);
    const queryIgnored = await w.t.app.inject({ method: 'GET', url: `${path(link)}?url=https://evil.example/`, headers: { 'user-agent': chrome } });
    expect(queryIgnored.headers.location).toBe('https://portal.example/pricing?plan=pro&seats=5');

    await flushTrackingHits(w.t.env);
    const all = await w.t.api(w.seller.token, 'GET', `/api/v1/personal-emails/${sent.id}/tracking?includeFlagged=true`);
    const hits = all.json().hits as Array<{ kind: string; flagged: boolean; flagReasons: string[] }>;
    expect(hits.filter((h) => h.kind === 'click' && h.flagged).map((h) => h.flagReasons)).toEqual([['too_soon_after_send']]);
    expect(hits.filter((h) => h.kind === 'click' && !h.flagged)).toHaveLength(2);
    const counted = (await w.t.api(w.seller.token, 'GET', `/api/v1/personal-emails/${sent.id}`)).json().tracking;
    expect(counted).toMatchObject({ clicks: 2, flaggedClicks: 1, opens: 2 }); // the pixel and the reply's implied open
  });

  it('logs mail sent from another client (Sent folder) only with "log all email with known contacts"', async () => {
    const subject = `From Thunderbird ${uniq()}`;
    await appendTo(w, w.seller.address, 'Sent', rawMail({ from: w.seller.address, to: `Ann <${annAddress}>`, subject, body: 'Sent from my desktop client.' }));
    await syncSeller(w);
    expect((await timeline(w, ann.id)).some((e) => e.data.subject === subject)).toBe(false);

    const rule = await w.t.api(w.adminToken, 'PATCH', '/api/v1/account/email-settings', { logRule: 'all_known_contacts' });
    expect(rule.statusCode, rule.body).toBe(200);
    const subject2 = `From Outlook ${uniq()}`;
    await appendTo(w, w.seller.address, 'Sent', rawMail({ from: w.seller.address, to: annAddress, subject: subject2, body: 'Another one.' }));
    await syncSeller(w);
    const logged = (await timeline(w, ann.id)).find((e) => e.data.subject === subject2);
    expect(logged).toMatchObject({ kind: 'email_sent', data: { source: 'sent_folder', direction: 'outbound' } });
    await w.t.api(w.adminToken, 'PATCH', '/api/v1/account/email-settings', { logRule: 'replies_only' });
  });

  it('never-log: nothing is logged for the listed domain, other recipients still log', async () => {
    const secretDomain = `secret-${uniq()}.test`;
    const set = await w.t.api(w.adminToken, 'PATCH', '/api/v1/account/email-settings', { neverLog: [secretDomain] });
    expect(set.json().neverLog).toEqual([secretDomain]);
    const carl = await contact(w, { firstName: 'Carl', emails: [`carl@${secretDomain}`], mailbox: true });
    const dana = await contact(w, { firstName: 'Dana', emails: [`dana-${uniq()}@ok.test`] });
    const solo = await send(carl.id, { subject: 'Private matter', html: '<p>Hi Carl</p>' });
    expect(solo.logged).toBe(false);
    const mixed = await send(carl.id, { to: [`carl@${secretDomain}`], cc: [(await w.t.api(w.seller.token, 'GET', `/api/v1/contacts/${dana.id}`)).json().primaryEmail], subject: 'Both of you', html: '<p>Hi all</p>' });
    expect(mixed.loggedContactIds).toEqual([dana.id]);
    const s1 = await deliverNow(w, solo.id);
    await deliverNow(w, mixed.id);
    await w.dovecot.deliver(w.seller.address, rawMail({ from: `carl@${secretDomain}`, to: w.seller.address, subject: 'Re: Private matter', inReplyTo: s1.messageId, references: s1.messageId }));
    await syncSeller(w);
    expect((await timeline(w, carl.id)).filter((e) => e.kind !== 'contact_created')).toEqual([]);
    expect((await timeline(w, dana.id)).filter((e) => e.kind === 'email_sent').map((e) => e.data.subject)).toEqual(['Both of you']);
    await w.t.api(w.adminToken, 'PATCH', '/api/v1/account/email-settings', { neverLog: [] });
  });
});
