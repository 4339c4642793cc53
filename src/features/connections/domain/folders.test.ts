import { describe, expect, it } from 'vitest';
import { checkFolderSelection, folderLeaf, isSelectable, neverSyncedReason, type ServerFolder } from './folders.js';

describe('neverSyncedReason', () => {
  it.each<[string, ServerFolder, ReturnType<typeof neverSyncedReason>]>([
    ['\\Junk flag', { path: 'Bulk', specialUse: '\\Junk' }, 'spam'],
    ['\\Trash flag', { path: 'Rubbish', specialUse: '\\Trash' }, 'trash'],
    ['\\Drafts flag', { path: 'WIP', specialUse: '\\Drafts' }, 'drafts'],
    ['flag among LIST flags', { path: 'X', flags: ['\\HasNoChildren', '\\Junk'] }, 'spam'],
    ['Gmail spam label', { path: '[Gmail]/Spam', delimiter: '/' }, 'spam'],
    ['Gmail bin', { path: '[Gmail]/Bin', delimiter: '/' }, 'trash'],
    ['dotted hierarchy', { path: 'INBOX.Trash', delimiter: '.' }, 'trash'],
    ['Outlook junk', { path: 'Junk E-mail' }, 'spam'],
    ['Outlook deleted', { path: 'Deleted Items' }, 'trash'],
    ['German drafts', { path: 'Entwürfe' }, 'drafts'],
    ['French trash', { path: 'Corbeille' }, 'trash'],
    ['case-insensitive', { path: 'SPAM' }, 'spam'],
    ['Sent is allowed', { path: 'Sent', specialUse: '\\Sent' }, null],
    ['a user folder', { path: 'Clients/Acme', delimiter: '/' }, null],
    ['a label that contains the word', { path: 'Spam reports from customers' }, null],
    ['Archive', { path: 'Archive', specialUse: '\\Archive' }, null],
  ])('%s', (_name, folder, expected) => {
    expect(neverSyncedReason(folder)).toBe(expected);
  });
});

describe('folderLeaf and isSelectable', () => {
  it('reads the last segment with or without a known delimiter', () => {
    expect(folderLeaf({ path: '[Gmail]/Sent Mail', delimiter: '/' })).toBe('Sent Mail');
    expect(folderLeaf({ path: 'INBOX.Drafts' })).toBe('Drafts');
    expect(folderLeaf({ path: 'INBOX' })).toBe('INBOX');
  });
  it('parents marked \\Noselect cannot be synced', () => {
    expect(isSelectable({ path: '[Gmail]', flags: ['\\Noselect', '\\HasChildren'] })).toBe(false);
    expect(isSelectable({ path: 'Clients', flags: ['\\HasChildren'] })).toBe(true);
  });
});

describe('checkFolderSelection', () => {
  const server: ServerFolder[] = [
    { path: 'INBOX' },
    { path: 'Sent', specialUse: '\\Sent' },
    { path: 'Clients' },
    { path: 'Junk', specialUse: '\\Junk' },
    { path: 'Trash', specialUse: '\\Trash' },
    { path: 'Drafts', specialUse: '\\Drafts' },
    { path: '[Gmail]', flags: ['\\Noselect'] },
  ];
  it.each<[string, string[], ReturnType<typeof checkFolderSelection>]>([
    ['the default', ['INBOX', 'Sent'], { ok: true, folders: ['INBOX', 'Sent'] }],
    ['INBOX put first, duplicates and blanks dropped, inbox spelling normalised', ['Clients', 'inbox', ' Clients ', ''], { ok: true, folders: ['INBOX', 'Clients'] }],
    ['an unknown folder', ['INBOX', 'Secret'], { ok: false, code: 'folder_not_found', folder: 'Secret', message: expect.stringContaining('"Secret"') as unknown as string }],
    ['names are compared as the server spells them', ['INBOX', 'sent'], { ok: false, code: 'folder_not_found', folder: 'sent', message: expect.any(String) as unknown as string }],
    ['a parent that cannot be opened', ['INBOX', '[Gmail]'], { ok: false, code: 'folder_not_found', folder: '[Gmail]', message: expect.any(String) as unknown as string }],
    ['spam', ['INBOX', 'Junk'], { ok: false, code: 'folder_never_synced', folder: 'Junk', reason: 'spam', message: expect.stringContaining('spam') as unknown as string }],
    ['trash', ['INBOX', 'Trash'], { ok: false, code: 'folder_never_synced', folder: 'Trash', reason: 'trash', message: expect.stringContaining('deleted mail') as unknown as string }],
    ['drafts', ['INBOX', 'Drafts'], { ok: false, code: 'folder_never_synced', folder: 'Drafts', reason: 'drafts', message: expect.stringContaining('drafts') as unknown as string }],
    ['without INBOX', ['Sent'], { ok: false, code: 'inbox_required', message: expect.stringContaining('INBOX') as unknown as string }],
  ])('%s', (_name, chosen, expected) => {
    expect(checkFolderSelection(chosen, server)).toEqual(expected);
  });
});
