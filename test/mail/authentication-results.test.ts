/**
 * Sender authentication of IMAP mail from the receiving server's Authentication-Results header
 * (src/mail/authentication-results.ts): only the topmost header, only with a trusted authserv-id; the
 * shapes Gmail, OpenDMARC and rspamd write.
 */
import { describe, expect, it } from 'vitest';
import { firstHeader, parseAuthenticationResults, senderAuthFromHeader, trustedAuthservIds } from '../../src/mail/authentication-results.js';

const msg = (...headers: string[]) => Buffer.from([...headers, 'From: Ann <ann@client.test>', 'Subject: hi', '', 'body', ''].join('\r\n'));
const GMAIL_PASS = [
  'Authentication-Results: mx.google.com;',
  '       dkim=pass header.i=@client.test header.s=s1 header.b=AbCdEf;',
  '       spf=pass (google.com: domain of bounce@mail.client.test designates 192.0.2.1 as permitted sender) smtp.mailfrom=bounce@mail.client.test;',
  '       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=client.test',
].join('\r\n');
const GMAIL = trustedAuthservIds('imap.gmail.com');

describe('Authentication-Results of synced mail', () => {
  it("Gmail's header on a Gmail mailbox: read, signed by and mailed by", () => {
    expect(senderAuthFromHeader(msg(GMAIL_PASS), GMAIL)).toEqual({
      spf: { result: 'pass', domain: 'mail.client.test' },
      dkim: [{ domain: 'client.test', selector: 's1', result: 'pass', aligned: true }],
      dmarc: { result: 'pass', domain: 'client.test', policy: 'reject' },
      arc: null,
      flagged: false,
    });
  });

  it('a forged pass written by the sender under the real header is never read; the real one is', () => {
    const forged = 'Authentication-Results: mx.google.com; dkim=pass header.d=bank.test; spf=pass smtp.mailfrom=bank.test; dmarc=pass header.from=bank.test';
    const real = 'Authentication-Results: mx.google.com; spf=softfail smtp.mailfrom=x@bulk.test; dmarc=fail (p=QUARANTINE sp=QUARANTINE dis=QUARANTINE) header.from=client.test';
    expect(senderAuthFromHeader(msg(real, forged), GMAIL)).toMatchObject({
      spf: { result: 'softfail', domain: 'bulk.test' },
      dkim: [],
      dmarc: { result: 'fail', policy: 'quarantine' },
      flagged: true,
    });
  });

  it.each([
    ["the topmost header is not the provider's (a sender's own, the provider added none)", msg('Authentication-Results: evil.test; dmarc=pass header.from=client.test'), GMAIL],
    ['a trusted id, but not on top', msg('Authentication-Results: other.test; spf=none', GMAIL_PASS), GMAIL],
    [
      'no authserv-id (nothing to trust it by)',
      msg('Authentication-Results: spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=client.test; dmarc=pass action=none header.from=client.test'),
      GMAIL,
    ],
    ['a self-hosted IMAP server nobody declared', msg('Authentication-Results: mail.acme.test; dmarc=pass header.from=client.test'), trustedAuthservIds('mail.acme.test')],
    ['no header at all', msg(), GMAIL],
  ] as const)('unverified (null): %s', (_name, raw, ids) => {
    expect(senderAuthFromHeader(raw, ids)).toBeNull();
  });

  it.each([
    ['OpenDMARC', 'mail.acme.test; dmarc=fail (p=reject dis=none) header.from=client.test', { result: 'fail', domain: 'client.test', policy: 'reject' }, true],
    [
      'rspamd',
      'mx1.acme.test; dkim=none; dmarc=fail reason="No valid SPF, No valid DKIM" header.from=client.test (policy=quarantine); spf=fail smtp.mailfrom=x@bulk.test',
      { result: 'fail', domain: 'client.test', policy: 'quarantine' },
      true,
    ],
    ['p=none', 'mail.acme.test; dmarc=fail (p=none dis=none) header.from=client.test', { result: 'fail', domain: 'client.test', policy: 'none' }, false],
    ['policy property', 'mail.acme.test; dmarc=fail policy.dmarc=reject header.from=client.test', { result: 'fail', domain: 'client.test', policy: 'reject' }, true],
  ] as const)("the operator's own servers (MAILROOM_TRUSTED_AUTHSERV_IDS=acme.test): %s", (_name, value, dmarc, flagged) => {
    const r = senderAuthFromHeader(msg(`Authentication-Results: ${value}`), trustedAuthservIds('imap.acme.test', ['acme.test']));
    expect(r?.dmarc).toEqual(dmarc);
    expect(r?.flagged).toBe(flagged);
  });

  it('parses ARC and folded headers; the first header only', () => {
    const raw = msg(
      'Authentication-Results: mx.google.com;\r\n arc=pass (i=2 spf=pass spfdomain=client.test);\r\n dmarc=pass (p=NONE) header.from=client.test',
      'Authentication-Results: mx.google.com; dmarc=fail',
    );
    expect(firstHeader(raw, 'Authentication-Results')).toBe('mx.google.com; arc=pass (i=2 spf=pass spfdomain=client.test); dmarc=pass (p=NONE) header.from=client.test');
    expect(senderAuthFromHeader(raw, GMAIL)).toMatchObject({ arc: { result: 'pass', instance: 2, sealer: null }, dmarc: { result: 'pass', policy: 'none' }, flagged: false });
    expect(parseAuthenticationResults('mx.google.com 1; spf=pass smtp.mailfrom=a@b.test')?.authservId).toBe('mx.google.com');
  });
});
