/**
 * Which folders (or Gmail labels) of a mailbox may be synced. Pure.
 *
 * A personal mailbox holds mail its owner never meant for the team: spam, deleted mail and unfinished
 * drafts are never synced, whatever is asked. They are recognised by the server's SPECIAL-USE flags
 * (RFC 6154: \Junk, \Trash, \Drafts) and, for servers that set none, by their common names in the
 * languages Mailroom's users write in, compared on the folder's last segment (`INBOX.Trash`,
 * `[Gmail]/Spam`). INBOX is always synced (new mail is noticed there); every other folder is the
 * user's choice, INBOX and Sent by default.
 */

/** One folder as the IMAP server lists it. */
export interface ServerFolder {
  path: string;
  /** The hierarchy delimiter (`/` or `.`), when the server gave one. */
  delimiter?: string | null;
  /** SPECIAL-USE flag (`\Sent`, `\Junk`, ...), when the server gave one. */
  specialUse?: string | null;
  /** LIST flags (`\Noselect`, `\HasChildren`, ...). */
  flags?: Iterable<string>;
}

export type NeverSyncedReason = 'spam' | 'trash' | 'drafts';

const BY_FLAG: Record<string, NeverSyncedReason> = { '\\junk': 'spam', '\\trash': 'trash', '\\drafts': 'drafts' };

/** Common names (lower-case) of folders servers do not flag. */
const BY_NAME: Record<NeverSyncedReason, readonly string[]> = {
  spam: ['spam', 'junk', 'junk e-mail', 'junk email', 'junk mail', 'bulk mail', 'spamverdacht', 'courrier indésirable', 'indésirables', 'correo no deseado', 'posta indesiderata'],
  trash: ['trash', 'deleted items', 'deleted messages', 'deleted', 'bin', 'papierkorb', 'gelöschte elemente', 'corbeille', 'éléments supprimés', 'papelera', 'elementos eliminados', 'cestino', 'posta eliminata'],
  drafts: ['drafts', 'draft', 'entwürfe', 'brouillons', 'borradores', 'bozze'],
};

/** The last segment of a folder path (`[Gmail]/Spam` -> `Spam`, `INBOX.Trash` -> `Trash`). */
export function folderLeaf(f: Pick<ServerFolder, 'path' | 'delimiter'>): string {
  const delimiters = f.delimiter ? [f.delimiter] : ['/', '.'];
  let leaf = f.path;
  for (const d of delimiters) leaf = leaf.slice(leaf.lastIndexOf(d) + 1) || leaf;
  return leaf;
}

/** Why a folder is never synced (spam, trash or drafts), or null when the user may choose it. */
export function neverSyncedReason(f: ServerFolder): NeverSyncedReason | null {
  const flags = [f.specialUse ?? '', ...(f.flags ?? [])].map((x) => x.toLowerCase());
  for (const flag of flags) if (BY_FLAG[flag]) return BY_FLAG[flag]!;
  const leaf = folderLeaf(f).trim().toLowerCase();
  for (const [reason, names] of Object.entries(BY_NAME) as Array<[NeverSyncedReason, readonly string[]]>) if (names.includes(leaf)) return reason;
  return null;
}

/** Whether the folder can be opened at all (`\Noselect` / `\NonExistent` folders are only parents). */
export function isSelectable(f: ServerFolder): boolean {
  for (const flag of f.flags ?? []) if (/^\\(noselect|nonexistent)$/i.test(flag)) return false;
  return true;
}

export const REASON_WORDS: Record<NeverSyncedReason, string> = { spam: 'spam', trash: 'deleted mail', drafts: 'unfinished drafts' };

export type FolderSelectionCheck =
  | { ok: true; folders: string[] }
  | { ok: false; code: 'folder_not_found'; folder: string; message: string }
  | { ok: false; code: 'folder_never_synced'; folder: string; reason: NeverSyncedReason; message: string }
  | { ok: false; code: 'inbox_required'; message: string };

/**
 * Checks a chosen list of folders against what the server has: each must exist and be selectable, none may
 * be spam, trash or drafts, and INBOX is always in it. Returns the list deduplicated, in the order given
 * (INBOX first), with the server's spelling of each path.
 */
export function checkFolderSelection(chosen: readonly string[], server: readonly ServerFolder[]): FolderSelectionCheck {
  const out: string[] = [];
  for (const raw of chosen) {
    const name = raw.trim();
    if (!name) continue;
    // INBOX is case-insensitive (RFC 3501); other names are compared as the server spells them.
    const f = /^inbox$/i.test(name) ? server.find((x) => /^inbox$/i.test(x.path)) ?? { path: 'INBOX' } : server.find((x) => x.path === name);
    if (!f || !isSelectable(f)) {
      return { ok: false, code: 'folder_not_found', folder: name, message: `The mailbox has no folder "${name}". Choose from the folders the server lists (GET /connections/{id}/folders).` };
    }
    const reason = neverSyncedReason(f);
    if (reason) {
      return {
        ok: false,
        code: 'folder_never_synced',
        folder: f.path,
        reason,
        message: `"${f.path}" holds ${REASON_WORDS[reason]}, which Mailroom never syncs: it would show private mail to your team. Leave it out.`,
      };
    }
    if (!out.includes(f.path)) out.push(f.path);
  }
  const inbox = out.find((p) => /^inbox$/i.test(p));
  if (!inbox) return { ok: false, code: 'inbox_required', message: 'INBOX is always synced (new mail is noticed there); include it in the list.' };
  return { ok: true, folders: [inbox, ...out.filter((p) => p !== inbox)] };
}
