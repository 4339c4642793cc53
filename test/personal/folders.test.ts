/**
 * Folders and privacy of a personal mailbox (issue 21), against a real Dovecot (SPECIAL-USE Drafts, Sent,
 * Trash, Junk, Archive) on SQLite or PostgreSQL: the owner lists the folders the server has, chooses
 * which are synced (INBOX and Sent by default), spam, trash and drafts are refused with why (by flag and
 * by name), an unknown folder is refused; the sync stores mail from exactly the chosen folders, a folder
 * left out stops being synced while what it logged stays, and the never-log lists keep applying.
 */
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendTo, contact, rawMail, startWorld, syncSeller, timeline, uniq, type World } from './support.js';
import { addUser } from '../crm/helpers.js';
import pino from 'pino';
import { MailboxSupervisor } from '../../src/features/connections/mailbox-supervisor.js';

let w: World;
let other: { userId: string; token: string };
const path = () => `/api/v1/connections/${w.seller.connectionId}/folders`;

beforeAll(async () => {
  w = await startWorld();
  other = await addUser(w.t, w.adminToken, { role: 'member' });
  // The owner's own folders, made over IMAP as their mail client would: a project folder, a private one,
  // and spam and trash folders the server does not flag (found by their names).
  const client = new ImapFlow(w.dovecot.imapOptions(w.seller.address));
  client.on('error', () => {});
  await client.connect();
  try {
    for (const f of ['Clients', 'Private', 'Spam', 'Deleted Items']) await client.mailboxCreate(f);
  } finally {
    await client.logout().catch(() => client.close());
  }
}, 60_000);
afterAll(async () => {
  await w?.stop();
});

/** The folders holding the seller's stored copy of each subject. */
async function storedFolders(): Promise<Record<string, string[]>> {
  const rows = await w.t.database.db
    .selectFrom('message_locations')
    .innerJoin('messages', 'messages.id', 'message_locations.message_id')
    .select(['messages.subject', 'message_locations.folder'])
    .where('message_locations.connection_id', '=', w.seller.connectionId)
    .execute();
  const out: Record<string, string[]> = {};
  for (const r of rows) (out[r.subject ?? ''] ??= []).push(r.folder);
  return out;
}

describe('folders of a personal mailbox', () => {
  it("lists the server's folders with their special use, INBOX and Sent chosen by default, spam/trash/drafts never", async () => {
    const r = await w.t.api(w.seller.token, 'GET', path());
    expect(r.statusCode, r.body).toBe(200);
    const { folders, selected } = r.json() as { folders: Array<{ path: string; specialUse: string | null; selected: boolean; neverSynced: string | null; selectable: boolean }>; selected: string[] };
    expect(selected).toEqual(['INBOX', 'Sent']);
    const by = Object.fromEntries(folders.map((f) => [f.path, f]));
    expect(folders[0]!.path).toBe('INBOX');
    expect(by.INBOX).toMatchObject({ selected: true, neverSynced: null });
    expect(by.Sent).toMatchObject({ specialUse: '\\Sent', selected: true, neverSynced: null });
    expect(by.Archive).toMatchObject({ specialUse: '\\Archive', selected: false, neverSynced: null });
    expect(by.Clients).toMatchObject({ specialUse: null, selected: false, neverSynced: null, selectable: true });
    expect(by.Junk).toMatchObject({ specialUse: '\\Junk', neverSynced: 'spam' });
    expect(by.Trash).toMatchObject({ specialUse: '\\Trash', neverSynced: 'trash' });
    expect(by.Drafts).toMatchObject({ specialUse: '\\Drafts', neverSynced: 'drafts' });
    expect(by.Spam).toMatchObject({ specialUse: null, neverSynced: 'spam' });
    expect(by['Deleted Items']).toMatchObject({ specialUse: null, neverSynced: 'trash' });
  });

  it('is private to the owner: another member and an admin get 404, listing and choosing', async () => {
    for (const token of [other.token, w.adminToken]) {
      const list = await w.t.api(token, 'GET', path());
      expect([list.statusCode, list.json().error.code]).toEqual([404, 'not_found']);
      const put = await w.t.api(token, 'PUT', path(), { folders: ['INBOX', 'Private'] });
      expect([put.statusCode, put.json().error.code]).toEqual([404, 'not_found']);
      const patch = await w.t.api(token, 'PATCH', `/api/v1/connections/${w.seller.connectionId}`, { folders: ['INBOX', 'Private'] });
      expect([patch.statusCode, patch.json().error.code]).toEqual([404, 'not_found']);
      expect(list.body + put.body + patch.body).not.toContain('Private');
    }
  });

  it.each([
    [['INBOX', 'Nope'], 422, 'folder_not_found', { folder: 'Nope' }],
    [['INBOX', 'clients'], 422, 'folder_not_found', { folder: 'clients' }],
    [['INBOX', 'Junk'], 422, 'folder_never_synced', { folder: 'Junk', reason: 'spam' }],
    [['INBOX', 'Spam'], 422, 'folder_never_synced', { folder: 'Spam', reason: 'spam' }],
    [['INBOX', 'Trash'], 422, 'folder_never_synced', { folder: 'Trash', reason: 'trash' }],
    [['INBOX', 'Deleted Items'], 422, 'folder_never_synced', { folder: 'Deleted Items', reason: 'trash' }],
    [['INBOX', 'Drafts'], 422, 'folder_never_synced', { folder: 'Drafts', reason: 'drafts' }],
    [['Sent', 'Clients'], 400, 'invalid_request', { field: 'folders' }],
  ] as const)('refuses %j with %i %s, saying why, and changes nothing', async (folders, status, code, details) => {
    for (const [method, url] of [['PUT', path()], ['PATCH', `/api/v1/connections/${w.seller.connectionId}`]] as const) {
      const r = await w.t.api(w.seller.token, method, url, { folders });
      expect([r.statusCode, r.json().error.code], `${method} ${r.body}`).toEqual([status, code]);
      expect(r.json().error.details).toMatchObject(details);
      expect(r.json().error.message.length).toBeGreaterThan(20);
    }
    if (code === 'folder_never_synced') expect((await w.t.api(w.seller.token, 'PUT', path(), { folders })).json().error.message).toMatch(/never syncs/);
    expect((await w.t.api(w.seller.token, 'GET', path())).json().selected).toEqual(['INBOX', 'Sent']);
  });

  it('syncs exactly the chosen folders; a folder left out stops, and what it logged stays', async () => {
    const friend = `friend-${uniq()}@private.test`;
    const put = await w.t.api(w.seller.token, 'PUT', path(), { folders: ['INBOX', 'Sent', 'Clients'] });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json().selected).toEqual(['INBOX', 'Sent', 'Clients']);
    expect(put.json().folders.find((f: { path: string }) => f.path === 'Clients').selected).toBe(true);
    expect((await w.t.api(w.seller.token, 'GET', `/api/v1/connections/${w.seller.connectionId}`)).json().folders).toEqual(['INBOX', 'Sent', 'Clients']);

    await w.dovecot.deliver(w.seller.address, rawMail({ from: friend, to: w.seller.address, subject: 'In the inbox' }));
    for (const folder of ['Clients', 'Private', 'Archive', 'Junk', 'Trash', 'Drafts', 'Spam', 'Deleted Items']) {
      await appendTo(w, w.seller.address, folder, rawMail({ from: friend, to: w.seller.address, subject: `In ${folder}` }));
    }
    await syncSeller(w);
    let stored = await storedFolders();
    expect(stored['In the inbox']).toEqual(['INBOX']);
    expect(stored['In Clients']).toEqual(['Clients']);
    for (const folder of ['Private', 'Archive', 'Junk', 'Trash', 'Drafts', 'Spam', 'Deleted Items']) expect(stored[`In ${folder}`], folder).toBeUndefined();
    const folderStates = await w.t.database.db.selectFrom('folder_states').select('folder').where('connection_id', '=', w.seller.connectionId).execute();
    expect(folderStates.map((f) => f.folder).sort()).toEqual(['Clients', 'INBOX', 'Sent']);

    // Clients left out: new mail there is no longer synced; what was stored from it stays.
    expect((await w.t.api(w.seller.token, 'PUT', path(), { folders: ['INBOX', 'Sent'] })).statusCode).toBe(200);
    await appendTo(w, w.seller.address, 'Clients', rawMail({ from: friend, to: w.seller.address, subject: 'Later in Clients' }));
    await w.dovecot.deliver(w.seller.address, rawMail({ from: friend, to: w.seller.address, subject: 'Later in the inbox' }));
    await syncSeller(w);
    stored = await storedFolders();
    expect(stored['Later in the inbox']).toEqual(['INBOX']);
    expect(stored['Later in Clients']).toBeUndefined();
    expect(stored['In Clients']).toEqual(['Clients']);
    const kept = await w.t.database.db.selectFrom('messages').select('id').where('connection_id', '=', w.seller.connectionId).where('subject', '=', 'In Clients').execute();
    expect(kept).toHaveLength(1);
  });

  it('the never-log lists keep applying to mail from a chosen folder', async () => {
    expect((await w.t.api(w.adminToken, 'PATCH', '/api/v1/account/email-settings', { logRule: 'all_known_contacts' })).statusCode).toBe(200);
    const listed = `lawyer-${uniq()}@lawyers.example`;
    const known = `client-${uniq()}@client.test`;
    const lawyer = await contact(w, { firstName: 'Lee', emails: [listed] });
    const client = await contact(w, { firstName: 'Cleo', emails: [known] });
    expect((await w.t.api(w.seller.token, 'PATCH', '/api/v1/email-preferences', { neverLog: ['lawyers.example'] })).statusCode).toBe(200);
    expect((await w.t.api(w.seller.token, 'PUT', path(), { folders: ['INBOX', 'Sent', 'Clients'] })).statusCode).toBe(200);
    await appendTo(w, w.seller.address, 'Clients', rawMail({ from: listed, to: w.seller.address, subject: 'Privileged advice' }));
    await appendTo(w, w.seller.address, 'Clients', rawMail({ from: known, to: w.seller.address, subject: 'Order question' }));
    await syncSeller(w);
    const stored = await storedFolders();
    expect(stored['Order question']).toEqual(['Clients']);
    expect((await timeline(w, client.id)).some((e) => e.kind.startsWith('email') && JSON.stringify(e.data).includes('Order question'))).toBe(true);
    expect((await timeline(w, lawyer.id)).some((e) => JSON.stringify(e.data).includes('Privileged advice'))).toBe(false);
  });

  it('a running worker follows the choice: a folder left out stops being synced at once', async () => {
    const friend = `live-${uniq()}@private.test`;
    const stored = async (subject: string) => Boolean((await storedFolders())[subject]);
    const until = async (subject: string) => expect.poll(() => stored(subject), { timeout: 20_000, interval: 100 }).toBe(true);
    // Clients before Sent, so a pass that reaches Sent would have read Clients first.
    expect((await w.t.api(w.seller.token, 'PUT', path(), { folders: ['INBOX', 'Clients', 'Sent'] })).statusCode).toBe(200);
    const supervisor = new MailboxSupervisor(w.ingestor, { log: pino({ level: 'silent' }), workerId: `folders:${process.pid}`, settings: { leaseMs: 3000, tickMs: 300, maxMailboxes: 10 } });
    await supervisor.start();
    try {
      await appendTo(w, w.seller.address, 'Clients', rawMail({ from: friend, to: w.seller.address, subject: 'Live in Clients' }));
      await w.dovecot.deliver(w.seller.address, rawMail({ from: friend, to: w.seller.address, subject: 'Wake 1' })); // IDLE: a pass over every folder
      await until('Live in Clients');

      expect((await w.t.api(w.seller.token, 'PUT', path(), { folders: ['INBOX', 'Sent'] })).statusCode).toBe(200);
      // A pass that stored this marker in Sent ran; the next one surely started after the choice was saved.
      await appendTo(w, w.seller.address, 'Sent', rawMail({ from: w.seller.address, to: friend, subject: 'Marker 1' }));
      await w.dovecot.deliver(w.seller.address, rawMail({ from: friend, to: w.seller.address, subject: 'Wake 2' }));
      await until('Marker 1');
      await appendTo(w, w.seller.address, 'Clients', rawMail({ from: friend, to: w.seller.address, subject: 'Left out in Clients' }));
      await appendTo(w, w.seller.address, 'Sent', rawMail({ from: w.seller.address, to: friend, subject: 'Marker 2' }));
      await w.dovecot.deliver(w.seller.address, rawMail({ from: friend, to: w.seller.address, subject: 'Wake 3' }));
      await until('Marker 2');
      // That pass read its folders after the new choice; with Clients still chosen it would have stored this first.
      expect(await stored('Left out in Clients')).toBe(false);
      expect(await stored('Live in Clients')).toBe(true);
    } finally {
      await supervisor.stop();
    }
  });
});
