import crypto from 'node:crypto';
import { AppError, notFound } from '../../../platform/errors.js';
import { checkConnectionUpdate } from '../domain/connection-rules.js';
import { userFactsFromRow } from '../../accounts/index.js';
import { enqueue } from '../../../platform/jobs/queue.js';
import { recordAudit } from '../../../platform/audit.js';
import { connectionViewById, loadConnection } from '../queries.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { refusalError } from './connectEmail.js';

export const FORWARDING_TEST_JOB = 'connection.forwarding_test';

/**
 * Asks for a forwarding check of a team address connected by forwarding: a test email goes to the address
 * through its own SMTP server (the `connection.forwarding_test` job) and the connection shows it verified
 * when it comes back through the customer's forwarding to our inbound SMTP. Who may change the team
 * address's settings may run it. Audited.
 */
export async function sendForwardingTest(env: CommandEnv, actor: Actor, connectionId: string) {
  const now = env.now();
  const result = await env.db.transaction().execute(async (trx) => {
    const c = await loadConnection(trx, actor.accountId, connectionId);
    if (c.type !== 'team') throw notFound('Connection');
    const decision = checkConnectionUpdate(userFactsFromRow(actor.user), { type: 'team', userId: c.user_id, inboxId: c.inbox_id, addressKey: c.address }, { teamSettings: true });
    if (!decision.ok) throw refusalError(decision.refusal);
    if (c.disconnected_at !== null) throw new AppError('connection_disconnected', 409, `${c.address} is disconnected. Connect it again first.`);
    if (c.transport !== 'forwarding' || !c.forwarding_address) throw new AppError('not_forwarding', 409, `${c.address} is connected over IMAP, not by forwarding: there is no forwarding to check.`);
    const token = `ft_${crypto.randomBytes(12).toString('base64url').replace(/[^A-Za-z0-9]/g, '')}`;
    await trx
      .updateTable('connections')
      .set({ forwarding_test_token: token, forwarding_test_requested_at: now, forwarding_test_sent_at: null, forwarding_test_error: null, updated_at: now })
      .where('id', '=', c.id)
      .execute();
    await enqueue(trx, now, { kind: FORWARDING_TEST_JOB, payload: { connectionId: c.id, token }, maxAttempts: 1 });
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'connection.forwarding_test', targetType: 'connection', targetId: c.id, data: {}, at: now });
    return connectionViewById(trx, actor.accountId, c.id);
  });
  env.onJobsQueued?.();
  return result;
}
