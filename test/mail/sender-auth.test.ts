/**
 * Sender authentication (src/mail/sender-auth.ts) with mailauth against recorded DNS (no network): SPF
 * by the client IP, DKIM signed here with generated keys, DMARC with each policy, ARC sealed by a
 * forwarder. What is stored per message and when a message is flagged (its From not to be believed).
 */
import { authenticate, dkimSign, sealMessage } from 'mailauth';
import { beforeAll, describe, expect, it } from 'vitest';
import { readSenderAuth, senderAuthenticator, summarize, unsignedHeaderOnly, unsignedResultKey, type SenderAuth } from '../../src/mail/sender-auth.js';
import { dkimKey, recordedDns, type Records } from '../support/recorded-dns.js';

const bank = dkimKey();
const mailer = dkimKey();
const google = dkimKey();
const evil = dkimKey();

// The scenario's DNS: bank.test sends from 192.0.2.10 and signs (p=reject); shop.test publishes p=none;
// news.test (p=quarantine) has its mail sent and signed by mailer.test; google.com forwards and seals ARC.
const zone: Record<string, Records> = {
  'bank.test': { TXT: ['v=spf1 ip4:192.0.2.10 -all'] },
  '_dmarc.bank.test': { TXT: ['v=DMARC1; p=reject; rua=mailto:dmarc@bank.test'] },
  's1._domainkey.bank.test': { TXT: [bank.record] },
  'shop.test': { TXT: ['v=spf1 ip4:192.0.2.20 ~all'] },
  '_dmarc.shop.test': { TXT: ['v=DMARC1; p=none'] },
  'news.test': { TXT: ['v=spf1 -all'] },
  '_dmarc.news.test': { TXT: ['v=DMARC1; p=quarantine'] },
  'mailer.test': { TXT: ['v=spf1 ip4:192.0.2.30 -all'] },
  'm1._domainkey.mailer.test': { TXT: [mailer.record] },
  'google.com': { TXT: ['v=spf1 ip4:198.51.100.0/24 -all'] },
  'arc._domainkey.google.com': { TXT: [google.record] },
  'evil.test': { TXT: ['v=spf1 ip4:203.0.113.0/24 -all'] },
  'arc._domainkey.evil.test': { TXT: [evil.record] },
};
const dns = recordedDns(zone, { fail: ['_dmarc.flaky.test', 'flaky.test'] });
const verify = senderAuthenticator({ resolver: dns.resolver, hostname: 'mx.mailroom.test' });

function mail(from: string, subject = 'Hello', body = 'Hello there.\r\n'): string {
  return [
    `From: ${from}`,
    'To: support@acme.test',
    `Subject: ${subject}`,
    'Date: Sun, 06 Dec 2026 10:00:00 +0000',
    `Message-ID: <${Math.random().toString(36).slice(2)}@test>`,
    'Content-Type: text/plain',
    '',
    body,
  ].join('\r\n');
}

async function sign(raw: string, domain: string, selector: string, privateKey: string): Promise<string> {
  const r = await dkimSign(raw, { signatureData: [{ signingDomain: domain, selector, privateKey }] } as never);
  expect(r.errors).toEqual([]);
  return r.signatures + raw;
}

/** A forwarder's ARC set over `raw`, recording what it saw on arrival. */
async function seal(raw: string, domain: string, privateKey: string, saw: string): Promise<string> {
  const headers = await sealMessage(raw, { signingDomain: domain, selector: 'arc', privateKey, authResults: `mx.${domain}; ${saw}`, cv: 'none' } as never);
  return headers.toString() + raw;
}

let signedBank: string;
beforeAll(async () => {
  signedBank = await sign(mail('Ann Banker <ann@bank.test>'), 'bank.test', 's1', bank.privateKey);
});

describe('sender authentication', () => {
  it('a message sent by its domain: SPF pass (mailed by), DKIM pass aligned (signed by), DMARC pass, not flagged', async () => {
    const r = await verify(Buffer.from(signedBank), { ip: '192.0.2.10', helo: 'mail.bank.test', mailFrom: 'bounces@bank.test' });
    expect(r).toEqual<SenderAuth>({
      spf: { result: 'pass', domain: 'bank.test' },
      dkim: [{ domain: 'bank.test', selector: 's1', result: 'pass', aligned: true }],
      dmarc: { result: 'pass', domain: 'bank.test', policy: 'reject' },
      arc: null,
      flagged: false,
    });
  });

  it('a forged From under p=reject (unsigned, from an IP the domain does not list): DMARC fails, flagged', async () => {
    const r = await verify(Buffer.from(mail('CEO <ceo@bank.test>', 'Urgent wire transfer')), { ip: '203.0.113.7', helo: 'evil.test', mailFrom: 'ceo@bank.test' });
    expect(r).toMatchObject({ spf: { result: 'fail', domain: 'bank.test' }, dkim: [], dmarc: { result: 'fail', domain: 'bank.test', policy: 'reject' }, flagged: true });
  });

  it('a body changed after signing: the signature does not verify (neutral: body hash mismatch), SPF passes aligned, so DMARC passes', async () => {
    const tampered = signedBank.replace('Hello there.', 'Pay invoice 42.');
    const r = await verify(Buffer.from(tampered), { ip: '192.0.2.10', helo: 'mail.bank.test', mailFrom: 'ann@bank.test' });
    expect(r?.dkim).toEqual([{ domain: 'bank.test', selector: 's1', result: 'neutral', aligned: true }]);
    expect(r).toMatchObject({ spf: { result: 'pass' }, dmarc: { result: 'pass' }, flagged: false });
  });

  it.each([
    ['p=none: DMARC fails but the domain asks for nothing, not flagged', 'Shop <hello@shop.test>', '203.0.113.7', { result: 'fail', domain: 'shop.test', policy: 'none' }, false],
    ['no DMARC record at all: none, not flagged', 'Someone <x@nodmarc.test>', '203.0.113.7', null, false],
  ] as const)('%s', async (_name, from, ip, dmarc, flagged) => {
    const r = await verify(Buffer.from(mail(from)), { ip, helo: 'somewhere.test', mailFrom: from.replace(/.*</, '').replace('>', '') });
    if (dmarc) expect(r?.dmarc).toEqual(dmarc);
    else expect(r?.dmarc === null || r?.dmarc?.result === 'none').toBe(true);
    expect(r?.flagged).toBe(flagged);
  });

  it('signed only by the sending service (not aligned with the From) under p=quarantine: signed by mailer.test, flagged', async () => {
    const raw = await sign(mail('News <letter@news.test>'), 'mailer.test', 'm1', mailer.privateKey);
    const r = await verify(Buffer.from(raw), { ip: '192.0.2.30', helo: 'out.mailer.test', mailFrom: 'bounce@mailer.test' });
    expect(r).toMatchObject({
      spf: { result: 'pass', domain: 'mailer.test' },
      dkim: [{ domain: 'mailer.test', result: 'pass', aligned: false }],
      dmarc: { result: 'fail', domain: 'news.test', policy: 'quarantine' },
      flagged: true,
    });
  });

  it('forwarded by a trusted forwarder that saw DMARC pass and sealed ARC: the broken signature is forgiven', async () => {
    // The forwarder (a mailing list) received the signed message, then changed the subject and sealed.
    const changed = signedBank.replace('Subject: Hello', 'Subject: [team] Hello');
    const forwarded = await seal(changed, 'google.com', google.privateKey, 'dkim=pass header.d=bank.test; spf=pass smtp.mailfrom=bank.test; dmarc=pass header.from=bank.test');
    const r = await verify(Buffer.from(forwarded), { ip: '198.51.100.5', helo: 'mail-x.google.com', mailFrom: 'list+bounces@google.com' });
    expect(r).toMatchObject({
      dkim: [{ domain: 'bank.test', result: 'fail' }],
      dmarc: { result: 'fail', policy: 'reject' },
      arc: { result: 'pass', instance: 1, sealer: 'google.com' },
      flagged: false,
    });
  });

  it('ARC does not rescue a forgery: a trusted forwarder that saw DMARC fail, or a sealer nobody trusts', async () => {
    const forged = mail('CEO <ceo@bank.test>');
    const viaGoogle = await seal(forged, 'google.com', google.privateKey, 'dkim=none; spf=fail smtp.mailfrom=bank.test; dmarc=fail header.from=bank.test');
    const a = await verify(Buffer.from(viaGoogle), { ip: '198.51.100.5', helo: 'mail-x.google.com', mailFrom: 'fwd@google.com' });
    expect(a).toMatchObject({ arc: { result: 'pass', sealer: 'google.com' }, dmarc: { result: 'fail' }, flagged: true });
    const viaEvil = await seal(forged, 'evil.test', evil.privateKey, 'dkim=pass header.d=bank.test; spf=pass; dmarc=pass header.from=bank.test');
    const b = await verify(Buffer.from(viaEvil), { ip: '203.0.113.9', helo: 'mx.evil.test', mailFrom: 'x@evil.test' });
    expect(b).toMatchObject({ arc: { result: 'pass', sealer: 'evil.test' }, dmarc: { result: 'fail' }, flagged: true });
  });

  it('a DNS failure is a temporary error, never a reason to flag', async () => {
    const r = await verify(Buffer.from(mail('Flaky <a@flaky.test>')), { ip: '203.0.113.7', helo: 'x.test', mailFrom: 'a@flaky.test' });
    expect(r?.spf.result).toBe('temperror');
    expect(r?.dmarc?.result).toBe('temperror');
    expect(r?.flagged).toBe(false);
  });

  it('a bounce (null sender) is checked by its HELO name', async () => {
    const r = await verify(Buffer.from(signedBank), { ip: '192.0.2.10', helo: 'bank.test', mailFrom: '' });
    expect(r?.spf).toEqual({ result: 'pass', domain: 'bank.test' });
  });

  it('an unsigned message is judged on its header alone, with the result mailauth gives on the whole message', async () => {
    const cases: Array<[string, { ip: string; helo: string; mailFrom: string }]> = [
      [mail('CEO <ceo@bank.test>', 'Urgent wire transfer', 'x'.repeat(50_000)), { ip: '203.0.113.7', helo: 'evil.test', mailFrom: 'ceo@bank.test' }],
      [mail('Shop <hi@shop.test>'), { ip: '192.0.2.20', helo: 'mail.shop.test', mailFrom: 'hi@shop.test' }],
      [mail('News <n@news.test>').replace(/\r\n/g, '\n'), { ip: '192.0.2.30', helo: 'mailer.test', mailFrom: 'b@mailer.test' }],
      [mail('Flaky <a@flaky.test>'), { ip: '203.0.113.7', helo: 'x.test', mailFrom: 'a@flaky.test' }],
    ];
    for (const [raw, envelope] of cases) {
      const buf = Buffer.from(raw);
      const trimmed = unsignedHeaderOnly(buf);
      expect(trimmed.length).toBeLessThan(buf.length);
      expect(buf.subarray(0, trimmed.length).equals(trimmed)).toBe(true);
      expect(trimmed.toString().endsWith(raw.includes('\r\n') ? '\r\n\r\n' : '\n\n')).toBe(true);
      const whole = summarize(await authenticate(buf, { ...envelope, sender: envelope.mailFrom, resolver: dns.resolver, disableBimi: true }), []);
      expect(await verify(buf, envelope)).toEqual(whole);
    }
  });

  it('a signed or sealed message is read whole (its body is hashed), and so is one with no header end', async () => {
    expect(unsignedHeaderOnly(Buffer.from(signedBank)).length).toBe(Buffer.byteLength(signedBank));
    const sealed = await seal(mail('Shop <hi@shop.test>'), 'google.com', google.privateKey, 'dmarc=pass');
    expect(unsignedHeaderOnly(Buffer.from(sealed)).length).toBe(Buffer.byteLength(sealed));
    const folded = `X-Note: a\r\n dkim-signature: not a header\r\n${mail('Shop <hi@shop.test>')}`;
    expect(unsignedHeaderOnly(Buffer.from(folded)).length).toBeLessThan(Buffer.byteLength(folded));
    const headless = 'From: a@b.test\r\nSubject: no body';
    expect(unsignedHeaderOnly(Buffer.from(headless)).length).toBe(headless.length);
  });

  it("an unsigned message's result is reused for the next with the same envelope and From lines (no DNS asked again); any other From or envelope is verified", async () => {
    const d = recordedDns(zone, { fail: ['_dmarc.flaky.test', 'flaky.test'] });
    const v = senderAuthenticator({ resolver: d.resolver, hostname: 'mx.mailroom.test' });
    const forged = { ip: '203.0.113.7', helo: 'evil.test', mailFrom: 'ceo@bank.test' };
    const first = await v(Buffer.from(mail('CEO <ceo@bank.test>', 'Wire 1')), forged);
    const asked = d.asked.length;
    expect(asked).toBeGreaterThan(0);
    const again = await v(Buffer.from(mail('CEO <ceo@bank.test>', 'Wire 2', 'another body')), forged);
    expect(again).toEqual(first);
    expect(d.asked.length).toBe(asked);
    again!.flagged = false; // a caller changing its copy changes nothing reused
    expect((await v(Buffer.from(mail('CEO <ceo@bank.test>', 'Wire 3')), forged))?.flagged).toBe(true);
    expect(d.asked.length).toBe(asked);
    // Another From (DMARC of another domain), another client IP (SPF): verified, each with its own result.
    expect(await v(Buffer.from(mail('Shop <hi@shop.test>')), forged)).toMatchObject({ dmarc: { domain: 'shop.test', policy: 'none' }, flagged: false });
    expect(d.asked.length).toBeGreaterThan(asked);
    expect(await v(Buffer.from(mail('CEO <ceo@bank.test>')), { ...forged, ip: '192.0.2.10' })).toMatchObject({
      spf: { result: 'pass' },
      dmarc: { result: 'pass' },
      flagged: false,
    });
  });

  it('never reused: a signed message, a DNS failure (temperror), or with reuseMs 0', async () => {
    const d = recordedDns(zone, { fail: ['_dmarc.flaky.test', 'flaky.test'] });
    const v = senderAuthenticator({ resolver: d.resolver, hostname: 'mx.mailroom.test' });
    const twice = async (raw: string, envelope: { ip: string; helo: string; mailFrom: string }, via = v) => {
      await via(Buffer.from(raw), envelope);
      const n = d.asked.length;
      await via(Buffer.from(raw), envelope);
      return d.asked.length - n;
    };
    expect(await twice(signedBank, { ip: '192.0.2.10', helo: 'mail.bank.test', mailFrom: 'bounces@bank.test' })).toBeGreaterThan(0);
    expect(await twice(mail('Flaky <a@flaky.test>'), { ip: '203.0.113.7', helo: 'x.test', mailFrom: 'a@flaky.test' })).toBeGreaterThan(0);
    const off = senderAuthenticator({ resolver: d.resolver, reuseMs: 0 });
    expect(await twice(mail('Shop <hi@shop.test>'), { ip: '192.0.2.20', helo: 'mail.shop.test', mailFrom: 'hi@shop.test' }, off)).toBeGreaterThan(0);
    expect(await twice(mail('Shop <hi@shop.test>'), { ip: '192.0.2.20', helo: 'mail.shop.test', mailFrom: 'hi@shop.test' })).toBe(0);
  });

  it('the reuse key holds the envelope and every From field as mailauth splits the header (folded, repeated, odd spacing); a header with bare LF line breaks gets none', async () => {
    const env = { ip: '203.0.113.7', helo: 'evil.test', mailFrom: 'ceo@bank.test' };
    const header = (lines: string[]) => Buffer.from(`${lines.join('\r\n')}\r\n\r\n`);
    const key = (lines: string[]) => unsignedResultKey(header(lines), env);
    expect(key(['Subject: a', 'From: CEO <ceo@bank.test>'])).toBe(key(['From: CEO <ceo@bank.test>', 'Subject: b', 'Message-ID: <x@y>']));
    expect(key(['From: CEO <ceo@bank.test>'])).not.toBe(key(['From: CEO <ceo@shop.test>']));
    expect(key(['From: CEO', ' <ceo@bank.test>'])).not.toBe(key(['From: CEO', ' <ceo@shop.test>']));
    expect(key(['From: a@bank.test', 'FROM : b@shop.test'])).not.toBe(key(['From: a@bank.test']));
    expect(key(['X-A: 1', '\tFrom: b@shop.test', 'From: a@bank.test'])).toBe(key(['From: a@bank.test']));
    expect(unsignedResultKey(header(['From: a@bank.test']), { ...env, helo: 'other.test' })).not.toBe(key(['From: a@bank.test']));
    expect(unsignedResultKey(Buffer.from('From: a@bank.test\nSubject: x\n\n'), env)).toBeNull();
    expect(unsignedResultKey(Buffer.from('From: a@bank.test\r\nSubject: x\r\r\n\r\n'), env)).toBeNull();
    // Whatever the shape of the From fields, a reused result is the one mailauth gives on the whole message.
    const d = recordedDns(zone);
    const v = senderAuthenticator({ resolver: d.resolver, hostname: 'mx.mailroom.test' });
    for (const from of [
      'From: CEO <ceo@bank.test>',
      'From: CEO\r\n <ceo@bank.test>',
      'From: ceo@bank.test\r\nFrom: hi@shop.test',
      'from :  Shop <hi@shop.test>',
      'From: a@bank.test, b@shop.test',
    ]) {
      for (const subject of ['one', 'two']) {
        const raw = Buffer.from(`${from}\r\nTo: support@acme.test\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@t>\r\n\r\nbody ${subject}\r\n`);
        const whole = summarize(await authenticate(raw, { ...env, sender: env.mailFrom, resolver: d.resolver, disableBimi: true }), []);
        expect(await v(raw, env), `${from} / ${subject}`).toEqual(whole);
      }
    }
  });

  it('the stored document reads back; anything else reads as not verified', () => {
    const doc: SenderAuth = { spf: { result: 'pass', domain: 'a.test' }, dkim: [], dmarc: null, arc: null, flagged: false };
    expect(readSenderAuth(JSON.stringify(doc))).toEqual(doc);
    for (const bad of [null, undefined, '', 'not json', '{}', '[]']) expect(readSenderAuth(bad)).toBeNull();
  });
});
