/**
 * Offline DNS for sender authentication tests: answers recorded here (what `dig` would return for the
 * domains of a scenario), through mailauth's resolver signature, and DKIM keys generated per test run
 * (the public half published as the selector's TXT record). A name without a record answers ENOTFOUND,
 * as a real resolver does for a domain without it; `fail` names answer a server failure (temperror).
 */
import crypto from 'node:crypto';
import type { DNSResolver } from '../../src/mail/sender-auth.js';

export interface Records {
  TXT?: string[];
  A?: string[];
  AAAA?: string[];
  MX?: Array<{ exchange: string; priority: number }>;
}

export interface RecordedDns {
  resolver: DNSResolver;
  /** Every query asked, as "TXT name". */
  asked: string[];
}

export function recordedDns(zone: Record<string, Records>, o: { fail?: string[] } = {}): RecordedDns {
  const asked: string[] = [];
  const resolver: DNSResolver = async (name, rrtype) => {
    const key = name.toLowerCase().replace(/\.$/, '');
    asked.push(`${rrtype} ${key}`);
    if (o.fail?.includes(key)) throw Object.assign(new Error(`queryTxt ESERVFAIL ${key}`), { code: 'ESERVFAIL' });
    const records = zone[key]?.[rrtype as keyof Records];
    if (!records || records.length === 0) throw Object.assign(new Error(`query${rrtype} ENOTFOUND ${key}`), { code: zone[key] ? 'ENODATA' : 'ENOTFOUND' });
    // TXT answers come as arrays of strings of at most 255 characters each (dns.resolveTxt's shape).
    if (rrtype === 'TXT') return (records as string[]).map((r) => r.match(/.{1,255}/g) ?? ['']);
    return records as never;
  };
  return { resolver, asked };
}

/** A fresh RSA key pair: the private key (PEM) for signing, the TXT record publishing the public one. */
export function dkimKey(bits = 2048): { privateKey: string; record: string } {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: bits });
  const der = publicKey.export({ type: 'spki', format: 'der' }) as Buffer;
  return { privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, record: `v=DKIM1; k=rsa; p=${der.toString('base64')}` };
}
