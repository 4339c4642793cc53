/**
 * A browser test's mail world: the built web app served by a real Mailroom, a private Dovecot with the
 * real submission server in front of it (mail sent to Dovecot users is delivered there), loopback mail
 * servers allowed, and a way to read a Dovecot user's INBOX.
 */
import fs from 'node:fs';
import { ImapFlow } from 'imapflow';
import type { Browser } from 'playwright-core';
import { buildWebApp, hasChromium, insertWebConnection, launchChromium, startWebServer, type WebTestServer } from './support.js';
import { startDovecot, type TestDovecot } from '../harness/dovecot.js';
import { startSubmissionServer, type TestSubmissionServer } from '../harness/submission.js';
import { createIngestor } from '../../src/app/engine.js';
import type { Ingestor } from '../../src/features/ingest/ingest.js';
import { closeDefaultParsePool } from '../../src/mail/parse/index.js';
import { setPrivateHostsForTest } from '../support/local-hosts.js';

export interface MailWorld {
  server: WebTestServer;
  browser: Browser;
  dovecot: TestDovecot;
  smtp: TestSubmissionServer;
  ingestor: Ingestor;
  /**
   * Connects a Dovecot user's mailbox as the admin's (IMAP on the private Dovecot, SMTP through the
   * submission server): team email feeding `inboxId`, or personal email syncing INBOX and Sent.
   */
  connectMailbox(address: string, password: string, kind: { type: 'team'; inboxId: string } | { type: 'personal' }): ReturnType<typeof insertWebConnection>;
  /** Every message in a Dovecot user's INBOX, raw. */
  inboxOf(user: string, password: string): Promise<Buffer[]>;
  stop(): Promise<void>;
}

export async function startMailWorld(users: Record<string, string>): Promise<MailWorld> {
  const restoreAllow = setPrivateHostsForTest(['127.0.0.1']);
  const dovecot = await startDovecot();
  const smtp = await startSubmissionServer({ dovecot });
  for (const [user, password] of Object.entries(users)) await dovecot.addUser(user, password);
  const dist = await buildWebApp();
  const server = await startWebServer(dist);
  const ingestor = createIngestor(server.app.deps.env);
  const browser = hasChromium ? await launchChromium() : (null as unknown as Browser);
  return {
    server,
    browser,
    dovecot,
    smtp,
    ingestor,
    connectMailbox(address, password, kind) {
      const imap = { host: '127.0.0.1', port: dovecot.imapPort, username: address, password };
      const smtpServer = { host: '127.0.0.1', port: smtp.port, username: address, password };
      return insertWebConnection(server, {
        address,
        imap,
        smtp: smtpServer,
        ...(kind.type === 'team' ? { type: 'team', inboxId: kind.inboxId } : { type: 'personal', folders: ['INBOX', 'Sent'], sentFolder: 'Sent' }),
      });
    },
    async inboxOf(user, password) {
      const client = new ImapFlow({ host: '127.0.0.1', port: dovecot.imapPort, secure: false, auth: { user, pass: password }, logger: false });
      await client.connect();
      try {
        const box = await client.mailboxOpen('INBOX');
        if (box.exists === 0) return [];
        const out: Buffer[] = [];
        for await (const m of client.fetch('1:*', { source: true })) if (m.source) out.push(m.source);
        return out;
      } finally {
        await client.logout().catch(() => undefined);
      }
    },
    async stop() {
      await browser?.close();
      await server.close();
      await smtp.stop();
      await dovecot.stop();
      await closeDefaultParsePool();
      fs.rmSync(dist, { recursive: true, force: true });
      restoreAllow();
    },
  };
}
