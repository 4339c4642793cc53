/**
 * Mail synced over IMAP (a real Dovecot) carries the sender authentication its receiving server recorded
 * in the topmost Authentication-Results header, when that server's authserv-id is trusted
 * (MAILROOM_TRUSTED_AUTHSERV_IDS): stored with the message; a DMARC failure under p=reject is flagged and
 * not logged on the contact's timeline (under "log all email with known contacts"); a header from an
 * untrusted server is ignored (not verified, logged as before).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSenderAuth } from '../../src/mail/sender-auth.js';
import { contact, rawMail, startWorld, syncSeller, timeline, uniq, type World } from './support.js';

let w: World;
beforeAll(async () => {
  w = await startWorld();
  w.t.env.settings.trustedAuthservIds = ['mx.sales.test']; // MAILROOM_TRUSTED_AUTHSERV_IDS=mx.sales.test
  const r = await w.t.api(w.adminToken, 'PATCH', '/api/v1/account/email-settings', { logRule: 'all_known_contacts' });
  expect(r.statusCode, r.body).toBe(200);
}, 60_000);
afterAll(async () => {
  await w?.stop();
});

describe('IMAP sync and Authentication-Results', () => {
  it('trusted header: results stored, a DMARC reject failure flagged and not logged; an untrusted header ignored', async () => {
    const ann = await contact(w, { firstName: 'Ann', emails: [`ann-${uniq()}@client.test`] });
    const annAddress: string = (await w.t.api(w.seller.token, 'GET', `/api/v1/contacts/${ann.id}`)).json().primaryEmail;
    const ar = (id: string, dmarc: string) =>
      `Authentication-Results: ${id};\r\n dkim=${dmarc === 'pass' ? 'pass' : 'none'} header.d=client.test header.s=s1;\r\n spf=${dmarc === 'pass' ? 'pass' : 'fail'} smtp.mailfrom=${dmarc === 'pass' ? annAddress : 'x@bulk.test'};\r\n dmarc=${dmarc} (p=REJECT dis=NONE) header.from=client.test`;
    const ids = { real: `real-${uniq()}@client.test`, forged: `forged-${uniq()}@bulk.test`, untrusted: `untrusted-${uniq()}@client.test` };
    await w.dovecot.deliver(
      w.seller.address,
      `${ar('mx.sales.test', 'pass')}\r\n${rawMail({ from: annAddress, to: w.seller.address, subject: 'Real question', messageId: `<${ids.real}>` })}`,
    );
    await w.dovecot.deliver(
      w.seller.address,
      `${ar('mx.sales.test', 'fail')}\r\n${rawMail({ from: annAddress, to: w.seller.address, subject: 'Forged invoice', messageId: `<${ids.forged}>` })}`,
    );
    await w.dovecot.deliver(
      w.seller.address,
      `${ar('evil.test', 'pass')}\r\n${rawMail({ from: annAddress, to: w.seller.address, subject: 'Untrusted header', messageId: `<${ids.untrusted}>` })}`,
    );
    await syncSeller(w);

    const auth = async (id: string) =>
      readSenderAuth(
        (
          await w.t.database.db
            .selectFrom('messages')
            .select('sender_auth')
            .where('connection_id', '=', w.seller.connectionId)
            .where('message_id', '=', id)
            .executeTakeFirstOrThrow()
        ).sender_auth,
      );
    expect(await auth(ids.real)).toMatchObject({
      spf: { result: 'pass', domain: 'client.test' },
      dkim: [{ domain: 'client.test', result: 'pass', aligned: true }],
      dmarc: { result: 'pass', policy: 'reject' },
      flagged: false,
    });
    expect(await auth(ids.forged)).toMatchObject({ dmarc: { result: 'fail', policy: 'reject' }, flagged: true });
    expect(await auth(ids.untrusted)).toBeNull();

    const subjects = (await timeline(w, ann.id)).map((e) => e.data.subject);
    expect(subjects).toContain('Real question');
    expect(subjects).toContain('Untrusted header');
    expect(subjects).not.toContain('Forged invoice');
  });
});
