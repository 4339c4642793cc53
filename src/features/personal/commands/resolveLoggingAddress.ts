/**
 * Inbound SMTP for BCC / forwarding logging addresses: the recipient resolves to the owner's default
 * personal connection (where the message is stored, private to them), and the message is accepted only
 * when its From is one of the owner's own live connected addresses; anything else is refused (550) with a
 * reason that names nobody. Oversized mail is refused by the inbound server's size limit (552).
 */
import { addressInHeader } from '../domain/bcc.js';
import { firstField, readHeaderBlock } from '../../../mail/message/header-block.js';
import { mailKey } from '../domain/logging.js';
import type { ConnectionsTable } from '../../../platform/database/schema.js';
import type { Executor } from '../../../platform/context.js';

export const NOT_FROM_OWNER = 'This logging address only accepts mail from the connected email addresses of the person it belongs to.';

export async function resolveLoggingAddress(db: Executor, address: string): Promise<{ connection: ConnectionsTable; userId: string } | null> {
  const row = await db.selectFrom('logging_addresses').select(['user_id', 'account_id']).where('address', '=', address.trim().toLowerCase()).executeTakeFirst();
  if (!row) return null;
  const user = await db.selectFrom('users').select('state').where('id', '=', row.user_id).executeTakeFirst();
  if (user?.state !== 'active') return null;
  const connections = await db
    .selectFrom('connections')
    .selectAll()
    .where('account_id', '=', row.account_id)
    .where('user_id', '=', row.user_id)
    .where('type', '=', 'personal')
    .where('disconnected_at', 'is', null)
    .execute();
  const connection = connections.sort((a, b) => b.is_default_from - a.is_default_from)[0];
  return connection ? { connection, userId: row.user_id } : null;
}

/** null when the message's From is one of the user's live personal addresses, else the refusal. */
export async function checkLoggedMailSender(db: Executor, userId: string, raw: Buffer): Promise<string | null> {
  const head = raw.subarray(0, 256 * 1024).toString('latin1');
  const from = addressInHeader(firstField(readHeaderBlock(head).fields, 'from'));
  if (!from) return NOT_FROM_OWNER;
  const own = await db.selectFrom('connections').select('address_key').where('user_id', '=', userId).where('type', '=', 'personal').where('disconnected_at', 'is', null).execute();
  return own.some((c) => c.address_key === mailKey(from)) ? null : NOT_FROM_OWNER;
}
