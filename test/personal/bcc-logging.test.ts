/**
 * The BCC / forwarding logging address over real SMTP (Mailroom's inbound server, nodemailer as the
 * user's mail client): BCC'd mail is logged to the recipient contacts (created when the account allows),
 * a forward is logged for the original sender, replies to BCC'd mail are logged after a sync pass; mail
 * from anyone but the owner's own connected addresses is refused (550), oversized mail gets 552.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { inboundWiring } from '../../src/app/features.js';
import { startInboundSmtp, type RunningInboundSmtp } from '../../src/mail/inbound-smtp.js';
import { contact, log, rawMail, startWorld, syncSeller, timeline, uniq, type World } from './support.js';

let w: World;
let inbound: RunningInboundSmtp;
let loggingAddress: string;

beforeAll(async () => {
  w = await startWorld();
  inbound = await startInboundSmtp(w.ingestor, { ...inboundWiring(), port: 0, host: '127.0.0.1', maxMessageBytes: 300_000, maxClients: 20, connectionsPerMinute: 1000, log });
  const r = await w.t.api(w.seller.token, 'GET', '/api/v1/email-preferences/logging-address');
  expect(r.statusCode, r.body).toBe(200);
  loggingAddress = r.json().address;
}, 60_000);
afterAll(async () => {
  await inbound?.close();
  await w?.stop();
});

const client = () => nodemailer.createTransport({ host: '127.0.0.1', port: inbound.port, secure: false, ignoreTLS: true });

describe('BCC logging address', () => {
  it('is personal, stable, and names the addresses it accepts mail from', async () => {
    expect(loggingAddress).toMatch(/^bcc-[0-9a-f]{20}@crm\.mailroom\.test$/);
    const again = await w.t.api(w.seller.token, 'GET', '/api/v1/email-preferences/logging-address');
    expect(again.json()).toEqual({ address: loggingAddress, acceptsFrom: [w.seller.address] });
    const prefs = await w.t.api(w.seller.token, 'GET', '/api/v1/email-preferences');
    expect(prefs.json().loggingAddress).toBe(loggingAddress);
  });

  it('logs BCC\'d mail to known contacts; unknown recipients only become contacts when the account allows', async () => {
    const ann = await contact(w, { firstName: 'Ann', emails: [`ann-${uniq()}@client.test`] });
    const annAddress = (await w.t.api(w.seller.token, 'GET', `/api/v1/contacts/${ann.id}`)).json().primaryEmail;
    const newcomer = `carla-${uniq()}@newco.test`;
    const subject = `Proposal ${uniq()}`;
    const info = await client().sendMail({
      envelope: { from: w.seller.address, to: [annAddress, newcomer, loggingAddress] },
      from: `Sam Seller <${w.seller.address}>`,
      to: [annAddress, `Carla <${newcomer}>`],
      subject,
      text: 'Here is the proposal.',
    });
    expect(info.accepted).toContain(loggingAddress);
    const events = await timeline(w, ann.id);
    expect(events.find((e) => e.data.subject === subject)).toMatchObject({ kind: 'email_sent', data: { source: 'bcc', direction: 'outbound' } });
    const found = await w.t.api(w.seller.token, 'GET', `/api/v1/contacts?q=${encodeURIComponent(newcomer)}`);
    expect(found.json().contacts).toEqual([]);

    await w.t.api(w.adminToken, 'PATCH', '/api/v1/account/email-settings', { createContacts: true });
    const subject2 = `Follow-up ${uniq()}`;
    await client().sendMail({ envelope: { from: w.seller.address, to: [loggingAddress] }, from: w.seller.address, to: `Carla Newman <${newcomer}>`, subject: subject2, text: 'Following up.' });
    const created = (await w.t.api(w.seller.token, 'GET', `/api/v1/contacts?q=${encodeURIComponent(newcomer)}`)).json().contacts;
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ firstName: 'Carla', lastName: 'Newman', source: 'email', ownerId: w.seller.userId });
    expect((await timeline(w, created[0].id)).map((e) => e.kind).sort()).toEqual(['contact_created', 'email_sent']);
    await w.t.api(w.adminToken, 'PATCH', '/api/v1/account/email-settings', { createContacts: false });
  });

  it('logs the contact\'s reply to BCC\'d mail once the mailbox is synced', async () => {
    const bea = await contact(w, { firstName: 'Bea', emails: [`bea-${uniq()}@client.test`] });
    const beaAddress = (await w.t.api(w.seller.token, 'GET', `/api/v1/contacts/${bea.id}`)).json().primaryEmail;
    const id = `${uniq()}@sales.test`;
    await client().sendMail({ envelope: { from: w.seller.address, to: [loggingAddress] }, from: w.seller.address, to: beaAddress, subject: 'Meeting notes', messageId: `<${id}>`, text: 'Notes attached.' });
    await w.dovecot.deliver(w.seller.address, rawMail({ from: beaAddress, to: w.seller.address, subject: 'Re: Meeting notes', inReplyTo: `<${id}>`, references: `<${id}>` }));
    await syncSeller(w);
    const kinds = (await timeline(w, bea.id)).map((e) => e.kind);
    expect(kinds).toContain('email_sent');
    expect(kinds).toContain('email_received');
  });

  it('logs a forwarded email for its original sender', async () => {
    const dan = await contact(w, { firstName: 'Dan', emails: [`dan-${uniq()}@client.test`] });
    const danAddress = (await w.t.api(w.seller.token, 'GET', `/api/v1/contacts/${dan.id}`)).json().primaryEmail;
    await client().sendMail({
      envelope: { from: w.seller.address, to: [loggingAddress] },
      from: w.seller.address,
      to: loggingAddress,
      subject: 'Fwd: Can we talk?',
      text: `FYI\n\n---------- Forwarded message ---------\nFrom: Dan <${danAddress}>\nDate: Mon, 1 Jan 2024\nSubject: Can we talk?\n\nCall me.\n`,
    });
    expect((await timeline(w, dan.id)).find((e) => e.kind === 'email_received')?.data).toMatchObject({ source: 'forward', subject: 'Fwd: Can we talk?' });
  });

  it('refuses mail that is not from the owner\'s connected addresses, and oversized mail', async () => {
    const before = await w.t.database.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    await expect(
      client().sendMail({ envelope: { from: 'spoofer@evil.test', to: [loggingAddress] }, from: 'spoofer@evil.test', to: 'someone@client.test', subject: 'Log me', text: 'x' }),
    ).rejects.toMatchObject({ responseCode: 550, response: expect.stringContaining('only accepts mail from the connected email addresses') });
    // The envelope alone is not enough: the From header decides.
    await expect(client().sendMail({ envelope: { from: w.seller.address, to: [loggingAddress] }, from: 'boss@evil.test', to: 'x@client.test', subject: 'Log me', text: 'x' })).rejects.toMatchObject({ responseCode: 550 });
    await expect(
      client().sendMail({ envelope: { from: w.seller.address, to: [loggingAddress] }, from: w.seller.address, to: 'x@client.test', subject: 'Big', text: 'x'.repeat(400_000) }),
    ).rejects.toMatchObject({ responseCode: 552 });
    const after = await w.t.database.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
    // Unknown logging addresses are not ours (no relay).
    await expect(client().sendMail({ envelope: { from: w.seller.address, to: ['bcc-00000000000000000000@crm.mailroom.test'] }, from: w.seller.address, to: 'x@client.test', subject: 'x', text: 'x' })).rejects.toMatchObject({
      responseCode: 550,
    });
  });
});
