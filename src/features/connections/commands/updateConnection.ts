import { AppError, invalidRequest, notFound } from '../../../platform/errors.js';
import { isAdmin, userFactsFromRow } from '../../accounts/index.js';
import { checkConnectionUpdate } from '../domain/connection-rules.js';
import { refusalError } from './connectEmail.js';
import { limitsFor } from '../../accounts/index.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { connectionViewById, loadConnection } from '../queries.js';
import { loadFolderConnection, requireValidSelection, serverFoldersOf } from './listConnectionFolders.js';

export interface UpdateConnectionInput {
  /** Personal: use this address for meetings (at most one per user; setting it clears the others). */
  useForMeetings?: boolean;
  /** Personal: make this the default "from" (exactly one per user). */
  isDefaultFrom?: boolean;
  /** Team: how the From name of replies reads. */
  senderName?: { mode: 'agent_at_inbox' | 'inbox' | 'company' | 'custom'; custom?: string | null };
  /** Team: signature with placeholders such as {agent_first_name}. */
  signature?: string | null;
  /** Lower the send caps below the plan's (never above). null = the plan's. */
  sendLimits?: { perDay?: number | null; perMinute?: number | null };
  /** Initial sync window in days; null = everything. */
  syncWindowDays?: number | null;
  /** IMAP folders to sync (default: INBOX, plus Sent for personal email); checked like PUT /connections/{id}/folders. */
  folders?: string[];
}

/**
 * Changes a connection's flags and settings. The meetings flag is refused on team email (rule 4); the
 * default "from" and meetings flags stay unique per user (the database's partial unique indexes back it).
 */
export async function updateConnection(env: CommandEnv, actor: Actor, connectionId: string, input: UpdateConnectionInput) {
  // Folders are checked against the mailbox's server first (outside the transaction: it is a network call).
  let folders: string[] | undefined;
  if (input.folders !== undefined) {
    const c = await loadConnection(env.db, actor.accountId, connectionId);
    if (c.type === 'personal' && c.user_id !== actor.user.id && !isAdmin(actor.user)) throw notFound('Connection');
    if (c.transport !== 'imap') throw invalidRequest('Only IMAP connections sync folders; forwarded mail arrives by itself.', { field: 'folders' });
    // Who may choose them: the owner of a personal mailbox only (its folder names are private), admins for team email.
    if (c.disconnected_at === null) folders = requireValidSelection(input.folders, await serverFoldersOf(env, await loadFolderConnection(env, actor, connectionId)));
  }
  return env.db.transaction().execute(async (trx) => {
    const c = await loadConnection(trx, actor.accountId, connectionId);
    const owner = c.user_id === actor.user.id;
    if (c.type === 'personal' && !owner && !isAdmin(actor.user)) throw notFound('Connection');
    const decision = checkConnectionUpdate(
      userFactsFromRow(actor.user),
      { type: c.type as 'personal' | 'team', userId: c.user_id, inboxId: c.inbox_id, addressKey: c.address },
      { useForMeetings: input.useForMeetings, isDefaultFrom: input.isDefaultFrom, teamSettings: input.senderName !== undefined || input.signature !== undefined },
    );
    if (!decision.ok) throw refusalError(decision.refusal);
    if (c.disconnected_at !== null) throw new AppError('connection_disconnected', 409, `${c.address} is disconnected. Connect it again to change its settings.`);
    const patch: Record<string, unknown> = {};
    if (input.useForMeetings !== undefined) {
      if (input.useForMeetings) await trx.updateTable('connections').set({ use_for_meetings: 0 }).where('user_id', '=', c.user_id).where('use_for_meetings', '=', 1).where('id', '!=', c.id).execute();
      patch.use_for_meetings = input.useForMeetings ? 1 : 0;
    }
    if (input.isDefaultFrom !== undefined) {
      if (!input.isDefaultFrom && c.is_default_from === 1) throw invalidRequest('Choose another address as default instead: one of your addresses is always the default.', { field: 'isDefaultFrom' });
      if (input.isDefaultFrom) {
        await trx.updateTable('connections').set({ is_default_from: 0 }).where('user_id', '=', c.user_id).where('is_default_from', '=', 1).where('id', '!=', c.id).execute();
        patch.is_default_from = 1;
      }
    }
    if (input.senderName !== undefined || input.signature !== undefined) {
      if (input.senderName) {
        if (input.senderName.mode === 'custom' && !input.senderName.custom?.trim()) throw invalidRequest('Enter the custom sender name.', { field: 'senderName.custom' });
        patch.sender_name_mode = input.senderName.mode;
        patch.sender_name_custom = input.senderName.mode === 'custom' ? input.senderName.custom!.trim() : null;
      }
      if (input.signature !== undefined) patch.signature = input.signature;
    }
    if (input.sendLimits) {
      const plan = limitsFor(actor.plan);
      const { perDay, perMinute } = input.sendLimits;
      if (perDay != null && (perDay < 1 || perDay > plan.sendsPerDay)) throw invalidRequest(`The daily send limit must be between 1 and your plan's ${plan.sendsPerDay}.`, { field: 'sendLimits.perDay' });
      if (perMinute != null && (perMinute < 1 || perMinute > plan.sendsPerMinute)) throw invalidRequest(`The per-minute send limit must be between 1 and your plan's ${plan.sendsPerMinute}.`, { field: 'sendLimits.perMinute' });
      if (perDay !== undefined) patch.send_limit_day = perDay;
      if (perMinute !== undefined) patch.send_limit_minute = perMinute;
    }
    if (input.syncWindowDays !== undefined) patch.sync_window_days = input.syncWindowDays;
    if (folders !== undefined) patch.folders = JSON.stringify(folders);
    if (Object.keys(patch).length) {
      patch.updated_at = env.now();
      await trx.updateTable('connections').set(patch).where('id', '=', c.id).execute();
    }
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'connection.updated', targetType: 'connection', targetId: c.id, data: { changed: Object.keys(input) }, at: env.now() });
    return connectionViewById(trx, actor.accountId, c.id);
  });
}
