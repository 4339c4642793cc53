/**
 * Settings → Email, the folder picker of a personal mailbox (issue 21), in Chromium against a real
 * Mailroom and a real Dovecot: the owner opens "Folders synced", sees the server's folders (INBOX always
 * on, spam, trash and drafts never choosable), ticks a project folder and unticks Sent, saves; the API
 * then holds exactly that choice, and a sync pass stores mail from the chosen folder only.
 */
import { ImapFlow } from 'imapflow';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hasChromium, screenshot, signIn } from './support.js';
import { startMailWorld, type MailWorld } from './mail-world.js';
import { insertConnection } from '../support/connections.js';
import type { TestApp } from '../support/app.js';
import { openImap, syncConnectionOnce } from '../../src/mail/imap-sync.js';

const ME = `ada-${process.pid}@work.test`;
let w: MailWorld;
let connectionId: string;

async function imap(fn: (c: ImapFlow) => Promise<void>) {
  const client = new ImapFlow(w.dovecot.imapOptions(ME));
  client.on('error', () => {});
  await client.connect();
  try {
    await fn(client);
  } finally {
    await client.logout().catch(() => client.close());
  }
}
const mail = (subject: string) =>
  Buffer.from([`From: Friend <friend@private.test>`, `To: ${ME}`, `Subject: ${subject}`, `Message-ID: <${subject.replace(/\W/g, '')}-${process.pid}@private.test>`, `Date: ${new Date().toUTCString()}`, 'Content-Type: text/plain', '', 'Hello', ''].join('\r\n'));

beforeAll(async () => {
  w = await startMailWorld({ [ME]: 'pw-ada' });
  const conn = await insertConnection({ env: w.server.env, database: w.server.database } as unknown as TestApp, {
    accountId: w.server.admin.accountId,
    userId: w.server.admin.userId,
    type: 'personal',
    address: ME,
    imap: { host: '127.0.0.1', port: w.dovecot.imapPort, username: ME, password: 'pw-ada' },
    smtp: { host: '127.0.0.1', port: w.smtp.port, username: ME, password: 'pw-ada' },
    folders: ['INBOX', 'Sent'],
    sentFolder: 'Sent',
  });
  connectionId = conn.id;
  await imap(async (c) => {
    await c.mailboxCreate('Projects');
    await c.mailboxCreate('Family');
  });
}, 120_000);
afterAll(async () => {
  await w?.stop();
});

describe.skipIf(!hasChromium)('Settings → Email: folders synced', () => {
  test('the owner chooses the folders; the sync follows the choice', async () => {
    const context = await w.browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await signIn(page, w.server.origin, w.server.admin.email, w.server.admin.password);
      await page.goto(`${w.server.origin}/settings/email`);
      const card = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: ME }) });
      await card.getByText('Folders synced').click();
      const picker = card.getByRole('group', { name: `Folders of ${ME} that Mailroom syncs` });
      await picker.waitFor();
      const box = (name: string) => picker.getByRole('checkbox', { name: new RegExp(`^${name}\\b`) });
      await box('Projects').waitFor();
      // As the server lists them, with the defaults: INBOX (always) and Sent on; spam, trash, drafts locked off.
      expect(await box('INBOX').isChecked()).toBe(true);
      expect(await box('INBOX').isDisabled()).toBe(true);
      expect(await box('Sent').isChecked()).toBe(true);
      for (const locked of ['Junk', 'Trash', 'Drafts']) {
        expect(await box(locked).isChecked(), locked).toBe(false);
        expect(await box(locked).isDisabled(), locked).toBe(true);
      }
      await expect.poll(() => picker.getByText('(spam, never synced)').count()).toBe(1);
      expect(await box('Projects').isChecked()).toBe(false);
      expect(await box('Family').isChecked()).toBe(false);
      const save = picker.getByRole('button', { name: 'Save folders' });
      expect(await save.isDisabled()).toBe(true);

      await box('Projects').check();
      await box('Sent').uncheck();
      await save.click();
      await card.getByText(/^Saved\./).waitFor();
      await screenshot(page, 'settings-email-folders', { fullPage: false });
      const api = (await w.server.api('GET', `/api/v1/connections/${connectionId}`)).body;
      expect(api.folders).toEqual(['INBOX', 'Projects']);

      // After a reload the picker shows the saved choice.
      await page.reload();
      await card.getByText('Folders synced').click();
      await box('Projects').waitFor();
      expect(await box('Projects').isChecked()).toBe(true);
      expect(await box('Sent').isChecked()).toBe(false);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }

    // The sync reads exactly the chosen folders.
    await imap(async (c) => {
      await c.append('Projects', mail('Project update'));
      await c.append('Family', mail('Family dinner'));
      await c.append('Sent', mail('Sent elsewhere'));
    });
    const row = await w.server.database.db.selectFrom('connections').selectAll().where('id', '=', connectionId).executeTakeFirstOrThrow();
    const client = await openImap(w.server.env, row);
    try {
      await syncConnectionOnce(w.server.env, w.ingestor, connectionId, client, pino({ level: 'silent' }));
    } finally {
      await client.logout().catch(() => client.close());
    }
    const subjects = (await w.server.database.db.selectFrom('messages').select('subject').where('connection_id', '=', connectionId).execute()).map((m) => m.subject);
    expect(subjects).toEqual(['Project update']);
  });
});
