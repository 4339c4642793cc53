/**
 * Proves the real-protocol harness works: a private Dovecot (IMAP + LMTP) and the SMTP submission server,
 * talked to with imapflow, nodemailer and swaks, the real clients.
 */
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type TestDovecot } from './dovecot.js';
import { startSubmissionServer, type TestSubmissionServer } from './submission.js';

const run = promisify(execFile);

let n = 0;
function uniqueUser(prefix = 'user'): string {
  n += 1;
  return `${prefix}${n}-${Math.random().toString(36).slice(2, 8)}@example.test`;
}

function rawMessage(to: string, subject: string, body = 'Hello from the harness test.'): string {
  return [
    'From: Sender <sender@example.com>',
    `To: ${to}`,
    `Subject: ${subject}`,
    `Message-ID: <${Math.random().toString(36).slice(2)}@example.com>`,
    'Date: Sat, 01 Nov 2025 10:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    body,
    '',
  ].join('\r\n');
}

/** Logs in, returns subjects and sources of all INBOX messages, logs out. */
async function readInbox(dovecot: TestDovecot, user: string, password?: string) {
  const client = new ImapFlow(dovecot.imapOptions(user, password));
  await client.connect();
  try {
    const lock = await client.getMailboxLock('INBOX');
    try {
      const out: { uid: number; subject: string; source: string }[] = [];
      if ((client.mailbox && client.mailbox.exists) === 0) return out;
      for await (const m of client.fetch('1:*', { uid: true, envelope: true, source: true })) {
        out.push({ uid: m.uid, subject: m.envelope?.subject ?? '', source: m.source?.toString('utf8') ?? '' });
      }
      return out;
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => undefined);
  }
}

/** Tries an IMAP login; resolves with the error (or null on success). */
async function tryLogin(dovecot: TestDovecot, user: string, password: string): Promise<(Error & { authenticationFailed?: boolean }) | null> {
  const client = new ImapFlow({ ...dovecot.imapOptions(user, password) });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.logout();
    return null;
  } catch (e) {
    client.close();
    return e as Error & { authenticationFailed?: boolean };
  }
}

function portIsOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

describe('test Dovecot', () => {
  let dovecot: TestDovecot;
  beforeAll(async () => {
    dovecot = await startDovecot();
  });
  afterAll(async () => {
    await dovecot?.stop();
  });

  it('listens on loopback IMAP with IDLE, CONDSTORE and QRESYNC, and special-use folders for every user', async () => {
    expect(dovecot.host).toBe('127.0.0.1');
    expect(dovecot.imapPort).toBeGreaterThan(0);
    expect(dovecot.lmtpPort).toBeGreaterThan(0);
    expect(dovecot.imapPort).not.toBe(dovecot.lmtpPort);
    const user = uniqueUser();
    await dovecot.addUser(user, 'secret');
    const client = new ImapFlow(dovecot.imapOptions(user));
    await client.connect();
    for (const cap of ['IDLE', 'CONDSTORE', 'QRESYNC', 'UIDPLUS', 'MOVE', 'SPECIAL-USE']) expect(client.capabilities.has(cap), cap).toBe(true);
    const folders = await client.list();
    const specialUse = Object.fromEntries(folders.map((f) => [f.specialUse ?? f.path, f.path]));
    expect(specialUse).toMatchObject({ '\\Inbox': 'INBOX', '\\Sent': 'Sent', '\\Drafts': 'Drafts', '\\Trash': 'Trash', '\\Junk': 'Junk', '\\Archive': 'Archive' });
    await client.logout();
  });

  it('delivers over LMTP and reads the same message back over IMAP', async () => {
    const user = uniqueUser('alice');
    await dovecot.addUser(user, 'alice-password');
    const raw = rawMessage(user, 'Delivered by LMTP', 'Body line one.\r\nBody line two.');
    await dovecot.deliver(user, raw);
    const inbox = await readInbox(dovecot, user);
    expect(inbox).toHaveLength(1);
    expect(inbox[0]!.subject).toBe('Delivered by LMTP');
    expect(inbox[0]!.source).toContain('Body line one.\r\nBody line two.');
    expect(inbox[0]!.source).toContain(raw.split('\r\n\r\n')[0]!.split('\r\n')[2]!); // the Subject header as sent
    // Mail is stored as an unprivileged user, never root.
    expect(statSync(dovecot.maildir(user)).uid).not.toBe(0);
  });

  it('refuses a wrong password and an unknown user; logins are case-insensitive', async () => {
    const user = uniqueUser('bob');
    await dovecot.addUser(user, 'right');
    const wrong = await tryLogin(dovecot, user, 'wrong');
    expect(wrong?.authenticationFailed).toBe(true);
    const unknown = await tryLogin(dovecot, uniqueUser('nobody'), 'whatever');
    expect(unknown?.authenticationFailed).toBe(true);
    expect(await tryLogin(dovecot, user.toUpperCase(), 'right')).toBeNull();
  });

  it('accepts any password characters, a new user right after a failed lookup, and password changes', async () => {
    const user = uniqueUser('carol');
    // A failed lookup for this name first, in the same second as the addUser that follows.
    expect((await tryLogin(dovecot, user, 'p:ss wörd'))?.authenticationFailed).toBe(true);
    await dovecot.addUser(user, 'p:ss wörd');
    expect(await tryLogin(dovecot, user, 'p:ss wörd')).toBeNull();
    await dovecot.setPassword(user, 'p:ss wörx'); // same length: only the mtime tells Dovecot
    expect((await tryLogin(dovecot, user, 'p:ss wörd'))?.authenticationFailed).toBe(true);
    expect(await tryLogin(dovecot, user, 'p:ss wörx')).toBeNull();
    expect(dovecot.checkPassword(user, 'p:ss wörx')).toBe(true);
    await dovecot.removeUser(user);
    expect((await tryLogin(dovecot, user, 'p:ss wörx'))?.authenticationFailed).toBe(true);
  });

  it('refuses LMTP delivery to an unknown user', async () => {
    await expect(dovecot.deliver(uniqueUser('ghost'), rawMessage('ghost@example.test', 'x'))).rejects.toThrow();
  });

  it('pushes new mail to an IDLE client', async () => {
    const user = uniqueUser('idle');
    await dovecot.addUser(user, 'pw');
    const client = new ImapFlow(dovecot.imapOptions(user));
    await client.connect();
    const lock = await client.getMailboxLock('INBOX');
    const seen = new Promise<number>((resolve) => client.on('exists', (d: { count: number }) => resolve(d.count)));
    const idling = client.idle(); // resolves only when IDLE is broken (here: by LOGOUT)
    try {
      await new Promise((r) => setTimeout(r, 100));
      const t0 = Date.now();
      await dovecot.deliver(user, rawMessage(user, 'While idling'));
      expect(await seen).toBe(1);
      expect(Date.now() - t0).toBeLessThan(5_000); // pushed at once, not at a 30 s poll
    } finally {
      lock.release();
      await client.logout();
      await idling.catch(() => undefined);
    }
  });

  it('restarts on the same ports with the same users and mail', async () => {
    const user = uniqueUser('dave');
    await dovecot.addUser(user, 'pw');
    await dovecot.deliver(user, rawMessage(user, 'Before restart'));
    const ports = [dovecot.imapPort, dovecot.lmtpPort];
    await dovecot.restart();
    expect([dovecot.imapPort, dovecot.lmtpPort]).toEqual(ports);
    await dovecot.deliver(user, rawMessage(user, 'After restart'));
    expect((await readInbox(dovecot, user)).map((m) => m.subject)).toEqual(['Before restart', 'After restart']);
  });

  it('runs independent instances side by side and cleans up on stop', async () => {
    const other = await startDovecot();
    try {
      expect(other.dir).not.toBe(dovecot.dir);
      expect([other.imapPort, other.lmtpPort]).not.toContain(dovecot.imapPort);
      const user = uniqueUser('erin');
      await other.addUser(user, 'pw');
      expect(dovecot.hasUser(user)).toBe(false);
      expect((await tryLogin(dovecot, user, 'pw'))?.authenticationFailed).toBe(true);
      expect(await tryLogin(other, user, 'pw')).toBeNull();
    } finally {
      await other.stop();
    }
    expect(existsSync(other.dir)).toBe(false);
    expect(await portIsOpen(other.imapPort)).toBe(false);
    await other.stop(); // twice is fine
  });
});

describe('test SMTP submission server', () => {
  let dovecot: TestDovecot;
  let smtp: TestSubmissionServer;
  const sender = uniqueUser('sender');
  const recipient = uniqueUser('rcpt');
  beforeAll(async () => {
    dovecot = await startDovecot({ users: { [sender]: 'sender-pw', [recipient]: 'rcpt-pw' } });
    smtp = await startSubmissionServer({ dovecot });
  });
  afterAll(async () => {
    await smtp?.stop();
    await dovecot?.stop();
  });

  it('authenticates against the Dovecot users and delivers to local recipients over LMTP', async () => {
    const transport = nodemailer.createTransport(smtp.smtpOptions(sender));
    const info = await transport.sendMail({
      from: sender,
      to: [recipient, 'customer@elsewhere.example'],
      subject: 'Submitted via nodemailer',
      text: 'Hi there',
    });
    transport.close();
    expect(info.accepted).toEqual([recipient, 'customer@elsewhere.example']);
    const m = await smtp.waitForMessage((x) => x.envelope.rcptTo.includes(recipient));
    expect(m.authUser).toBe(sender);
    expect(m.envelope.mailFrom).toBe(sender);
    expect(m.deliveredTo).toEqual([recipient]);
    expect(m.raw.toString()).toContain('Subject: Submitted via nodemailer');
    const inbox = await readInbox(dovecot, recipient);
    expect(inbox.map((x) => x.subject)).toContain('Submitted via nodemailer');
  });

  it('answers a wrong password with 535 and refuses mail without AUTH', async () => {
    const bad = nodemailer.createTransport(smtp.smtpOptions(sender, 'wrong-password'));
    const err = (await bad.verify().catch((e: unknown) => e)) as { responseCode?: number };
    bad.close();
    expect(err.responseCode).toBe(535);

    const anonymous = nodemailer.createTransport({ host: smtp.host, port: smtp.port, secure: false, ignoreTLS: true, logger: false });
    const refused = (await anonymous.sendMail({ from: sender, to: recipient, subject: 'x', text: 'x' }).catch((e: unknown) => e)) as { responseCode?: number };
    anonymous.close();
    expect(refused.responseCode).toBe(530);
  });

  it('follows a password change made on the Dovecot side', async () => {
    const user = uniqueUser('changer');
    await dovecot.addUser(user, 'old-pw');
    await dovecot.setPassword(user, 'new-pw');
    const old = nodemailer.createTransport(smtp.smtpOptions(user, 'old-pw'));
    expect(((await old.verify().catch((e: unknown) => e)) as { responseCode?: number }).responseCode).toBe(535);
    old.close();
    const fresh = nodemailer.createTransport(smtp.smtpOptions(user));
    expect(await fresh.verify()).toBe(true);
    fresh.close();
  });

  it('answers an injected failure once, then accepts again', async () => {
    smtp.failNext({ code: 451, message: 'Try again later' });
    const t = nodemailer.createTransport(smtp.smtpOptions(sender));
    const before = smtp.messages.length;
    const err = (await t.sendMail({ from: sender, to: recipient, subject: 'fails', text: 'x' }).catch((e: unknown) => e)) as { responseCode?: number };
    expect(err.responseCode).toBe(451);
    expect(smtp.messages.length).toBe(before);
    await t.sendMail({ from: sender, to: recipient, subject: 'works', text: 'x' });
    t.close();
    expect(smtp.messages.at(-1)?.envelope.rcptTo).toEqual([recipient]);
  });

  it('works with swaks, a real command-line SMTP client', async () => {
    const args = ['--server', smtp.host, '--port', String(smtp.port), '--auth', 'LOGIN', '--auth-user', sender, '--from', sender, '--to', recipient, '--header', 'Subject: Sent by swaks', '--body', 'swaks body', '--timeout', '20'];
    const ok = await run('swaks', [...args, '--auth-password', 'sender-pw']);
    expect(ok.stdout).toMatch(/<-\s+250 .*Ok: queued/);
    const m = await smtp.waitForMessage((x) => x.raw.toString().includes('Subject: Sent by swaks'));
    expect(m.authUser).toBe(sender);
    expect((await readInbox(dovecot, recipient)).map((x) => x.subject)).toContain('Sent by swaks');

    const bad = await run('swaks', [...args, '--auth-password', 'wrong']).then(
      () => null,
      (e: { code?: number; stdout?: string }) => e,
    );
    expect(bad?.code).not.toBe(0);
    expect(bad?.stdout).toMatch(/<\*\*\s+535 /);
  });
});
