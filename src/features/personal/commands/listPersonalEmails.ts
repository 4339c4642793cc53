import { isOutboxState, OUTBOX_STATES } from '../../outbox/index.js';
import { invalidRequest } from '../../../platform/errors.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { personalEmailViews, type PersonalEmailView } from '../queries.js';

/** The actor's own emails sent or scheduled from the CRM, newest first (optionally for one contact or state). */
export async function listPersonalEmails(env: CommandEnv, actor: Actor, q: { contactId?: string; state?: string; limit?: number } = {}): Promise<{ emails: PersonalEmailView[] }> {
  let query = env.db
    .selectFrom('personal_emails')
    .innerJoin('outbox', 'outbox.id', 'personal_emails.outbox_id')
    .selectAll('personal_emails')
    .where('personal_emails.account_id', '=', actor.accountId)
    .where('personal_emails.user_id', '=', actor.user.id);
  if (q.contactId) query = query.where('personal_emails.contact_id', '=', q.contactId);
  if (q.state) {
    if (!isOutboxState(q.state)) throw invalidRequest(`Unknown state "${q.state}". Use one of ${OUTBOX_STATES.join(', ')}.`, { field: 'state' });
    query = query.where('outbox.state', '=', q.state);
  }
  const rows = await query.orderBy('personal_emails.created_at', 'desc').limit(Math.min(q.limit ?? 50, 200)).execute();
  return { emails: await personalEmailViews(env.db, rows) };
}
