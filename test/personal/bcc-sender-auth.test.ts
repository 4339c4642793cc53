/**
 * The BCC logging address against forged senders: anyone who learns the address can send mail "From" the
 * user. With sender authentication (recorded DNS: the user's domain sales.test publishes p=reject and a
 * DKIM key generated here), the user's real, signed BCC is logged on the contact's timeline; a forged one
 * (unsigned, from a server sales.test does not list) is stored, flagged, and logged nowhere.
 */
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboundWiring } from '../../src/app/features.js';
import { startInboundSmtp, type RunningInboundSmtp } from '../../src/mail/inbound-smtp.js';
import { readSenderAuth, senderAuthenticator } from '../../src/mail/sender-auth.js';
import { dkimKey, recordedDns } from '../support/recorded-dns.js';
import { contact, log, startWorld, timeline, uniq, type World } from './support.js';

const sales = dkimKey();
const dns = recordedDns({
  'sales.test': { TXT: ['v=spf1 ip4:192.0.2.25 -all'] },
  '_dmarc.sales.test': { TXT: ['v=DMARC1; p=reject'] },
  'k1._domainkey.sales.test': { TXT: [sales.record] },
});

let w: World;
let inbound: RunningInboundSmtp;
let loggingAddress: string;

beforeAll(async () => {
  w = await startWorld();
  inbound = await startInboundSmtp(w.ingestor, {
    ...inboundWiring(),
    port: 0,
    host: '127.0.0.1',
    maxMessageBytes: 300_000,
    maxClients: 20,
    connectionsPerMinute: 1000,
    log,
    senderAuth: senderAuthenticator({ resolver: dns.resolver }),
  });
  loggingAddress = (await w.t.api(w.seller.token, 'GET', '/api/v1/email-preferences/logging-address')).json().address;
}, 60_000);
afterAll(async () => {
  await inbound?.close();
  await w?.stop();
});

const client = (signed: boolean) =>
  nodemailer.createTransport({
    host: '127.0.0.1',
    port: inbound.port,
    secure: false,
    ignoreTLS: true,
    ...(signed ? { dkim: { domainName: 'sales.test', keySelector: 'k1', privateKey: sales.privateKey } } : {}),
  });

describe('BCC logging address and sender authentication', () => {
  it("logs the user's signed BCC; a forged one is stored, flagged and logged nowhere", async () => {
    const ann = await contact(w, { firstName: 'Ann', emails: [`ann-${uniq()}@client.test`] });
    const annAddress = (await w.t.api(w.seller.token, 'GET', `/api/v1/contacts/${ann.id}`)).json().primaryEmail;
    const real = `Proposal ${uniq()}`;
    const forged = `We agreed to a 90% discount ${uniq()}`;
    await client(true).sendMail({
      envelope: { from: w.seller.address, to: [loggingAddress] },
      from: `Sam Seller <${w.seller.address}>`,
      to: annAddress,
      subject: real,
      text: 'Here is the proposal.',
      messageId: `<real-${uniq()}@sales.test>`,
    });
    const forgedId = `forged-${uniq()}@sales.test`;
    await client(false).sendMail({
      envelope: { from: w.seller.address, to: [loggingAddress] },
      from: `Sam Seller <${w.seller.address}>`,
      to: annAddress,
      subject: forged,
      text: 'As agreed.',
      messageId: `<${forgedId}>`,
    });

    const subjects = (await timeline(w, ann.id)).map((e) => e.data.subject);
    expect(subjects).toContain(real);
    expect(subjects).not.toContain(forged);

    const kept = await w.t.database.db
      .selectFrom('messages')
      .selectAll()
      .where('connection_id', '=', w.seller.connectionId)
      .where('message_id', '=', forgedId)
      .executeTakeFirstOrThrow();
    expect(kept.subject).toBe(forged);
    expect(readSenderAuth(kept.sender_auth)).toMatchObject({ spf: { result: 'fail', domain: 'sales.test' }, dkim: [], dmarc: { result: 'fail', policy: 'reject' }, flagged: true });
    // The user sees it in their own mailbox's conversation, flagged.
    const conv = (await w.t.api(w.seller.token, 'GET', `/api/v1/personal-conversations/${kept.conversation_id}`)).json();
    expect(conv.messages.find((m: { id: string }) => m.id === kept.id).senderAuth).toMatchObject({ mailedBy: null, signedBy: [], flagged: true });
  });
});
