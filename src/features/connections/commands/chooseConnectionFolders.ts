import { AppError } from '../../../platform/errors.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { recordAudit } from '../../../platform/audit.js';
import { enqueue } from '../../../platform/jobs/queue.js';
import { readJson, json } from '../../../platform/database/json.js';
import { loadConnection } from '../queries.js';
import { folderViews, loadFolderConnection, requireValidSelection, serverFoldersOf } from './listConnectionFolders.js';

/**
 * Chooses which folders (Gmail labels) of a mailbox are synced (issue 21). Checked against the folders its
 * server lists now: an unknown one is refused (folder_not_found), spam, trash and drafts are refused with
 * why (folder_never_synced), INBOX stays. The sync takes exactly the new list from its next pass (the
 * worker holding the mailbox reconnects with it); a folder left out stops being synced, and what was
 * already logged from it stays.
 */
export async function chooseConnectionFolders(env: CommandEnv, actor: Actor, connectionId: string, chosen: string[]) {
  const c = await loadFolderConnection(env, actor, connectionId);
  const server = await serverFoldersOf(env, c);
  const folders = requireValidSelection(chosen, server);
  await env.db.transaction().execute(async (trx) => {
    const now = env.now();
    const current = await loadConnection(trx, actor.accountId, c.id);
    if (current.disconnected_at !== null) throw new AppError('connection_disconnected', 409, `${c.address} is disconnected. Connect it again to choose its folders.`);
    const before = readJson('connections.folders', current.folders, json.stringArray, []);
    await trx.updateTable('connections').set({ folders: JSON.stringify(folders), updated_at: now }).where('id', '=', c.id).execute();
    await recordAudit(trx, {
      accountId: actor.accountId,
      actorUserId: actor.user.id,
      action: 'connection.folders_chosen',
      targetType: 'connection',
      targetId: c.id,
      data: { added: folders.filter((f) => !before.includes(f)).length, removed: before.filter((f) => !folders.includes(f)).length },
      at: now,
    });
    // Sync the newly chosen folders now (a process without a supervisor runs it as a job).
    await enqueue(trx, now, { queue: 'sync', kind: 'connection.sync', payload: { connectionId: c.id }, dedupeKey: `sync:${c.id}` });
  });
  return { folders: folderViews(server, folders), selected: folders };
}
