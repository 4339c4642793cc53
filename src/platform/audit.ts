import { newId } from './database/ids.js';
import type { Executor } from './context.js';

export interface AuditEntry {
  accountId: string;
  actorUserId: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  data?: Record<string, unknown>;
  at: number;
}

/** Writes an audit event. Call it inside the same transaction as the mutation it describes. */
export async function recordAudit(trx: Executor, e: AuditEntry): Promise<void> {
  await trx
    .insertInto('audit_events')
    .values({
      id: newId('aud'),
      account_id: e.accountId,
      actor_user_id: e.actorUserId,
      action: e.action,
      target_type: e.targetType,
      target_id: e.targetId,
      data: JSON.stringify(e.data ?? {}),
      created_at: e.at,
    })
    .execute();
}
