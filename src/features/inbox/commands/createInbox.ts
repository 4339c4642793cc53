import { checkCreateInbox } from '../../connections/index.js';
import { invalidRequest } from '../../../platform/errors.js';
import { newId } from '../../../platform/database/ids.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { refusalError } from '../../connections/index.js';
import { inboxView } from '../views.js';
import { inboxPolicies } from '../policies.js';
import { authorize } from '../../../platform/authorize.js';

/** Creates a conversations inbox, up to the plan's count. Needs the account-access permission. */
export async function createInbox(env: CommandEnv, actor: Actor, input: { name: string; access?: 'everyone' | 'restricted' }) {
  authorize(actor, inboxPolicies.create);
  const name = input.name?.trim();
  if (!name) throw invalidRequest('An inbox needs a name, e.g. "Support".', { field: 'name' });
  const now = env.now();
  const id = newId('inb');
  return env.db.transaction().execute(async (trx) => {
    const { n } = await trx.selectFrom('inboxes').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', actor.accountId).where('deleted_at', 'is', null).executeTakeFirstOrThrow();
    const decision = checkCreateInbox({ plan: actor.plan, inboxCount: Number(n) });
    if (!decision.ok) throw refusalError(decision.refusal);
    const row = { id, account_id: actor.accountId, name, access: input.access ?? 'everyone', settings: '{}', created_at: now, deleted_at: null };
    await trx.insertInto('inboxes').values(row).execute();
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'inbox.created', targetType: 'inbox', targetId: id, data: { name }, at: now });
    return inboxView(row, []);
  });
}
