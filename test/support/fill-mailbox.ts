/**
 * Fills a test Dovecot mailbox fast by writing Maildir files directly (after a first login made Dovecot
 * create the Maildir with its mail user as owner). Used by crash tests and the sync benchmark.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import type { TestDovecot } from '../harness/dovecot.js';

export function sampleMessage(i: number, prefix = 'bench'): Buffer {
  const thread = Math.floor(i / 4);
  const reply = i % 4 !== 0;
  const body = `Hello team,\n\nThis is message ${i} about order ${thread}. ${'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(50)}\n\nRegards,\nCustomer ${thread % 300}\n`;
  return Buffer.from(
    [
      `From: Customer ${thread % 300} <customer${thread % 300}@example.org>`,
      'To: support@acme.test',
      `Subject: ${reply ? 'Re: ' : ''}Order ${thread} question`,
      `Message-ID: <${prefix}-${i}@example.org>`,
      ...(reply ? [`In-Reply-To: <${prefix}-${i - 1}@example.org>`, `References: <${prefix}-${thread * 4}@example.org>`] : []),
      `Date: ${new Date(Date.UTC(2026, 9, 1) + i * 60_000).toUTCString()}`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      body,
    ].join('\r\n'),
  );
}

export async function fillMailbox(dovecot: TestDovecot, user: string, count: number, prefix = 'bench'): Promise<Buffer[]> {
  const first = new ImapFlow(dovecot.imapOptions(user));
  first.on('error', () => {});
  await first.connect();
  await first.mailboxOpen('INBOX');
  await first.logout();
  const root = dovecot.maildir(user);
  const owner = fs.statSync(root);
  const cur = path.join(root, 'cur');
  fs.mkdirSync(cur, { recursive: true });
  fs.chownSync(cur, owner.uid, owner.gid);
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const m = sampleMessage(i, prefix);
    out.push(m);
    const f = path.join(cur, `${1_700_000_000 + i}.M${i}P1.${prefix},S=${m.length}:2,S`);
    fs.writeFileSync(f, m);
    fs.chownSync(f, owner.uid, owner.gid);
  }
  return out;
}
