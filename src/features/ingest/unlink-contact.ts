import type { CommandEnv, Executor } from '../../platform/context.js';

/**
 * Ingest's part of deleting a contact (a `contactDeleting` reaction, inside the deletion's transaction):
 * the conversations the ingest linked to the contact (team and personal) stay, unlinked (`contact_id`
 * null). The next message stored in such a conversation links it again to the first of its participants
 * who is a contact then, as for a conversation that never had one.
 */
export async function unlinkDeletedContact(trx: Executor, p: { accountId: string; contactId: string; now: number }, _env: CommandEnv): Promise<void> {
  await unlinkStatement(trx, p).execute();
}

/** The update, by `conversations_linked_contact_idx` (migration 040). Exported for its plan test. */
export function unlinkStatement(trx: Executor, p: { accountId: string; contactId: string }) {
  return trx.updateTable('conversations').set({ contact_id: null }).where('contact_id', '=', p.contactId).where('account_id', '=', p.accountId);
}
