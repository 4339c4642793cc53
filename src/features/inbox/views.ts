import type { InboxesTable } from '../../platform/database/schema.js';
import type { Executor } from '../../platform/context.js';
import { notFound } from '../../platform/errors.js';

export interface InboxChannelView {
  id: string;
  address: string;
  transport: string;
  state: string;
  /** How replies from this address are named: mode and custom text (see domain/inbox/sender.ts). */
  senderName: { mode: string; custom: string | null };
}

export function inboxView(i: InboxesTable, connections: InboxChannelView[]) {
  return {
    id: i.id,
    name: i.name,
    access: i.access,
    connections,
    createdAt: new Date(i.created_at).toISOString(),
  };
}

export async function loadInbox(db: Executor, accountId: string, id: string): Promise<InboxesTable> {
  const i = await db.selectFrom('inboxes').selectAll().where('id', '=', id).where('account_id', '=', accountId).where('deleted_at', 'is', null).executeTakeFirst();
  if (!i) throw notFound('Inbox');
  return i;
}

export async function inboxViewById(db: Executor, accountId: string, id: string) {
  const i = await loadInbox(db, accountId, id);
  const conns = await db.selectFrom('connections').select(['id', 'address', 'transport', 'state', 'sender_name_mode', 'sender_name_custom']).where('inbox_id', '=', id).where('disconnected_at', 'is', null).execute();
  return inboxView(
    i,
    conns.map((c) => ({ id: c.id, address: c.address, transport: c.transport, state: c.state, senderName: { mode: c.sender_name_mode ?? 'agent_at_inbox', custom: c.sender_name_custom } })),
  );
}
