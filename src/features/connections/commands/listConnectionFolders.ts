import { AppError, invalidRequest, notFound } from '../../../platform/errors.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import type { ImapFlow } from 'imapflow';
import type { ConnectionsTable } from '../../../platform/database/schema.js';
import { ImapAuthError, listFolders, openImap, type ListedFolder } from '../../../mail/imap-sync.js';
import { readJson, json } from '../../../platform/database/json.js';
import { isAdmin } from '../../accounts/index.js';
import { loadConnection } from '../queries.js';
import { ensureFreshToken } from '../oauth/tokens.js';
import { checkFolderSelection, isSelectable, neverSyncedReason, type NeverSyncedReason } from '../domain/folders.js';

/** One folder of the mailbox as the folder picker shows it. */
export interface ConnectionFolderView {
  path: string;
  name: string;
  specialUse: string | null;
  /** Synced now. */
  selected: boolean;
  /** Spam, trash or drafts: never synced, cannot be chosen. */
  neverSynced: NeverSyncedReason | null;
  /** False for parents that hold only other folders (\Noselect). */
  selectable: boolean;
}

/**
 * Who may see and choose a connection's folders: the owner of a personal mailbox only (its folder names are
 * as private as its mail: an admin gets 404), an admin for team email.
 */
export async function loadFolderConnection(env: CommandEnv, actor: Actor, connectionId: string): Promise<ConnectionsTable> {
  const c = await loadConnection(env.db, actor.accountId, connectionId);
  if (c.type === 'personal' ? c.user_id !== actor.user.id : !isAdmin(actor.user)) throw c.type === 'personal' ? notFound('Connection') : new AppError('permission_denied', 403, 'Only admins choose the folders of team email.');
  if (c.disconnected_at !== null || c.transport !== 'imap') {
    throw new AppError('connection_not_syncable', 409, `${c.address} is ${c.disconnected_at ? 'disconnected' : 'connected by forwarding'}; it has no folders to sync.`);
  }
  return c;
}

/** The folders the mailbox's IMAP server lists now (a short session; OAuth tokens renewed first). */
export async function serverFoldersOf(env: CommandEnv, c: ConnectionsTable): Promise<ListedFolder[]> {
  const fresh = await ensureFreshToken(env, c.id, `folders:${c.id}`);
  if (fresh === 'needs_reauth') throw new AppError('oauth_reauth_required', 409, `Sign in to ${c.address} again (its provider no longer accepts Mailroom's access), then choose its folders.`);
  const current = fresh === 'refreshed' ? await loadConnection(env.db, c.account_id, c.id) : c;
  let client: ImapFlow;
  try {
    client = await openImap(env, current, 30_000);
  } catch (err) {
    if (err instanceof ImapAuthError) throw new AppError('imap_authentication_failed', 409, `${err.message} Update the password of ${c.address}, then choose its folders.`);
    if (err instanceof AppError) throw err;
    throw new AppError('mailbox_unreachable', 502, `The mail server of ${c.address} could not be reached (${(err as Error).message}). Try again in a moment.`);
  }
  try {
    return await listFolders(client);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/** The picker's view of the server's folders with the chosen list (INBOX first, then the server's order). */
export function folderViews(server: readonly ListedFolder[], selected: readonly string[]): ConnectionFolderView[] {
  const isInbox = (p: string) => /^inbox$/i.test(p);
  const views = server.map((f) => ({
    path: f.path,
    name: f.name,
    specialUse: f.specialUse,
    selected: selected.includes(f.path) || (isInbox(f.path) && selected.some(isInbox)),
    neverSynced: neverSyncedReason(f),
    selectable: isSelectable(f),
  }));
  return views.sort((a, b) => Number(isInbox(b.path)) - Number(isInbox(a.path)));
}

/**
 * Checks a chosen folder list against the server's folders now (see checkFolderSelection) and returns it
 * cleaned, or throws folder_not_found, folder_never_synced (with why) or invalid_request (INBOX left out).
 */
export function requireValidSelection(chosen: readonly string[], server: readonly ListedFolder[]): string[] {
  const check = checkFolderSelection(chosen, server);
  if (check.ok) return check.folders;
  if (check.code === 'inbox_required') throw invalidRequest(check.message, { field: 'folders' });
  if (check.code === 'folder_not_found') throw new AppError('folder_not_found', 422, check.message, { field: 'folders', folder: check.folder });
  throw new AppError('folder_never_synced', 422, check.message, { field: 'folders', folder: check.folder, reason: check.reason });
}

/** The mailbox's folders with which are synced, and which can never be (spam, trash, drafts). */
export async function listConnectionFolders(env: CommandEnv, actor: Actor, connectionId: string): Promise<{ folders: ConnectionFolderView[]; selected: string[] }> {
  const c = await loadFolderConnection(env, actor, connectionId);
  const server = await serverFoldersOf(env, c);
  const selected = readJson('connections.folders', c.folders, json.stringArray, []);
  return { folders: folderViews(server, selected), selected };
}
